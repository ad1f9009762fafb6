package io.sluice.node.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.*;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Resharding through the AWS SDK for Java v2 against a real node: SplitShard, MergeShards and
 * UpdateShardCount, lineage in ListShards, and the end of a closed shard in GetRecords.
 */
class ReshardSdkTest {
    static TestNode node;
    static KinesisClient kinesis;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        kinesis = node.kinesisClient();
    }

    @AfterAll
    static void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    static void awaitActive(String stream) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus()
                    == StreamStatus.ACTIVE) {
                return;
            }
            sleep(50);
        }
        fail(stream + " did not become ACTIVE");
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    static String text(SdkBytes b) {
        return b.asString(StandardCharsets.UTF_8);
    }

    /** Every record of a shard from TRIM_HORIZON to its end, and the children GetRecords named there. */
    static List<String> readToEnd(String stream, String shardId, List<ChildShard> children) {
        String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shardId)
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 100 && it != null; i++) {
            String at = it;
            GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(at));
            r.records().forEach(rec -> out.add(text(rec.data())));
            it = r.nextShardIterator();
            if (it == null) {
                children.addAll(r.childShards());
            } else {
                assertTrue(r.childShards().isEmpty(), "children only at the end");
            }
        }
        assertNull(it, "the closed shard " + shardId + " ended");
        return out;
    }

    @Test
    void updateShardCountSplitsEveryShardAndTheirEndsNameTheChildren() {
        String stream = "scale-up";
        kinesis.createStream(b -> b.streamName(stream).shardCount(2));
        awaitActive(stream);
        for (int i = 0; i < 20; i++) {
            int n = i;
            kinesis.putRecord(b -> b.streamName(stream).partitionKey("k" + n).data(SdkBytes.fromUtf8String("before-" + n)));
        }
        UpdateShardCountResponse answer = kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(4)
                .scalingType(ScalingType.UNIFORM_SCALING));
        assertEquals(2, answer.currentShardCount());
        assertEquals(4, answer.targetShardCount());
        awaitActive(stream);
        List<Shard> shards = kinesis.listShards(b -> b.streamName(stream)).shards();
        assertEquals(6, shards.size(), shards::toString);
        assertEquals(4, kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().openShardCount());
        for (int i = 0; i < 20; i++) {
            int n = i;
            PutRecordResponse put = kinesis.putRecord(b -> b.streamName(stream).partitionKey("k" + n)
                    .data(SdkBytes.fromUtf8String("after-" + n)));
            assertTrue(put.shardId().compareTo("shardId-000000000001") > 0, put.shardId());
        }
        List<ChildShard> children = new ArrayList<>();
        List<String> parent0 = readToEnd(stream, "shardId-000000000000", children);
        List<String> parent1 = readToEnd(stream, "shardId-000000000001", children);
        assertEquals(20, parent0.size() + parent1.size());
        assertEquals(4, children.size(), children::toString);
        for (ChildShard c : children) {
            assertEquals(1, c.parentShards().size());
        }
        // LATEST on a closed shard: its end at once
        String latest = kinesis.getShardIterator(b -> b.streamName(stream).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.LATEST)).shardIterator();
        GetRecordsResponse end = kinesis.getRecords(b -> b.shardIterator(latest));
        assertNull(end.nextShardIterator());
        assertEquals(2, end.childShards().size());
    }
}
