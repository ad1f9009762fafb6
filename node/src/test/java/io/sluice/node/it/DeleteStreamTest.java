package io.sluice.node.it;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import io.sluice.node.shard.ShardEntity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DeleteStream deletes: once a stream has left ListStreams, no row of its shards is left in
 * Cassandra, no node hosts its shards, reads and writes of it are refused, and a stream created
 * again under its name starts empty. Checked through the AWS SDK and in Cassandra itself.
 */
class DeleteStreamTest {
    private static final String STREAM = "doomed";
    private static final List<String> JOURNAL_TABLES = List.of("messages", "snapshots", "metadata", "all_persistence_ids",
            "tag_views", "tag_write_progress", "tag_scanning");

    private TestNode node;
    private KinesisClient kinesis;

    @AfterEach
    void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    @Test
    void deletingAStreamDeletesItsShardsEventsSnapshotsAndJournalMetadata() throws Exception {
        // a snapshot every 5 events, so that the shards have snapshots to delete too
        node = new TestNode(new MutableClock(), "sluice.shard.snapshot-every = 5\nsluice.stream.delete-drain = 1s").start();
        kinesis = node.kinesisClient();
        TestNode.createActive(kinesis, STREAM, 2);
        kinesis.startStreamEncryption(b -> b.streamName(STREAM).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        TestNode.awaitActive(kinesis, STREAM);
        long createdAt = kinesis.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary()
                .streamCreationTimestamp().toEpochMilli();
        Set<String> oldShards = Set.of(ShardEntity.persistenceId(ShardEntity.entityId(STREAM, createdAt, 0)),
                ShardEntity.persistenceId(ShardEntity.entityId(STREAM, createdAt, 1)));
        for (int i = 0; i < 40; i++) {
            String key = "k" + i;
            kinesis.putRecord(b -> b.streamName(STREAM).partitionKey(key).data(SdkBytes.fromUtf8String("old " + key)));
        }
        String oldIterator = kinesis.getShardIterator(b -> b.streamName(STREAM).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        assertFalse(TestNode.readShard(kinesis, STREAM, "shardId-000000000000", null).isEmpty());

        try (CqlSession cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()))) {
            List<String> before = rowsOf(cql, oldShards);
            for (String shard : oldShards) {
                assertTrue(before.contains("messages: " + shard), "no events to delete: " + before);
                assertTrue(before.contains("snapshots: " + shard), "no snapshots to delete: " + before);
            }

            kinesis.deleteStream(b -> b.streamName(STREAM));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (kinesis.listStreams().streamNames().contains(STREAM)) {
                assertTrue(System.nanoTime() < deadline, "the stream never left ListStreams");
                KinesisSdkContract.sleep(100);
            }
            assertEquals(List.of(), rowsOf(cql, oldShards), "the deleted stream left rows in Cassandra");
            assertEquals(List.of(), hostedShardsOf(createdAt), "a node still hosts a deleted shard (and its tail)");

            assertThrows(ResourceNotFoundException.class, () -> kinesis.putRecord(b -> b.streamName(STREAM)
                    .partitionKey("late").data(SdkBytes.fromUtf8String("late"))));
            assertThrows(ResourceNotFoundException.class, () -> kinesis.getRecords(b -> b.shardIterator(oldIterator)));
            assertThrows(ResourceNotFoundException.class, () -> kinesis.getShardIterator(b -> b.streamName(STREAM)
                    .shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.LATEST)));

            TestNode.createActive(kinesis, STREAM, 2);
            assertEquals(List.of(), TestNode.readShard(kinesis, STREAM, "shardId-000000000000", null));
            assertEquals(List.of(), TestNode.readShard(kinesis, STREAM, "shardId-000000000001", null));
            assertThrows(ResourceNotFoundException.class, () -> kinesis.getRecords(b -> b.shardIterator(oldIterator)));
            assertEquals(List.of(), rowsOf(cql, oldShards), "the new incarnation brought old rows back");
        }
    }

    /** Every row of the given persistence ids in the journal's and snapshot store's tables, as "table: id". */
    private List<String> rowsOf(CqlSession cql, Set<String> persistenceIds) {
        List<String> rows = new ArrayList<>();
        for (String table : JOURNAL_TABLES) {
            for (Row row : cql.execute("SELECT persistence_id FROM " + node.keyspace + "." + table)) {
                String id = row.getString("persistence_id");
                if (persistenceIds.contains(id)) rows.add(table + ": " + id);
            }
        }
        return rows;
    }

    /** The shard entities of the stream incarnation created at {@code createdAt} that the node runs. */
    private List<String> hostedShardsOf(long createdAt) throws Exception {
        HttpResponse<byte[]> answer = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("sluice")
                .get("/admin/cluster");
        String body = new String(answer.body(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(200, answer.statusCode(), body);
        List<String> hosted = new ArrayList<>();
        new ObjectMapper().readTree(body).path("hostedStreamShards").forEach(id -> {
            if (id.asText().startsWith(STREAM + "~" + createdAt + "~")) hosted.add(id.asText());
        });
        return hosted;
    }
}
