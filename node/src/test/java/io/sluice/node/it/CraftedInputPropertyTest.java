package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.MutableClock;
import io.sluice.protocol.AwsError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Generated hostile input at a real node: shard ids, NextTokens and ShardIterators a client could
 * craft (huge, negative and non-ASCII numbers, overflow, random and truncated base64, the tokens of
 * another stream or operation). Every answer must be a 2xx or a 4xx carrying an AWS error type from
 * the catalogue, never a 5xx, and the node must keep serving. The seed is printed; rerun one case
 * with {@code -Dsluice.seed=<seed>}.
 */
class CraftedInputPropertyTest {
    static final long SEED = Long.getLong("sluice.seed", System.nanoTime());
    static final int CASES = Integer.getInteger("sluice.cases", 150);
    static final String JSON = "application/x-amz-json-1.1";
    static final String ACCOUNT = "000000000000";
    static final ObjectMapper json = new ObjectMapper();
    static final MutableClock clock = new MutableClock();
    static TestNode node;
    static SignedHttp http;
    static String alphaIterator;
    static String betaToken;
    static String alphaToken;
    static String streamsToken;

    @BeforeAll
    static void start() throws Exception {
        System.out.println("CraftedInputPropertyTest seed " + SEED + " (-Dsluice.seed=" + SEED + " to repeat)");
        node = new TestNode(clock, "").start();
        http = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey);
        call("CreateStream", "{\"StreamName\":\"alpha\",\"ShardCount\":3}");
        call("CreateStream", "{\"StreamName\":\"beta\",\"ShardCount\":2}");
        for (String stream : List.of("alpha", "beta")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!call("DescribeStreamSummary", "{\"StreamName\":\"" + stream + "\"}").get("StreamDescriptionSummary")
                    .get("StreamStatus").asText().equals("ACTIVE")) {
                assertTrue(System.nanoTime() < deadline, stream + " did not become ACTIVE");
                Thread.sleep(50);
            }
        }
        call("PutRecord", "{\"StreamName\":\"alpha\",\"Data\":\"Zmlyc3Q=\",\"PartitionKey\":\"k\"}");
        alphaIterator = call("GetShardIterator", "{\"StreamName\":\"alpha\",\"ShardId\":\"shardId-000000000000\","
                + "\"ShardIteratorType\":\"TRIM_HORIZON\"}").get("ShardIterator").asText();
        alphaToken = call("ListShards", "{\"StreamName\":\"alpha\",\"MaxResults\":1}").get("NextToken").asText();
        betaToken = call("ListShards", "{\"StreamName\":\"beta\",\"MaxResults\":1}").get("NextToken").asText();
        streamsToken = call("ListStreams", "{\"Limit\":1}").get("NextToken").asText();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static JsonNode call(String operation, String body) throws Exception {
        HttpResponse<byte[]> r = http.post("Kinesis_20131202." + operation, JSON, body.getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), () -> operation + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body().length == 0 ? json.nullNode() : json.readTree(r.body());
    }

    /** What came back for one crafted request: the HTTP status and, for an error, its type and message. */
    record Answer(int status, String type, String message) {}

    /** Sends a request built as a JSON object and checks the property: 2xx, or 4xx with a catalogued AWS error type. */
    static Answer send(String operation, Consumer<ObjectNode> body) throws Exception {
        ObjectNode request = json.createObjectNode();
        body.accept(request);
        byte[] bytes = json.writeValueAsBytes(request);
        HttpResponse<byte[]> r = http.post("Kinesis_20131202." + operation, JSON, bytes);
        String text = new String(r.body(), StandardCharsets.UTF_8);
        String what = operation + " " + request + " (seed " + SEED + ") answered " + r.statusCode() + " " + text;
        assertTrue(r.statusCode() < 500, what);
        if (r.statusCode() < 300) {
            return new Answer(r.statusCode(), null, null);
        }
        assertTrue(r.statusCode() >= 400, what);
        JsonNode error = json.readTree(r.body());
        String type = error.path("__type").asText("");
        assertTrue(AwsError.forName(type).isPresent(), "no AWS error type: " + what);
        assertEquals(type, r.headers().firstValue("x-amzn-ErrorType").orElse(""), what);
        assertTrue(error.hasNonNull("message"), what);
        return new Answer(r.statusCode(), type, error.get("message").asText());
    }

    static void assertError(Answer a, String type, String message) {
        assertEquals(type, a.type(), () -> a.toString());
        if (message != null) assertEquals(message, a.message());
    }

    /** The node still serves good requests after the crafted ones. */
    static void stillServes() throws Exception {
        call("PutRecord", "{\"StreamName\":\"alpha\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}");
        String it = call("GetShardIterator", "{\"StreamName\":\"alpha\",\"ShardId\":\"shardId-000000000001\","
                + "\"ShardIteratorType\":\"TRIM_HORIZON\"}").get("ShardIterator").asText();
        call("GetRecords", "{\"ShardIterator\":\"" + it + "\"}");
        assertEquals(3, call("ListShards", "{\"StreamName\":\"alpha\"}").get("Shards").size());
    }

    // ---- generators

    static String digits(Random rnd, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) b.append((char) ('0' + rnd.nextInt(10)));
        return b.toString();
    }

    /** Text of random code points: ASCII, Latin, Arabic-Indic and full-width digits, CJK, emoji, controls. */
    static String text(Random rnd, int max) {
        int[][] ranges = {{0x20, 0x7e}, {0x00, 0x1f}, {0xa0, 0x24f}, {0x660, 0x669}, {0xff10, 0xff19}, {0x4e00, 0x4fff},
                {0x1f600, 0x1f64f}, {'|', '|'}, {'\n', '\n'}};
        StringBuilder b = new StringBuilder();
        int n = rnd.nextInt(max + 1);
        for (int i = 0; i < n; i++) {
            int[] r = ranges[rnd.nextInt(ranges.length)];
            b.appendCodePoint(r[0] + rnd.nextInt(r[1] - r[0] + 1));
        }
        return b.toString();
    }

    static String shardId(Random rnd) {
        return switch (rnd.nextInt(12)) {
            case 0 -> "shardId-" + digits(rnd, 12);                                   // any 12-digit number
            case 1 -> "shardId-" + digits(rnd, 1 + rnd.nextInt(40));                  // too few or too many digits
            case 2 -> "shardId-" + String.format("%012d", (long) Integer.MAX_VALUE + rnd.nextInt(1000)); // past int
            case 3 -> "shardId--" + digits(rnd, 11);                                  // negative
            case 4 -> "shardId-" + digits(rnd, 11) + (char) ('a' + rnd.nextInt(26)); // not digits
            case 5 -> "shardId-" + "٠".repeat(11) + "١";                              // Arabic-Indic digits
            case 6 -> "shardId-" + "０".repeat(11) + "１";                              // full-width digits
            case 7 -> "";
            case 8 -> text(rnd, 140);
            case 9 -> "shardId-" + Long.MAX_VALUE + digits(rnd, 3);
            case 10 -> String.valueOf(rnd.nextLong());
            default -> "shardId-" + String.format("%012d", rnd.nextInt(5));            // real or just past the last
        };
    }

    static String base64(byte[] b, Random rnd) {
        return rnd.nextBoolean() ? Base64.getUrlEncoder().withoutPadding().encodeToString(b) : Base64.getEncoder().encodeToString(b);
    }

    static String nextToken(Random rnd, String kind) {
        long now = clock.millis();
        byte[] random = new byte[rnd.nextInt(200)];
        rnd.nextBytes(random);
        String real = rnd.nextBoolean() ? alphaToken : betaToken;
        return switch (rnd.nextInt(14)) {
            case 0 -> base64(random, rnd);
            case 1 -> base64(text(rnd, 80).getBytes(StandardCharsets.UTF_8), rnd);
            case 2 -> real.substring(0, rnd.nextInt(real.length()));                   // truncated
            case 3 -> base64((kind + "\n" + now + "\n" + text(rnd, 40).replace("|", "")).getBytes(StandardCharsets.UTF_8), rnd);
            case 4 -> base64((kind + "\n" + digits(rnd, 19 + rnd.nextInt(3)) + "\nalpha|shardId-000000000000")
                    .getBytes(StandardCharsets.UTF_8), rnd);                            // time past long
            case 5 -> base64((kind + "\n" + now + "\n" + text(rnd, 40) + "|" + shardId(rnd)).getBytes(StandardCharsets.UTF_8), rnd);
            case 6 -> base64((kind + "\n" + now + "\n|").getBytes(StandardCharsets.UTF_8), rnd);
            case 7 -> base64((kind + "\n" + (now - 301_000) + "\nalpha|shardId-000000000000").getBytes(StandardCharsets.UTF_8), rnd);
            case 8 -> base64((kind + "\n-" + now + "\nalpha").getBytes(StandardCharsets.UTF_8), rnd);
            case 9 -> streamsToken;                                                    // another operation's token
            case 10 -> real + text(rnd, 3);
            case 11 -> text(rnd, 60);
            case 12 -> base64((kind + "\n" + now + "\nnosuchstream" + rnd.nextInt(1000) + "|shardId-000000000000")
                    .getBytes(StandardCharsets.UTF_8), rnd);
            default -> base64((kind + "\n" + now).getBytes(StandardCharsets.UTF_8), rnd);
        };
    }

    static String shardIterator(Random rnd) {
        byte[] random = new byte[rnd.nextInt(400)];
        rnd.nextBytes(random);
        byte[] real = Base64.getUrlDecoder().decode(alphaIterator);
        return switch (rnd.nextInt(7)) {
            case 0 -> base64(random, rnd);
            case 1 -> alphaIterator.substring(0, rnd.nextInt(alphaIterator.length()));
            case 2 -> {
                byte[] flipped = real.clone();
                flipped[rnd.nextInt(flipped.length)] ^= (byte) (1 << rnd.nextInt(8));
                yield base64(flipped, rnd);
            }
            case 3 -> text(rnd, 100);
            case 4 -> base64(java.util.Arrays.copyOf(real, real.length + rnd.nextInt(20)), rnd);
            case 5 -> alphaIterator + text(rnd, 4);
            default -> base64(text(rnd, 200).getBytes(StandardCharsets.UTF_8), rnd);
        };
    }

    // ---- the properties

    @Test
    void aShardThatDoesNotExistIsResourceNotFoundInAwsWords() throws Exception {
        for (String id : List.of("shardId-999999999999", "shardId-000000000003", "shardId-002147483647",
                "shardId-002147483648", "shardId-100000000000")) {
            Answer a = send("GetShardIterator", b -> b.put("StreamName", "alpha").put("ShardId", id)
                    .put("ShardIteratorType", "TRIM_HORIZON"));
            assertError(a, "ResourceNotFoundException",
                    "Shard " + id + " in stream alpha under account " + ACCOUNT + " does not exist");
        }
        stillServes();
    }

    @Test
    void craftedShardIdsAreAnsweredWithAClientError() throws Exception {
        Random rnd = new Random(SEED);
        List<String> types = List.of("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP");
        for (int i = 0; i < CASES; i++) {
            String id = shardId(rnd);
            String type = types.get(rnd.nextInt(types.size()));
            String seq = rnd.nextBoolean() ? digits(rnd, 56) : "4" + digits(rnd, 55);
            Answer a = send("GetShardIterator", b -> {
                b.put("StreamName", "alpha").put("ShardId", id).put("ShardIteratorType", type);
                if (type.endsWith("SEQUENCE_NUMBER")) b.put("StartingSequenceNumber", seq);
                if (type.equals("AT_TIMESTAMP")) b.put("Timestamp", 1.7e9);
            });
            boolean real = id.matches("shardId-00000000000[0-2]");
            if (!real && a.status() == 200) fail("GetShardIterator accepted shard " + id + " (seed " + SEED + ")");
            send("ListShards", b -> b.put("StreamName", "alpha").put("ExclusiveStartShardId", id));
            send("ListShards", b -> b.put("StreamName", "beta").putObject("ShardFilter")
                    .put("Type", "AFTER_SHARD_ID").put("ShardId", id));
            send("DescribeStream", b -> b.put("StreamName", "alpha").put("ExclusiveStartShardId", id));
        }
        stillServes();
    }

    @Test
    void aNextTokenWithoutItsSeparatorOrOutOfTimeIsRefusedAsAwsDoes() throws Exception {
        String noBar = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(("shards\n" + clock.millis() + "\nalpha").getBytes(StandardCharsets.UTF_8));
        assertError(send("ListShards", b -> b.put("NextToken", noBar)), "InvalidArgumentException", null);
        String pastLong = Base64.getUrlEncoder().withoutPadding()
                .encodeToString("shards\n9999999999999999999\nalpha|shardId-000000000000".getBytes(StandardCharsets.UTF_8));
        assertError(send("ListShards", b -> b.put("NextToken", pastLong)), "InvalidArgumentException", null);
        assertError(send("ListStreams", b -> b.put("NextToken", pastLong)), "InvalidArgumentException", null);
        assertError(send("ListShards", b -> b.put("NextToken", streamsToken)), "InvalidArgumentException", null);
        assertError(send("ListShards", b -> b.put("StreamName", "alpha").put("NextToken", betaToken)),
                "InvalidArgumentException", "NextToken and StreamName cannot be provided together.");
        clock.advance(Duration.ofMinutes(6));
        try {
            assertError(send("ListShards", b -> b.put("NextToken", alphaToken)), "ExpiredNextTokenException", null);
        } finally {
            clock.advance(Duration.ofMinutes(-6));
        }
        assertEquals(200, send("ListShards", b -> b.put("NextToken", alphaToken)).status());
        stillServes();
    }

    @Test
    void craftedNextTokensAreAnsweredWithAClientError() throws Exception {
        Random rnd = new Random(SEED + 1);
        for (int i = 0; i < CASES; i++) {
            String shards = nextToken(rnd, "shards");
            String streams = nextToken(rnd, "streams");
            send("ListShards", b -> b.put("NextToken", shards));
            send("ListShards", b -> b.put("NextToken", shards).put("MaxResults", 1 + rnd.nextInt(3)));
            send("ListStreams", b -> b.put("NextToken", streams));
        }
        stillServes();
    }

    @Test
    void craftedShardIteratorsAreAnsweredWithAClientError() throws Exception {
        Random rnd = new Random(SEED + 2);
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            String it = shardIterator(rnd);
            Answer a = send("GetRecords", b -> b.put("ShardIterator", it));
            if (a.status() == 200 && !it.equals(alphaIterator)) accepted.add(it);
        }
        // a changed iterator is refused: its HMAC no longer matches (padding-only differences decode the same)
        for (String it : accepted) {
            assertEquals(alphaIterator, it.replace('+', '-').replace('/', '_').replace("=", ""), "forged iterator accepted");
        }
        stillServes();
    }
}
