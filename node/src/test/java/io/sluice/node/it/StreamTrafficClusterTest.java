package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two nodes in one JVM, one Pekko cluster on one keyspace: puts served by either node are counted
 * where they are served, and {@code GET /admin/traffic} on either node sums both nodes' counters.
 */
class StreamTrafficClusterTest {
    static final String STREAM = "traffic-cluster";
    static final ObjectMapper json = new ObjectMapper();
    static TestNode a;
    static TestNode b;

    @BeforeAll
    static void start() throws Exception {
        List<TestNode> nodes = TestNode.cluster(2, Clock.systemUTC(), "");
        a = nodes.get(0);
        b = nodes.get(1);
    }

    @AfterAll
    static void stop() {
        if (b != null) b.close();
        if (a != null) a.close();
    }

    static JsonNode get(TestNode node, String target) throws Exception {
        HttpResponse<byte[]> r = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("sluice").get(target);
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        return json.readTree(r.body());
    }

    static long sum(JsonNode series) {
        long n = 0;
        for (JsonNode v : series) n += v.asLong();
        return n;
    }

    @Test
    void theAnswerSumsTheCountersOfEveryNode() throws Exception {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("StreamTrafficClusterTest seed: " + seed + " (rerun with -Dsluice.seed=" + seed + ")");
        Random random = new Random(seed);
        try (KinesisClient toA = a.kinesisClient(); KinesisClient toB = b.kinesisClient()) {
            TestNode.createActive(toA, STREAM, 2);
            // both nodes' counters registered, as each node sees the cluster
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (get(a, "/admin/traffic?stream=" + STREAM).get("nodes").asInt() < 2
                    || get(b, "/admin/traffic?stream=" + STREAM).get("nodes").asInt() < 2) {
                assertTrue(System.nanoTime() < deadline, "both nodes answer within 30 s");
                KinesisSdkContract.sleep(100);
            }
            long records = 0;
            long bytes = 0;
            for (KinesisClient client : List.of(toA, toB)) {
                for (int batch = 0; batch < 3; batch++) {
                    List<PutRecordsRequestEntry> entries = new ArrayList<>();
                    for (int i = 0, n = 1 + random.nextInt(50); i < n; i++) {
                        byte[] data = new byte[random.nextInt(300)];
                        random.nextBytes(data);
                        String key = "k" + random.nextInt(10_000);
                        entries.add(PutRecordsRequestEntry.builder().partitionKey(key).data(SdkBytes.fromByteArray(data)).build());
                        bytes += data.length + key.length();
                    }
                    assertEquals(0, client.putRecords(r -> r.streamName(STREAM).records(entries)).failedRecordCount());
                    records += entries.size();
                }
            }
            for (TestNode node : List.of(a, b)) {
                assertEquals(1, get(node, "/admin/stats").get("trafficCounters").get("streams").asInt(),
                        "each node counted the puts it served");
            }
            for (TestNode node : List.of(a, b)) {
                JsonNode answer = get(node, "/admin/traffic?stream=" + STREAM);
                assertEquals(2, answer.get("nodes").asInt());
                assertEquals(records, sum(answer.get("total").get("incomingRecords")), answer.toString());
                assertEquals(bytes, sum(answer.get("total").get("incomingBytes")), answer.toString());
                long perShard = 0;
                for (JsonNode shard : answer.get("shards")) perShard += sum(shard.get("incomingRecords"));
                assertEquals(records, perShard);
            }
        }
    }
}
