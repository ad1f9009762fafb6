package io.sluice.node.it;

import com.datastax.oss.driver.api.core.CqlSession;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import io.sluice.node.shard.ShardEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What survives a node restart, and what retention removes: checked through the API and in Cassandra itself. */
class DurabilityTest {
    private final MutableClock clock = new MutableClock();
    private TestNode node;
    private KinesisClient kinesis;

    @AfterEach
    void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    private void connect() {
        if (kinesis != null) kinesis.close();
        kinesis = node.kinesisClient();
    }

    private void createActive(String stream, int shards) {
        TestNode.createActive(kinesis, stream, shards);
    }

    private List<String> readAll(String stream, String shard) {
        return TestNode.readShard(kinesis, stream, shard, 50).stream()
                .map(rec -> rec.sequenceNumber() + "=" + rec.data().asUtf8String()).toList();
    }

    @Test
    void everyAcknowledgedRecordReadsBackInOrderAfterARestart() throws Exception {
        node = new TestNode(clock, "").start();
        connect();
        createActive("durable", 2);
        List<String> acknowledged = new ArrayList<>();
        for (int batch = 0; batch < 10; batch++) {
            List<PutRecordsRequestEntry> entries = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                entries.add(PutRecordsRequestEntry.builder().partitionKey("k" + i)
                        .data(SdkBytes.fromUtf8String("b" + batch + "-" + i)).build());
            }
            PutRecordsResponse r = kinesis.putRecords(b -> b.streamName("durable").records(entries));
            assertEquals(0, r.failedRecordCount());
            for (int i = 0; i < 50; i++) {
                if (r.records().get(i).shardId().equals("shardId-000000000000")) {
                    acknowledged.add(r.records().get(i).sequenceNumber() + "=b" + batch + "-" + i);
                }
            }
        }
        List<String> before = readAll("durable", "shardId-000000000000");
        assertEquals(acknowledged, before);

        node.stop();
        node.start();
        connect();
        assertEquals(acknowledged, readAll("durable", "shardId-000000000000"));
        String last = acknowledged.get(acknowledged.size() - 1).split("=")[0];
        String next = kinesis.putRecord(b -> b.streamName("durable").partitionKey("k0").data(SdkBytes.fromUtf8String("after")))
                .sequenceNumber();
        assertTrue(new BigInteger(next).compareTo(new BigInteger(last)) > 0, "sequence numbers keep increasing");
    }

    @Test
    void expiredRecordsDisappearFromReadsAndFromCassandra() throws Exception {
        node = new TestNode(clock, "sluice.retention.sweep-interval = 300ms").start();
        connect();
        createActive("retained", 1);
        kinesis.putRecord(b -> b.streamName("retained").partitionKey("k").data(SdkBytes.fromUtf8String("old")));
        long createdAt = kinesis.describeStreamSummary(b -> b.streamName("retained")).streamDescriptionSummary()
                .streamCreationTimestamp().toEpochMilli();
        String persistenceId = ShardEntity.persistenceId(ShardEntity.entityId("retained", createdAt, 0));
        try (CqlSession cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()))) {
            assertEquals(1, events(cql, persistenceId));

            clock.advance(Duration.ofHours(25));
            kinesis.putRecord(b -> b.streamName("retained").partitionKey("k").data(SdkBytes.fromUtf8String("new")));
            List<String> visible = readAll("retained", "shardId-000000000000");
            assertEquals(1, visible.size());
            assertTrue(visible.get(0).endsWith("=new"));

            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (containsEvent(cql, persistenceId, 1)) {
                assertTrue(System.nanoTime() < deadline, "expired event still in Cassandra");
                KinesisSdkContract.sleep(200);
            }
            assertTrue(containsEvent(cql, persistenceId, 2), "the live record stays");
        }
        assertTrue(readAll("retained", "shardId-000000000000").get(0).endsWith("=new"));
    }

    private long events(CqlSession cql, String persistenceId) {
        return cql.execute("SELECT sequence_nr FROM " + node.keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0",
                persistenceId).all().size();
    }

    private boolean containsEvent(CqlSession cql, String persistenceId, long seqNr) {
        return !cql.execute("SELECT sequence_nr FROM " + node.keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ?",
                persistenceId, seqNr).all().isEmpty();
    }
}
