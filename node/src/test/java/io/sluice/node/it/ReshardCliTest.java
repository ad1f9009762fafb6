package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Resharding with the real AWS CLI, v1 and v2 (found and skipped as {@link AwsCliTest} says): split-shard,
 * merge-shards, update-shard-count, list-shards with --shard-filter, describe-stream-summary's
 * OpenShardCount, get-records at the end of a closed shard, and a refusal as the CLI prints it.
 * Waiting for ACTIVE goes through the SDK: the CLI's stream-exists waiter polls every 10 seconds.
 */
class ReshardCliTest {
    static final ObjectMapper json = new ObjectMapper();
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

    public static List<String> clis() {
        return AwsCliTest.clis();
    }

    static AwsCliTest.Result aws(String cli, String... args) throws Exception {
        return AwsCliTest.aws(node.endpoint(), node.accessKeyId, node.secretKey, cli, args);
    }

    /** Runs a command that must succeed; its JSON output, or an empty object when it printed nothing. */
    static JsonNode ok(String cli, String... args) throws Exception {
        AwsCliTest.Result r = aws(cli, args);
        assertEquals(0, r.exit(), () -> "aws " + String.join(" ", args) + " failed: " + r.err());
        return r.out().isBlank() ? json.createObjectNode() : json.readTree(r.out());
    }

    static List<String> shardIds(JsonNode listShards) {
        List<String> ids = new ArrayList<>();
        listShards.get("Shards").forEach(s -> ids.add(s.get("ShardId").asText()));
        return ids;
    }

    @ParameterizedTest
    @MethodSource("clis")
    @Execution(ExecutionMode.CONCURRENT) // a stream of its own per CLI
    void reshardsAStreamAndShowsItsLineage(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        String stream = "cli-reshard-" + version;
        ok(cli, "kinesis", "create-stream", "--stream-name", stream, "--shard-count", "2");
        TestNode.awaitActive(kinesis, stream);
        List<String> put = new ArrayList<>(List.of("kinesis", "put-record", "--stream-name", stream, "--data", "before",
                "--partition-key", "p", "--explicit-hash-key", "0"));
        if (version.equals("v2")) put.addAll(List.of("--cli-binary-format", "raw-in-base64-out"));
        assertEquals("shardId-000000000000", ok(cli, put.toArray(String[]::new)).get("ShardId").asText());

        // split the lower half at a quarter of the key space
        String quarter = BigInteger.ONE.shiftLeft(126).toString();
        JsonNode split = ok(cli, "kinesis", "split-shard", "--stream-name", stream, "--shard-to-split", "shardId-000000000000",
                "--new-starting-hash-key", quarter);
        assertEquals(0, split.size(), split.toString());
        TestNode.awaitActive(kinesis, stream);
        JsonNode summary = ok(cli, "kinesis", "describe-stream-summary", "--stream-name", stream).get("StreamDescriptionSummary");
        assertEquals(3, summary.get("OpenShardCount").asInt());
        assertEquals("ACTIVE", summary.get("StreamStatus").asText());

        JsonNode all = ok(cli, "kinesis", "list-shards", "--stream-name", stream);
        assertEquals(List.of("shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"),
                shardIds(all));
        JsonNode upper = all.get("Shards").get(3);
        assertEquals("shardId-000000000000", upper.get("ParentShardId").asText());
        assertEquals(quarter, upper.get("HashKeyRange").get("StartingHashKey").asText());
        assertTrue(all.get("Shards").get(0).get("SequenceNumberRange").has("EndingSequenceNumber"), all.toString());
        assertEquals(List.of("shardId-000000000001", "shardId-000000000002", "shardId-000000000003"),
                shardIds(ok(cli, "kinesis", "list-shards", "--stream-name", stream, "--shard-filter", "Type=AT_LATEST")));
        assertEquals(List.of("shardId-000000000000", "shardId-000000000001"),
                shardIds(ok(cli, "kinesis", "list-shards", "--stream-name", stream, "--shard-filter", "Type=AT_TRIM_HORIZON")));
        assertEquals(List.of("shardId-000000000002", "shardId-000000000003"), shardIds(ok(cli, "kinesis", "list-shards",
                "--stream-name", stream, "--shard-filter", "Type=AFTER_SHARD_ID,ShardId=shardId-000000000001")));

        // the closed shard: its record, then no next iterator and the two children
        String it = ok(cli, "kinesis", "get-shard-iterator", "--stream-name", stream, "--shard-id", "shardId-000000000000",
                "--shard-iterator-type", "TRIM_HORIZON").get("ShardIterator").asText();
        List<String> data = new ArrayList<>();
        JsonNode end = null;
        for (int i = 0; i < 5 && end == null; i++) {
            JsonNode got = ok(cli, "kinesis", "get-records", "--shard-iterator", it);
            got.get("Records").forEach(r -> data.add(new String(Base64.getDecoder().decode(r.get("Data").asText()), StandardCharsets.UTF_8)));
            JsonNode next = got.get("NextShardIterator");
            if (next == null || next.isNull()) {
                end = got;
            } else {
                assertTrue(!got.has("ChildShards") || got.get("ChildShards").isEmpty(), "children beside an iterator: " + got);
                it = next.asText();
            }
        }
        assertNotNull(end, "the closed shard never ended");
        assertEquals(List.of("before"), data);
        JsonNode children = end.get("ChildShards");
        assertEquals(2, children.size(), end.toString());
        assertEquals("shardId-000000000002", children.get(0).get("ShardId").asText());
        assertEquals("shardId-000000000003", children.get(1).get("ShardId").asText());
        for (JsonNode child : children) {
            assertEquals(1, child.get("ParentShards").size());
            assertEquals("shardId-000000000000", child.get("ParentShards").get(0).asText());
        }
        assertEquals("0", children.get(0).get("HashKeyRange").get("StartingHashKey").asText());
        assertEquals(new BigInteger(quarter).subtract(BigInteger.ONE).toString(),
                children.get(0).get("HashKeyRange").get("EndingHashKey").asText());
        assertEquals(quarter, children.get(1).get("HashKeyRange").get("StartingHashKey").asText());

        // merge the upper child with the old upper half: 3 ends where 1 begins
        ok(cli, "kinesis", "merge-shards", "--stream-name", stream, "--shard-to-merge", "shardId-000000000003",
                "--adjacent-shard-to-merge", "shardId-000000000001");
        TestNode.awaitActive(kinesis, stream);
        JsonNode merged = ok(cli, "kinesis", "list-shards", "--stream-name", stream, "--shard-filter", "Type=AT_LATEST");
        assertEquals(List.of("shardId-000000000002", "shardId-000000000004"), shardIds(merged));
        assertEquals("shardId-000000000003", merged.get("Shards").get(1).get("ParentShardId").asText());
        assertEquals("shardId-000000000001", merged.get("Shards").get(1).get("AdjacentParentShardId").asText());

        JsonNode scaled = ok(cli, "kinesis", "update-shard-count", "--stream-name", stream, "--target-shard-count", "4",
                "--scaling-type", "UNIFORM_SCALING");
        assertEquals(stream, scaled.get("StreamName").asText());
        assertEquals(2, scaled.get("CurrentShardCount").asInt());
        assertEquals(4, scaled.get("TargetShardCount").asInt());
        assertEquals("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream, scaled.get("StreamARN").asText());
        TestNode.awaitActive(kinesis, stream);
        assertEquals(4, ok(cli, "kinesis", "describe-stream-summary", "--stream-name", stream)
                .get("StreamDescriptionSummary").get("OpenShardCount").asInt());

        // a refusal, as the CLI prints it
        AwsCliTest.Result refused = aws(cli, "kinesis", "split-shard", "--stream-name", stream,
                "--shard-to-split", "shardId-000000000000", "--new-starting-hash-key", "1000");
        assertEquals("An error occurred (InvalidArgumentException) when calling the SplitShard operation: Shard shardId-000000000000 "
                + "in stream " + stream + " under account 000000000000 has already been merged or split, and thus is not eligible "
                + "for merging or splitting.", refused.err().strip());
        assertEquals(version.equals("v1") ? 255 : 254, refused.exit());
        assertTrue(refused.out().isBlank(), refused.out());
    }
}
