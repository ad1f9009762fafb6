package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input at the HTTP level gets an AWS-shaped error, in the request's format, with a request
 * id, changes nothing, and the node keeps serving the next good request.
 */
class MalformedRequestTest {
    static TestNode node;
    static SignedHttp http;
    static final String JSON = "application/x-amz-json-1.1";
    static final String CBOR = "application/x-amz-cbor-1.1";
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "").start();
        http = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey);
        HttpResponse<byte[]> created = http.post("Kinesis_20131202.CreateStream", JSON,
                "{\"StreamName\":\"raw\",\"ShardCount\":1}".getBytes());
        assertEquals(200, created.statusCode(), new String(created.body()));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode error(HttpResponse<byte[]> r, int status, String type) throws Exception {
        assertEquals(status, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertTrue(r.headers().firstValue("x-amzn-RequestId").isPresent());
        String contentType = r.headers().firstValue("Content-Type").orElse("");
        JsonNode body = contentType.contains("cbor") ? new ObjectMapper(new CBORFactory()).readTree(r.body()) : json.readTree(r.body());
        assertEquals(type, body.get("__type").asText(), body.toString());
        assertTrue(body.hasNonNull("message"));
        assertEquals(type, r.headers().firstValue("x-amzn-ErrorType").orElse(""));
        return body;
    }

    static void stillServes() throws Exception {
        HttpResponse<byte[]> put = http.post("Kinesis_20131202.PutRecord", JSON,
                "{\"StreamName\":\"raw\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}".getBytes());
        assertEquals(200, put.statusCode(), new String(put.body()));
        assertTrue(json.readTree(put.body()).get("SequenceNumber").asText().matches("\\d{56}"));
    }

    @Test
    void malformedJsonIsASerializationException() throws Exception {
        error(http.post("Kinesis_20131202.PutRecord", JSON, "{\"StreamName\":\"raw\",".getBytes()), 400, "SerializationException");
        stillServes();
    }

    @Test
    void malformedCborIsASerializationExceptionInCbor() throws Exception {
        HttpResponse<byte[]> r = http.post("Kinesis_20131202.PutRecord", CBOR, new byte[] {(byte) 0xbf, 0x63, 0x41});
        assertEquals(CBOR, r.headers().firstValue("Content-Type").orElse(""));
        error(r, 400, "SerializationException");
        stillServes();
    }

    @Test
    void badBase64IsRefused() throws Exception {
        error(http.post("Kinesis_20131202.PutRecord", JSON,
                "{\"StreamName\":\"raw\",\"Data\":\"%%%\",\"PartitionKey\":\"k\"}".getBytes()), 400, "SerializationException");
        stillServes();
    }

    @Test
    void unknownOrMissingOperationsAreUnknownOperationExceptions() throws Exception {
        error(http.post("Kinesis_20131202.FlyToTheMoon", JSON, "{}".getBytes()), 400, "UnknownOperationException");
        error(http.post(null, JSON, "{}".getBytes()), 400, "UnknownOperationException");
        error(http.send("GET", "/", "Kinesis_20131202.ListStreams", JSON, new byte[0], true), 400, "UnknownOperationException");
        stillServes();
    }

    @Test
    void missingFieldsAreValidationExceptionsInAwsWords() throws Exception {
        JsonNode body = error(http.post("Kinesis_20131202.PutRecord", JSON, "{\"StreamName\":\"raw\"}".getBytes()),
                400, "ValidationException");
        assertEquals("2 validation errors detected: Value null at 'data' failed to satisfy constraint: Member must not be null; "
                + "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null", body.get("message").asText());
        error(http.post("Kinesis_20131202.PutRecords", JSON, "{\"StreamName\":\"raw\",\"Records\":[]}".getBytes()),
                400, "ValidationException");
        stillServes();
    }

    @Test
    void oversizeRecordsAreRefused() throws Exception {
        String big = java.util.Base64.getEncoder().encodeToString(new byte[(1 << 20) + 1]);
        error(http.post("Kinesis_20131202.PutRecord", JSON,
                ("{\"StreamName\":\"raw\",\"Data\":\"" + big + "\",\"PartitionKey\":\"k\"}").getBytes()), 400, "ValidationException");
        stillServes();
    }

    @Test
    void unsignedAndBadlySignedRequestsAreRefused() throws Exception {
        error(http.send("POST", "/", "Kinesis_20131202.ListStreams", JSON, "{}".getBytes(), false),
                400, "MissingAuthenticationTokenException");
        SignedHttp wrong = new SignedHttp(node.endpoint(), node.accessKeyId, "not-the-secret");
        error(wrong.post("Kinesis_20131202.ListStreams", JSON, "{}".getBytes()), 400, "InvalidSignatureException");
        SignedHttp stranger = new SignedHttp(node.endpoint(), "AKIANOBODY0000000000", "x");
        error(stranger.post("Kinesis_20131202.ListStreams", JSON, "{}".getBytes()), 400, "UnrecognizedClientException");
        stillServes();
    }

    @Test
    void forgedIteratorsAreRefused() throws Exception {
        error(http.post("Kinesis_20131202.GetRecords", JSON, "{\"ShardIterator\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}".getBytes()),
                400, "InvalidArgumentException");
        stillServes();
    }
}
