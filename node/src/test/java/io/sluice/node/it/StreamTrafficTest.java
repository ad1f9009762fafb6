package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code GET /admin/traffic?stream=NAME} on a real node: what the AWS SDK put and read is what the
 * answer counts, exactly (records, bytes as data plus partition key, records read, the largest
 * MillisBehindLatest), in the minutes of the node's clock; and the refusals in AWS's shape.
 */
class StreamTrafficTest {
    static final String STREAM = "traffic-orders";
    static final String OTHER = "traffic-other";
    static final String ACCOUNT = "000000000000";
    static final ObjectMapper json = new ObjectMapper();
    static final MutableClock clock = new MutableClock();
    static TestNode node;
    static SignedHttp root;
    static KinesisClient kinesis;

    @BeforeAll
    static void start() throws Exception {
        String bootstrap = TestNode.iamBootstrap("""
                {"Users": [
                  {"UserName": "watcher", "AccessKeys": [{"AccessKeyId": "AKIAWATCHER000000001", "SecretAccessKey": "watcher-secret"}],
                   "Policies": {"traffic": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "sluice:GetStreamTraffic", "Resource": "arn:aws:kinesis:us-east-1:%s:stream/%s"}]}}},
                  {"UserName": "streamer", "AccessKeys": [{"AccessKeyId": "AKIASTREAMER00000001", "SecretAccessKey": "streamer-secret"}],
                   "Policies": {"kinesis": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}}}]}
                """.formatted(ACCOUNT, STREAM));
        node = new TestNode(clock, bootstrap).start();
        root = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("sluice");
        kinesis = node.kinesisClient();
        TestNode.createActive(kinesis, STREAM, 2);
        TestNode.createActive(kinesis, OTHER, 1);
    }

    @AfterAll
    static void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    static JsonNode traffic(SignedHttp as, String stream) throws Exception {
        HttpResponse<byte[]> r = as.get("/admin/traffic?stream=" + stream);
        assertEquals(200, r.statusCode(), text(r));
        return json.readTree(r.body());
    }

    /** An AWS-shaped refusal with this status and type; returns its message. */
    static String refused(HttpResponse<byte[]> r, int status, String type) throws Exception {
        assertEquals(status, r.statusCode(), text(r));
        assertTrue(r.headers().firstValue("x-amzn-RequestId").isPresent());
        assertEquals(type, r.headers().firstValue("x-amzn-ErrorType").orElse(""));
        JsonNode body = json.readTree(r.body());
        assertEquals(type, body.get("__type").asText(), text(r));
        return body.get("message").asText();
    }

    static long minute() {
        return Math.floorDiv(clock.millis(), 60_000L);
    }

    static long sum(JsonNode series, int from, int to) {
        long n = 0;
        for (int k = from; k <= to; k++) n += series.get(k).asLong();
        return n;
    }

    /** What was put (and acknowledged) and read, per shard, in one phase. */
    static final class Expected {
        final Map<String, long[]> byShard = new TreeMap<>(); // shard id -> {records, bytes, read, max age}

        long[] of(String shardId) {
            return byShard.computeIfAbsent(shardId, s -> new long[] {0, 0, 0, -1});
        }
    }

    /** Puts generated records (PutRecord and PutRecords, multi-byte partition keys among them) and reads them all back. */
    static Expected putAndRead(Random random) {
        Expected expected = new Expected();
        for (int i = 0; i < 20; i++) {
            String key = random.nextBoolean() ? "key-" + random.nextInt(1000) : "clé-€-" + random.nextInt(1000);
            byte[] data = new byte[random.nextInt(2000)];
            random.nextBytes(data);
            String shard = kinesis.putRecord(b -> b.streamName(STREAM).partitionKey(key).data(SdkBytes.fromByteArray(data))).shardId();
            long[] e = expected.of(shard);
            e[0]++;
            e[1] += data.length + key.getBytes(StandardCharsets.UTF_8).length;
        }
        for (int batch = 0; batch < 5; batch++) {
            List<PutRecordsRequestEntry> entries = new ArrayList<>();
            List<Long> sizes = new ArrayList<>();
            for (int i = 0, n = 1 + random.nextInt(100); i < n; i++) {
                String key = "k" + random.nextInt(100_000) + (i % 7 == 0 ? "ü" : "");
                byte[] data = new byte[random.nextInt(500)];
                random.nextBytes(data);
                entries.add(PutRecordsRequestEntry.builder().partitionKey(key).data(SdkBytes.fromByteArray(data)).build());
                sizes.add((long) data.length + key.getBytes(StandardCharsets.UTF_8).length);
            }
            PutRecordsResponse put = kinesis.putRecords(b -> b.streamName(STREAM).records(entries));
            assertEquals(0, put.failedRecordCount());
            for (int i = 0; i < entries.size(); i++) {
                PutRecordsResultEntry r = put.records().get(i);
                long[] e = expected.of(r.shardId());
                e[0]++;
                e[1] += sizes.get(i);
            }
        }
        return expected;
    }

    /** Reads each shard from the position given to the tip, in small pages, noting records and the largest MillisBehindLatest. */
    static void readAll(Expected expected, Map<String, String> positions) {
        for (String shardId : List.of("shardId-000000000000", "shardId-000000000001")) {
            String after = positions.get(shardId);
            String it = kinesis.getShardIterator(b -> {
                b.streamName(STREAM).shardId(shardId);
                if (after == null) b.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
                else b.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(after);
            }).shardIterator();
            long[] e = expected.of(shardId);
            for (int calls = 0; calls < 1000; calls++) {
                String current = it;
                GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(current).limit(7));
                e[2] += r.records().size();
                e[3] = Math.max(e[3], r.millisBehindLatest());
                if (!r.records().isEmpty()) positions.put(shardId, r.records().get(r.records().size() - 1).sequenceNumber());
                it = r.nextShardIterator();
                if (r.records().isEmpty() && r.millisBehindLatest() == 0) break;
            }
        }
    }

    /** The answer's counts in minutes [from, to] of its window equal what the phase did, per shard and in total. */
    static void assertCounted(JsonNode answer, long fromMinute, long toMinute, Expected expected, String what) {
        long start = answer.get("start").asLong() / 60_000L;
        int from = (int) (fromMinute - start);
        int to = (int) (toMinute - start);
        long[] total = {0, 0, 0, -1};
        for (Map.Entry<String, long[]> e : expected.byShard.entrySet()) {
            JsonNode s = answer.path("shards").path(e.getKey());
            assertFalse(s.isMissingNode(), e.getKey() + " in " + answer);
            assertEquals(e.getValue()[0], sum(s.get("incomingRecords"), from, to), what + ": records of " + e.getKey());
            assertEquals(e.getValue()[1], sum(s.get("incomingBytes"), from, to), what + ": bytes of " + e.getKey());
            assertEquals(e.getValue()[2], sum(s.get("getRecordsRecords"), from, to), what + ": records read of " + e.getKey());
            assertEquals(e.getValue()[3], max(s.get("iteratorAgeMillis"), from, to), what + ": iterator age of " + e.getKey());
            for (int i = 0; i < 3; i++) total[i] += e.getValue()[i];
            total[3] = Math.max(total[3], e.getValue()[3]);
        }
        JsonNode t = answer.get("total");
        assertEquals(total[0], sum(t.get("incomingRecords"), from, to), what + ": records");
        assertEquals(total[1], sum(t.get("incomingBytes"), from, to), what + ": bytes");
        assertEquals(total[2], sum(t.get("getRecordsRecords"), from, to), what + ": records read");
        assertEquals(total[3], max(t.get("iteratorAgeMillis"), from, to), what + ": iterator age");
    }

    static long max(JsonNode series, int from, int to) {
        long m = -1;
        for (int k = from; k <= to; k++) {
            if (!series.get(k).isNull()) m = Math.max(m, series.get(k).asLong());
        }
        return m;
    }

    @Test
    void countsExactlyWhatTheSdkPutAndReadInTheMinutesOfTheNodesClock() throws Exception {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("StreamTrafficTest seed: " + seed + " (rerun with -Dsluice.seed=" + seed + ")");
        Random random = new Random(seed);
        Map<String, String> positions = new HashMap<>();

        long a0 = minute();
        Expected first = putAndRead(random);
        readAll(first, positions);
        long a1 = minute();
        clock.advance(Duration.ofMinutes(3)); // within the signature's 15 minutes: the SDK still signs with real time
        long b0 = minute();
        Expected second = putAndRead(random);
        readAll(second, positions);
        long b1 = minute();

        JsonNode answer = traffic(root, STREAM);
        assertEquals(STREAM, answer.get("streamName").asText());
        assertEquals(60, answer.get("periodSeconds").asInt());
        assertEquals(60, answer.get("minutes").asInt());
        assertEquals(1, answer.get("nodes").asInt());
        long start = answer.get("start").asLong();
        assertEquals(0, start % 60_000);
        assertTrue(b1 - 59 <= start / 60_000 && start / 60_000 <= minute() - 59, "the window ends with the current minute: " + start);
        assertEquals(List.of("shardId-000000000000", "shardId-000000000001"), fieldNames(answer.get("shards")));
        for (JsonNode series : List.of(answer.get("total"), answer.get("shards").get("shardId-000000000001"))) {
            assertEquals(List.of("incomingRecords", "incomingBytes", "getRecordsRecords", "iteratorAgeMillis"), fieldNames(series));
            series.forEach(s -> assertEquals(60, s.size(), series.toString()));
        }
        assertCounted(answer, a0, a1, first, "the first phase");
        assertCounted(answer, b0, b1, second, "the second phase, three minutes later");
        // the minutes between the phases saw nothing: no records, no reads (null, not 0)
        long gapFrom = a1 + 1;
        long gapTo = b0 - 1;
        int offset = (int) (start / 60_000);
        for (long m = gapFrom; m <= gapTo; m++) {
            assertEquals(0, answer.get("total").get("incomingRecords").get((int) (m - offset)).asLong());
            assertTrue(answer.get("total").get("iteratorAgeMillis").get((int) (m - offset)).isNull(), answer.toString());
        }
        // the other stream's traffic is its own
        JsonNode other = traffic(root, OTHER);
        assertEquals(0, sum(other.get("total").get("incomingRecords"), 0, 59));
        assertEquals(List.of("shardId-000000000000"), fieldNames(other.get("shards")));
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void aUserAllowedGetStreamTrafficOnTheStreamReadsItAndNothingElse() throws Exception {
        SignedHttp watcher = new SignedHttp(node.endpoint(), "AKIAWATCHER000000001", "watcher-secret").forService("sluice");
        assertEquals(STREAM, traffic(watcher, STREAM).get("streamName").asText());
        assertEquals("User: arn:aws:iam::" + ACCOUNT + ":user/watcher is not authorized to perform: sluice:GetStreamTraffic on resource: "
                        + "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + OTHER,
                refused(watcher.get("/admin/traffic?stream=" + OTHER), 403, "AccessDeniedException"));
        assertEquals("User: arn:aws:iam::" + ACCOUNT + ":user/watcher is not authorized to perform: sluice:GetNodeStats on resource: "
                        + "arn:aws:sluice:us-east-1:" + ACCOUNT + ":node/" + nodeAddress(),
                refused(watcher.get("/admin/stats"), 403, "AccessDeniedException"));
    }

    static String nodeAddress() throws Exception {
        String self = json.readTree(root.get("/admin/cluster").body()).get("self").asText(); // pekko://sluice@127.0.0.1:port
        return self.substring(self.indexOf('@') + 1);
    }

    @Test
    void aUserWithoutGetStreamTrafficIsRefusedAsKinesisRefuses() throws Exception {
        SignedHttp streamer = new SignedHttp(node.endpoint(), "AKIASTREAMER00000001", "streamer-secret").forService("sluice");
        assertEquals("User: arn:aws:iam::" + ACCOUNT + ":user/streamer is not authorized to perform: sluice:GetStreamTraffic on resource: "
                        + "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + STREAM,
                refused(streamer.get("/admin/traffic?stream=" + STREAM), 403, "AccessDeniedException"));
        // authorization comes first, as in Kinesis: a stream that does not exist is no different
        assertEquals("User: arn:aws:iam::" + ACCOUNT + ":user/streamer is not authorized to perform: sluice:GetStreamTraffic on resource: "
                        + "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/nope",
                refused(streamer.get("/admin/traffic?stream=nope"), 403, "AccessDeniedException"));
    }

    @Test
    void anUnknownStreamIsNotFoundInKinesisWords() throws Exception {
        assertEquals("Stream nope under account " + ACCOUNT + " not found.",
                refused(root.get("/admin/traffic?stream=nope"), 400, "ResourceNotFoundException"));
    }

    @Test
    void aMissingOrMalformedStreamParameterIsAValidationError() throws Exception {
        assertEquals("1 validation error detected: Value null at 'stream' failed to satisfy constraint: Member must not be null",
                refused(root.get("/admin/traffic"), 400, "ValidationException"));
        assertEquals("1 validation error detected: Value null at 'stream' failed to satisfy constraint: Member must not be null",
                refused(root.get("/admin/traffic?streem=" + STREAM), 400, "ValidationException"));
        // as Kinesis words an empty StreamName: both constraints it breaks
        assertEquals("2 validation errors detected: Value '' at 'stream' failed to satisfy constraint: Member must have length "
                + "greater than or equal to 1; Value '' at 'stream' failed to satisfy constraint: Member must satisfy regular "
                + "expression pattern: [a-zA-Z0-9_.-]+", refused(root.get("/admin/traffic?stream="), 400, "ValidationException"));
        assertEquals("1 validation error detected: Value 'a b' at 'stream' failed to satisfy constraint: Member must satisfy "
                + "regular expression pattern: [a-zA-Z0-9_.-]+", refused(root.get("/admin/traffic?stream=a%20b"), 400, "ValidationException"));
        assertEquals("Missing Authentication Token", refused(java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(node.endpoint().resolve("/admin/traffic?stream=" + STREAM)).build(),
                HttpResponse.BodyHandlers.ofByteArray()), 403, "MissingAuthenticationTokenException"));
    }

    @Test
    void aDeletedStreamsCountersGoFromEveryNode() throws Exception {
        String doomed = "traffic-doomed";
        TestNode.createActive(kinesis, doomed, 1);
        kinesis.putRecord(b -> b.streamName(doomed).partitionKey("k").data(SdkBytes.fromUtf8String("x")));
        assertEquals(1, sum(traffic(root, doomed).get("total").get("incomingRecords"), 0, 59));
        int before = json.readTree(root.get("/admin/stats").body()).get("trafficCounters").get("streams").asInt();
        kinesis.deleteStream(b -> b.streamName(doomed));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (json.readTree(root.get("/admin/stats").body()).get("trafficCounters").get("streams").asInt() != before - 1) {
            assertTrue(System.nanoTime() < deadline, "the deleted stream's counters are still there");
            KinesisSdkContract.sleep(50);
        }
    }

    /** The command README.md gives operators. */
    @Test
    void curlSignsTheTrafficQueryAsDocumented() throws Exception {
        Process version;
        try {
            version = new ProcessBuilder("curl", "--version").redirectErrorStream(true).start();
        } catch (java.io.IOException noCurl) {
            version = null;
        }
        Assumptions.assumeTrue(version != null && version.waitFor(10, TimeUnit.SECONDS) && version.exitValue() == 0,
                "curl is not installed");
        Process curl = new ProcessBuilder("curl", "-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:sluice",
                "--user", node.accessKeyId + ":" + node.secretKey, node.endpoint() + "/admin/traffic?stream=" + STREAM)
                .redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, curl.exitValue(), out);
        assertEquals(STREAM, json.readTree(out).get("streamName").asText(), out);
    }
}
