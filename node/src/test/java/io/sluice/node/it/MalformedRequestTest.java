package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.datastax.oss.driver.api.core.CqlSession;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input at the HTTP level gets an AWS-shaped error, in the request's format, with a request
 * id, changes nothing (every stream's description, tags and records, read back through the API,
 * and every event in the journal are the same after the refused requests as before), and the node
 * keeps serving the next good request.
 */
class MalformedRequestTest {
    static TestNode node;
    static SignedHttp http;
    static CqlSession cql;
    static final String JSON = "application/x-amz-json-1.1";
    static final String CBOR = "application/x-amz-cbor-1.1";
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "").start();
        http = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey);
        cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()));
        call("CreateStream", "{\"StreamName\":\"raw\",\"ShardCount\":2}");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!call("DescribeStreamSummary", "{\"StreamName\":\"raw\"}").get("StreamDescriptionSummary")
                .get("StreamStatus").asText().equals("ACTIVE")) {
            assertTrue(System.nanoTime() < deadline, "raw did not become ACTIVE");
            Thread.sleep(50);
        }
        call("AddTagsToStream", "{\"StreamName\":\"raw\",\"Tags\":{\"team\":\"data\"}}");
        call("PutRecord", "{\"StreamName\":\"raw\",\"Data\":\"Zmlyc3Q=\",\"PartitionKey\":\"k\"}");
    }

    @AfterAll
    static void stop() {
        if (cql != null) cql.close();
        if (node != null) node.close();
    }

    /** A Kinesis call that must succeed, in JSON; returns its answer. */
    static JsonNode call(String operation, String body) throws Exception {
        HttpResponse<byte[]> r = http.post("Kinesis_20131202." + operation, JSON, body.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), () -> operation + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body().length == 0 ? json.nullNode() : json.readTree(r.body());
    }

    /** Every stream as the API shows it (summary, tags, every record of every shard) and every journal event. */
    static JsonNode everything() throws Exception {
        ObjectNode all = json.createObjectNode();
        JsonNode listed = call("ListStreams", "{\"Limit\":100}");
        assertFalse(listed.get("HasMoreStreams").asBoolean(), listed.toString());
        ObjectNode streams = all.putObject("streams");
        for (JsonNode name : listed.get("StreamNames")) {
            String quoted = json.writeValueAsString(name.asText());
            ObjectNode stream = streams.putObject(name.asText());
            stream.set("summary", call("DescribeStreamSummary", "{\"StreamName\":" + quoted + "}"));
            stream.set("tags", call("ListTagsForStream", "{\"StreamName\":" + quoted + "}"));
            ObjectNode records = stream.putObject("records");
            for (JsonNode shard : call("ListShards", "{\"StreamName\":" + quoted + "}").get("Shards")) {
                String shardId = shard.get("ShardId").asText();
                records.set(shardId, readAll(quoted, shardId));
            }
        }
        ArrayNode events = all.putArray("journal");
        cql.execute("SELECT persistence_id, partition_nr, sequence_nr FROM " + node.keyspace + ".messages").all().stream()
                .map(row -> row.getString("persistence_id") + "/" + row.getLong("partition_nr") + "/" + row.getLong("sequence_nr"))
                .sorted().forEach(events::add);
        return all;
    }

    static ArrayNode readAll(String quotedStream, String shardId) throws Exception {
        ArrayNode out = json.createArrayNode();
        String it = call("GetShardIterator", "{\"StreamName\":" + quotedStream + ",\"ShardId\":\"" + shardId
                + "\",\"ShardIteratorType\":\"TRIM_HORIZON\"}").get("ShardIterator").asText();
        for (int i = 0; i < 100; i++) {
            JsonNode got = call("GetRecords", "{\"ShardIterator\":\"" + it + "\"}");
            got.get("Records").forEach(out::add);
            if (got.get("Records").isEmpty() && got.get("MillisBehindLatest").asLong() == 0) return out;
            it = got.get("NextShardIterator").asText();
        }
        return fail("reading " + shardId + " from TRIM_HORIZON did not reach the end");
    }

    interface Refusals {
        void send() throws Exception;
    }

    /** Sends requests that must all be refused, then proves they changed nothing and that the node still serves. */
    static void refusedWithoutEffect(Refusals refusals) throws Exception {
        JsonNode before = everything();
        refusals.send();
        assertEquals(before, everything(), "a refused request changed something");
        stillServes();
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
        refusedWithoutEffect(() -> error(http.post("Kinesis_20131202.PutRecord", JSON, "{\"StreamName\":\"raw\",".getBytes()),
                400, "SerializationException"));
    }

    @Test
    void malformedCborIsASerializationExceptionInCbor() throws Exception {
        refusedWithoutEffect(() -> {
            HttpResponse<byte[]> r = http.post("Kinesis_20131202.PutRecord", CBOR, new byte[] {(byte) 0xbf, 0x63, 0x41});
            assertEquals(CBOR, r.headers().firstValue("Content-Type").orElse(""));
            error(r, 400, "SerializationException");
        });
    }

    @Test
    void badBase64IsRefused() throws Exception {
        refusedWithoutEffect(() -> error(http.post("Kinesis_20131202.PutRecord", JSON,
                "{\"StreamName\":\"raw\",\"Data\":\"%%%\",\"PartitionKey\":\"k\"}".getBytes()), 400, "SerializationException"));
    }

    @Test
    void unknownOrMissingOperationsAreUnknownOperationExceptions() throws Exception {
        refusedWithoutEffect(() -> {
            error(http.post("Kinesis_20131202.FlyToTheMoon", JSON, "{}".getBytes()), 400, "UnknownOperationException");
            error(http.post(null, JSON, "{\"StreamName\":\"raw\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}".getBytes()),
                    400, "UnknownOperationException");
            error(http.send("GET", "/", "Kinesis_20131202.ListStreams", JSON, new byte[0], true), 400, "UnknownOperationException");
        });
    }

    @Test
    void missingFieldsAreValidationExceptionsInAwsWords() throws Exception {
        refusedWithoutEffect(() -> {
            JsonNode body = error(http.post("Kinesis_20131202.PutRecord", JSON, "{\"StreamName\":\"raw\"}".getBytes()),
                    400, "ValidationException");
            assertEquals("2 validation errors detected: Value null at 'data' failed to satisfy constraint: Member must not be null; "
                    + "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null", body.get("message").asText());
            error(http.post("Kinesis_20131202.PutRecords", JSON, "{\"StreamName\":\"raw\",\"Records\":[]}".getBytes()),
                    400, "ValidationException");
        });
    }

    @Test
    void oversizeRecordsAreRefused() throws Exception {
        String big = java.util.Base64.getEncoder().encodeToString(new byte[(1 << 20) + 1]);
        refusedWithoutEffect(() -> error(http.post("Kinesis_20131202.PutRecord", JSON,
                ("{\"StreamName\":\"raw\",\"Data\":\"" + big + "\",\"PartitionKey\":\"k\"}").getBytes()), 400, "ValidationException"));
    }

    @Test
    void unsignedAndBadlySignedRequestsAreRefused() throws Exception {
        byte[] put = "{\"StreamName\":\"raw\",\"Data\":\"bm8=\",\"PartitionKey\":\"k\"}".getBytes();
        byte[] create = "{\"StreamName\":\"intruder\",\"ShardCount\":1}".getBytes();
        byte[] tag = "{\"StreamName\":\"raw\",\"Tags\":{\"owner\":\"intruder\"}}".getBytes();
        SignedHttp wrong = new SignedHttp(node.endpoint(), node.accessKeyId, "not-the-secret");
        SignedHttp stranger = new SignedHttp(node.endpoint(), "AKIANOBODY0000000000", "x");
        refusedWithoutEffect(() -> {
            error(http.send("POST", "/", "Kinesis_20131202.ListStreams", JSON, "{}".getBytes(), false),
                    400, "MissingAuthenticationTokenException");
            error(http.send("POST", "/", "Kinesis_20131202.PutRecord", JSON, put, false), 400, "MissingAuthenticationTokenException");
            error(wrong.post("Kinesis_20131202.ListStreams", JSON, "{}".getBytes()), 400, "InvalidSignatureException");
            error(wrong.post("Kinesis_20131202.PutRecord", JSON, put), 400, "InvalidSignatureException");
            error(wrong.post("Kinesis_20131202.CreateStream", JSON, create), 400, "InvalidSignatureException");
            error(stranger.post("Kinesis_20131202.ListStreams", JSON, "{}".getBytes()), 400, "UnrecognizedClientException");
            error(stranger.post("Kinesis_20131202.PutRecord", JSON, put), 400, "UnrecognizedClientException");
            error(stranger.post("Kinesis_20131202.AddTagsToStream", JSON, tag), 400, "UnrecognizedClientException");
        });
    }

    @Test
    void anUnsignedTargetCannotTurnASignedDescribeStreamIntoADeleteStream() throws Exception {
        // {"StreamName":"raw"} is as valid a DeleteStream body as a DescribeStream one
        byte[] describe = "{\"StreamName\":\"raw\"}".getBytes(StandardCharsets.UTF_8);
        refusedWithoutEffect(() -> {
            JsonNode body = error(http.postWithUnsignedTarget("Kinesis_20131202.DeleteStream", JSON, describe),
                    400, "InvalidSignatureException");
            assertEquals("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.", body.get("message").asText());
        });
        assertEquals("ACTIVE", call("DescribeStreamSummary", "{\"StreamName\":\"raw\"}").get("StreamDescriptionSummary")
                .get("StreamStatus").asText());
    }

    @Test
    void forgedIteratorsAreRefused() throws Exception {
        refusedWithoutEffect(() -> error(http.post("Kinesis_20131202.GetRecords", JSON,
                "{\"ShardIterator\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}".getBytes()),
                400, "InvalidArgumentException"));
    }
}
