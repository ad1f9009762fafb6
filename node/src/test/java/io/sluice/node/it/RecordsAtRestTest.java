package io.sluice.node.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.stream.StreamCrypto;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Encrypted records at rest, checked in the Cassandra tables: neither data nor partition key is
 * readable there, and a record's ciphertext opens only where it was written. Rows are moved by hand
 * (to another shard of the stream, and from another stream); reading them then gives an AWS-shaped
 * 400 naming the record (never a 500), is logged, and every other record is still served.
 */
class RecordsAtRestTest {
    private static final String SHARD_0 = "shardId-000000000000";
    private static final String SHARD_1 = "shardId-000000000001";
    private static final String UPPER_HALF = BigInteger.TWO.pow(127).add(BigInteger.ONE).toString();

    @Test
    void partitionKeysAreSealedAndMovedCiphertextIsRefusedWhileOtherRecordsAreServed() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        ((Logger) LoggerFactory.getLogger(StreamCrypto.class)).addAppender(logged);
        try (TestNode node = new TestNode(new MutableClock(), "").start();
             CqlSession cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()))) {
            KinesisClient kinesis = node.kinesisClient();
            for (String stream : List.of("plain", "sealed", "other")) {
                TestNode.createActive(kinesis, stream, 2);
                if (!stream.equals("plain")) {
                    kinesis.startStreamEncryption(b -> b.streamName(stream).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
                    TestNode.awaitActive(kinesis, stream);
                }
                // one PutRecord, one journal event: records 1..4 on each shard, marked by stream, shard and number
                for (int i = 1; i <= 4; i++) {
                    for (String shard : List.of(SHARD_0, SHARD_1)) {
                        String mark = stream + "/" + shard + "/" + i;
                        kinesis.putRecord(b -> b.streamName(stream).partitionKey("PK-MARKER-" + mark)
                                .explicitHashKey(shard.equals(SHARD_0) ? "0" : UPPER_HALF).data(SdkBytes.fromUtf8String("DATA-" + mark)));
                    }
                }
            }
            // nothing of an encrypted record in the clear; the same check sees the plain stream's
            assertTrue(journalHolds(cql, node, kinesis, "plain", SHARD_0, "PK-MARKER-"), "the check cannot see a partition key");
            assertTrue(journalHolds(cql, node, kinesis, "plain", SHARD_0, "DATA-"), "the check cannot see data");
            for (String shard : List.of(SHARD_0, SHARD_1)) {
                assertFalse(journalHolds(cql, node, kinesis, "sealed", shard, "PK-MARKER-"), "a partition key at rest in the clear");
                assertFalse(journalHolds(cql, node, kinesis, "sealed", shard, "DATA-"), "data at rest in the clear");
            }
            assertEquals(List.of(1, 2, 3, 4), numbers(TestNode.readShard(kinesis, "sealed", SHARD_1, null), "sealed/" + SHARD_1));

            // the attacker moves ciphertext: sealed/shard-1 event 2 <- sealed/shard-0 event 2 (same stream and data key),
            // sealed/shard-0 event 3 <- other/shard-0 event 3 (another stream)
            moveEvent(cql, node, kinesis, "sealed", SHARD_0, 2, "sealed", SHARD_1, 2);
            moveEvent(cql, node, kinesis, "other", SHARD_0, 3, "sealed", SHARD_0, 3);
            node.stop();
            node.start();
            kinesis = node.kinesisClient();

            assertEquals(List.of(1, 3, 4), readPastRefusals(kinesis, "sealed", SHARD_1, "sealed/" + SHARD_1));
            assertEquals(List.of(1, 2, 4), readPastRefusals(kinesis, "sealed", SHARD_0, "sealed/" + SHARD_0));
            assertEquals(List.of(1, 2, 3, 4), numbers(TestNode.readShard(kinesis, "other", SHARD_0, null), "other/" + SHARD_0));
            long warnings = logged.list.stream().filter(e -> e.getFormattedMessage().contains("failed its integrity check")).count();
            assertTrue(warnings >= 2, "the refused records were not logged: " + logged.list);
            for (ILoggingEvent e : logged.list) {
                assertFalse(e.getFormattedMessage().contains("DATA-") || e.getFormattedMessage().contains("PK-MARKER"),
                        "a log line shows record contents: " + e.getFormattedMessage());
            }
        } finally {
            ((Logger) LoggerFactory.getLogger(StreamCrypto.class)).detachAppender(logged);
        }
    }

    /**
     * Reads a shard from TRIM_HORIZON as a reader who steps over a refused record would: on each
     * refusal (a 400 naming the record) it goes on AFTER that sequence number. Returns the numbers read.
     */
    private static List<Integer> readPastRefusals(KinesisClient kinesis, String stream, String shard, String mark) {
        List<Record> got = new ArrayList<>();
        int refusals = 0;
        String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard)
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        for (int call = 0; call < 50; call++) {
            String current = it;
            GetRecordsResponse r;
            try {
                r = kinesis.getRecords(b -> b.shardIterator(current));
            } catch (KinesisException e) {
                assertEquals(400, e.statusCode(), "not a client-shaped refusal: " + e.getMessage());
                assertEquals("KMSInvalidStateException", e.awsErrorDetails().errorCode());
                Matcher m = Pattern.compile("sequence number (\\d+)").matcher(e.awsErrorDetails().errorMessage());
                assertTrue(m.find(), "the refusal does not name the record: " + e.awsErrorDetails().errorMessage());
                refusals++;
                String at = m.group(1);
                it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard)
                        .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(at)).shardIterator();
                continue;
            }
            got.addAll(r.records());
            it = r.nextShardIterator();
            if (r.records().isEmpty() && r.millisBehindLatest() == 0) {
                assertEquals(1, refusals, "expected exactly the moved record to be refused");
                return numbers(got, mark);
            }
        }
        throw new AssertionError("never caught up with " + stream + "/" + shard);
    }

    private static List<Integer> numbers(List<Record> records, String mark) {
        List<Integer> out = new ArrayList<>();
        for (Record r : records) {
            String data = r.data().asUtf8String();
            assertTrue(data.startsWith("DATA-" + mark + "/"), "a record that does not belong here: " + data);
            assertEquals("PK-MARKER-" + data.substring("DATA-".length()), r.partitionKey());
            out.add(Integer.parseInt(data.substring(data.lastIndexOf('/') + 1)));
        }
        return out;
    }

    private static String pid(KinesisClient kinesis, String stream, String shardId) {
        long createdAt = kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary()
                .streamCreationTimestamp().toEpochMilli();
        return ShardEntity.persistenceId(ShardEntity.entityId(stream, createdAt, Integer.parseInt(shardId.substring(8))));
    }

    private static boolean journalHolds(CqlSession cql, TestNode node, KinesisClient kinesis, String stream, String shard, String text) {
        return CassandraFiles.shardJournalHolds(cql, node.keyspace, kinesis, stream, Integer.parseInt(shard.substring(8)), text);
    }

    /** Overwrites one journal event with another's bytes, as someone with write access to Cassandra could. */
    private static void moveEvent(CqlSession cql, TestNode node, KinesisClient kinesis, String fromStream, String fromShard,
                                  long fromSeqNr, String toStream, String toShard, long toSeqNr) {
        String table = node.keyspace + ".messages";
        Row source = cql.execute("SELECT event FROM " + table + " WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ?",
                pid(kinesis, fromStream, fromShard), fromSeqNr).one();
        Row target = cql.execute("SELECT timestamp FROM " + table + " WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ?",
                pid(kinesis, toStream, toShard), toSeqNr).one();
        assertNotNull(source);
        assertNotNull(target);
        cql.execute("UPDATE " + table + " SET event = ? WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ? AND timestamp = ?",
                source.getByteBuffer("event"), pid(kinesis, toStream, toShard), toSeqNr, target.getUuid("timestamp"));
    }
}
