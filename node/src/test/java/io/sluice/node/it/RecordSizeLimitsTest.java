package io.sluice.node.it;

import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The record and request size limits at their boundaries, through the AWS SDK on a real node, with
 * partition keys of two- and four-byte characters: AWS counts a record as its data plus its
 * partition key in UTF-8 bytes, for the 1 MiB record limit and the 5 MiB PutRecords total alike.
 */
class RecordSizeLimitsTest {
    static final int MIB = 1 << 20;
    static final String STREAM = "sizes";
    static TestNode node;
    static KinesisClient kinesis;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "").start();
        kinesis = node.kinesisClient();
        TestNode.createActive(kinesis, STREAM, 4);
    }

    @AfterAll
    static void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    static int utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** 256 UTF-16 chars, 511 bytes in UTF-8 (two-byte é, or four-byte 😀); distinct, so the records spread over shards. */
    static String key(int i) {
        return (char) ('a' + i) + (i % 2 == 0 ? "é".repeat(255) : "é" + "😀".repeat(127));
    }

    static PutRecordsRequestEntry entry(String key, int dataBytes) {
        return PutRecordsRequestEntry.builder().partitionKey(key).data(SdkBytes.fromByteArray(new byte[dataBytes])).build();
    }

    /** Ten records of 512 KiB each (data plus key in UTF-8): 5 MiB in all, plus {@code extra} bytes of data on the last. */
    static List<PutRecordsRequestEntry> fiveMiB(int extra) {
        List<PutRecordsRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            assertEquals(256, key(i).length());
            assertEquals(511, utf8(key(i)));
            entries.add(entry(key(i), MIB / 2 - utf8(key(i)) + (i == 9 ? extra : 0)));
        }
        return entries;
    }

    static KinesisException refused(Runnable call) {
        return assertThrows(KinesisException.class, call::run);
    }

    @Test
    void aPutRecordsOfExactlyFiveMiBCountingKeysInUtf8IsAccepted() {
        PutRecordsResponse r = kinesis.putRecords(b -> b.streamName(STREAM).records(fiveMiB(0)));
        assertEquals(0, r.failedRecordCount());
        assertEquals(10, r.records().size());
    }

    @Test
    void aPutRecordsOneByteOverFiveMiBInUtf8IsRefusedInAwsWords() {
        KinesisException e = refused(() -> kinesis.putRecords(b -> b.streamName(STREAM).records(fiveMiB(1))));
        assertEquals(400, e.statusCode());
        assertEquals("InvalidArgumentException", e.awsErrorDetails().errorCode());
        assertEquals("Records size exceeds 5 MB limit", e.awsErrorDetails().errorMessage());
    }

    @Test
    void aRecordOfExactlyOneMiBWithAMultiByteKeyIsAcceptedAndOneByteMoreIsNot() {
        String key = "😀".repeat(128); // 256 chars, 512 bytes
        int data = MIB - utf8(key);
        assertEquals(0, kinesis.putRecords(b -> b.streamName(STREAM).records(entry("k", 10), entry(key, data)))
                .failedRecordCount());
        kinesis.putRecord(b -> b.streamName(STREAM).partitionKey(key).data(SdkBytes.fromByteArray(new byte[data])));

        KinesisException many = refused(() -> kinesis.putRecords(b -> b.streamName(STREAM)
                .records(entry("k", 10), entry(key, data + 1))));
        assertEquals("ValidationException", many.awsErrorDetails().errorCode());
        assertEquals("1 validation error detected: Value at 'records.2.member.data' failed to satisfy constraint: "
                + "Member must have length less than or equal to 1048576", many.awsErrorDetails().errorMessage());
        KinesisException one = refused(() -> kinesis.putRecord(b -> b.streamName(STREAM).partitionKey(key)
                .data(SdkBytes.fromByteArray(new byte[data + 1]))));
        assertEquals("ValidationException", one.awsErrorDetails().errorCode());
        assertEquals("1 validation error detected: Value at 'data' failed to satisfy constraint: "
                + "Member must have length less than or equal to 1048576", one.awsErrorDetails().errorMessage());
    }
}
