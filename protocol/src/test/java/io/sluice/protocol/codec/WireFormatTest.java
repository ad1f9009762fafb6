package io.sluice.protocol.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import com.fasterxml.jackson.dataformat.cbor.CBORParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.kinesis.Kinesis;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class WireFormatTest {

    @Test
    void readsJsonRequestWithBase64BlobAndPascalCaseNames() {
        String body = "{\"StreamName\":\"foo\",\"Data\":\"YQ==\",\"PartitionKey\":\"a\"}";
        Kinesis.PutRecordRequest r = WireFormat.JSON.read(body.getBytes(StandardCharsets.UTF_8), Kinesis.PutRecordRequest.class);
        assertEquals("foo", r.streamName());
        assertArrayEquals("a".getBytes(), r.data());
        assertEquals("a", r.partitionKey());
        assertNull(r.explicitHashKey());
    }

    @Test
    void writesJsonTimestampsAsFractionalEpochSecondsAndLeavesOutAbsentMembers() throws Exception {
        var record = new Kinesis.Record("1", Instant.ofEpochMilli(1499878905118L), "b".getBytes(), "b", null);
        String text = new String(WireFormat.JSON.write(record), StandardCharsets.UTF_8);
        assertTrue(text.contains("\"ApproximateArrivalTimestamp\":1499878905.118"), text);
        JsonNode node = new ObjectMapper().readTree(text);
        assertTrue(node.get("ApproximateArrivalTimestamp").isNumber());
        assertEquals("Yg==", node.get("Data").asText());
        assertFalse(node.has("EncryptionType"));
    }

    @Test
    void keepsKeyIdNullInStreamDescriptionAsAwsDoes() throws Exception {
        var d = new Kinesis.StreamDescription("foo", "arn", "ACTIVE", null, List.of(), false, 24, Instant.EPOCH,
                List.of(), "NONE", null);
        JsonNode node = new ObjectMapper().readTree(WireFormat.JSON.write(d));
        assertTrue(node.has("KeyId"));
        assertTrue(node.get("KeyId").isNull());
        assertEquals("NONE", node.get("EncryptionType").asText());
    }

    @Test
    void writesCborTimestampsAsTagOneWithEpochMillisAndBlobsAsByteStrings() throws Exception {
        var record = new Kinesis.Record("1", Instant.ofEpochMilli(1499878905118L), new byte[] {1, 2, 3}, "k", null);
        byte[] cbor = WireFormat.CBOR.write(record);
        CBORParser p = new CBORFactory().createParser(cbor);
        boolean sawTimestamp = false;
        boolean sawData = false;
        while (p.nextToken() != null) {
            if (p.currentToken() == JsonToken.FIELD_NAME && p.currentName().equals("ApproximateArrivalTimestamp")) {
                assertEquals(JsonToken.VALUE_NUMBER_INT, p.nextToken());
                assertEquals(1, p.getCurrentTag());
                assertEquals(1499878905118L, p.getLongValue());
                sawTimestamp = true;
            } else if (p.currentToken() == JsonToken.FIELD_NAME && p.currentName().equals("Data")) {
                assertEquals(JsonToken.VALUE_EMBEDDED_OBJECT, p.nextToken());
                assertArrayEquals(new byte[] {1, 2, 3}, p.getBinaryValue());
                sawData = true;
            }
        }
        assertTrue(sawTimestamp && sawData);
    }

    @Test
    void readsCborTimestampInMillisAsTheSdkWritesIt() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CBORGenerator g = new CBORFactory().createGenerator(out);
        g.writeStartObject();
        g.writeStringField("StreamName", "s");
        g.writeStringField("ShardId", "shardId-000000000000");
        g.writeStringField("ShardIteratorType", "AT_TIMESTAMP");
        g.writeFieldName("Timestamp");
        g.writeTag(1);
        g.writeNumber(1700000000123L);
        g.writeEndObject();
        g.close();
        var r = WireFormat.CBOR.read(out.toByteArray(), Kinesis.GetShardIteratorRequest.class);
        assertEquals(Instant.ofEpochMilli(1700000000123L), r.timestamp());
    }

    @Test
    void readsJsonTimestampInFractionalSeconds() {
        String body = "{\"ShardId\":\"s\",\"ShardIteratorType\":\"AT_TIMESTAMP\",\"Timestamp\":1700000000.5}";
        var r = WireFormat.JSON.read(body.getBytes(), Kinesis.GetShardIteratorRequest.class);
        assertEquals(Instant.ofEpochMilli(1700000000500L), r.timestamp());
    }

    @Test
    void roundTripsEveryResponseShapeInBothFormats() {
        var response = new Kinesis.PutRecordsResponse(1, List.of(
                new Kinesis.PutRecordsResultEntry("49", "shardId-000000000000", null, null),
                new Kinesis.PutRecordsResultEntry(null, null, "ProvisionedThroughputExceededException", "Rate exceeded")), "KMS");
        for (WireFormat f : WireFormat.values()) {
            assertEquals(response, f.read(f.write(response), Kinesis.PutRecordsResponse.class), f.name());
        }
    }

    @Test
    void malformedBodiesAreSerializationExceptions() {
        ApiException e = assertThrows(ApiException.class,
                () -> WireFormat.JSON.read("{\"StreamName\":".getBytes(), Kinesis.DescribeStreamRequest.class));
        assertEquals(AwsError.SerializationException, e.error());
        ApiException cbor = assertThrows(ApiException.class,
                () -> WireFormat.CBOR.read(new byte[] {(byte) 0xbf, 0x61}, Kinesis.DescribeStreamRequest.class));
        assertEquals(AwsError.SerializationException, cbor.error());
    }

    @Test
    void badBase64AndWrongTypesAreSerializationExceptions() {
        assertEquals(AwsError.SerializationException, assertThrows(ApiException.class, () -> WireFormat.JSON.read(
                "{\"Data\":\"!!!not base64\",\"PartitionKey\":\"a\"}".getBytes(), Kinesis.PutRecordRequest.class)).error());
        assertEquals(AwsError.SerializationException, assertThrows(ApiException.class, () -> WireFormat.JSON.read(
                "{\"StreamName\":\"a\",\"ShardCount\":\"three\"}".getBytes(), Kinesis.CreateStreamRequest.class)).error());
    }

    @Test
    void emptyBodyIsAnEmptyStructure() {
        assertEquals(new Kinesis.ListStreamsRequest(null, null, null),
                WireFormat.JSON.read(new byte[0], Kinesis.ListStreamsRequest.class));
        assertEquals(new Kinesis.ListStreamsRequest(null, null, null),
                WireFormat.CBOR.read(new byte[0], Kinesis.ListStreamsRequest.class));
    }

    @Test
    void errorsCarryTypeAndMessage() throws Exception {
        JsonNode node = new ObjectMapper().readTree(WireFormat.JSON.error(AwsError.ResourceNotFoundException, "Stream x not found."));
        assertEquals("ResourceNotFoundException", node.get("__type").asText());
        assertEquals("Stream x not found.", node.get("message").asText());
        JsonNode cbor = new ObjectMapper(new CBORFactory()).readTree(WireFormat.CBOR.error(AwsError.ValidationException, "bad"));
        assertEquals("ValidationException", cbor.get("__type").asText());
    }

    @Test
    void picksFormatFromContentType() {
        assertEquals(WireFormat.CBOR, WireFormat.fromContentType("application/x-amz-cbor-1.1"));
        assertEquals(WireFormat.JSON, WireFormat.fromContentType("application/x-amz-json-1.1"));
        assertEquals(WireFormat.JSON, WireFormat.fromContentType(null));
    }
}
