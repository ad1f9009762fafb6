package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The seed's CLI session (create, describe, put, get-shard-iterator, get-records) with the real AWS
 * CLI — v1 (first on PATH) and v2 ({@code /usr/bin/aws}, Debian's awscli) — against a running node.
 */
class AwsCliTest {
    static TestNode node;
    static final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "").start();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    /** Every AWS CLI on this machine; .ci/run installs both, so finding none is a failure. */
    public static List<String> clis() {
        List<String> found = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(dir, "aws");
            if (Files.isExecutable(p) && !p.toString().equals("/usr/bin/aws")) {
                found.add(p.toString());
                break;
            }
        }
        if (Files.isExecutable(Path.of("/usr/bin/aws"))) found.add("/usr/bin/aws");
        assertFalse(found.isEmpty(), "no AWS CLI found: install it (.ci/run does)");
        return found;
    }

    public record Result(int exit, String out, String err) {}

    static Result aws(String cli, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(cli, "--endpoint-url", node.endpoint().toString(), "--output", "json"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Path home = Files.createTempDirectory("aws-home");
        Map<String, String> env = pb.environment();
        env.put("AWS_ACCESS_KEY_ID", node.accessKeyId);
        env.put("AWS_SECRET_ACCESS_KEY", node.secretKey);
        env.put("AWS_DEFAULT_REGION", "us-east-1");
        env.put("AWS_CONFIG_FILE", home.resolve("config").toString());
        env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("credentials").toString());
        env.put("AWS_PAGER", "");
        env.remove("AWS_PROFILE");
        env.remove("AWS_SESSION_TOKEN");
        Path out = home.resolve("out");
        Path err = home.resolve("err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "aws " + String.join(" ", args) + " timed out");
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static JsonNode ok(String cli, String... args) throws Exception {
        Result r = aws(cli, args);
        assertEquals(0, r.exit(), () -> "aws " + String.join(" ", args) + " failed: " + r.err());
        return r.out().isBlank() ? json.nullNode() : json.readTree(r.out());
    }

    static boolean isV2(String cli) throws Exception {
        return aws(cli, "--version").out().startsWith("aws-cli/2") || aws(cli, "--version").err().startsWith("aws-cli/2");
    }

    @ParameterizedTest
    @MethodSource("clis")
    void runsTheSeedSession(String cli) throws Exception {
        boolean v2 = isV2(cli);
        String stream = "cli-" + (v2 ? "v2" : "v1");
        ok(cli, "kinesis", "create-stream", "--stream-name", stream, "--shard-count", "1");
        ok(cli, "kinesis", "wait", "stream-exists", "--stream-name", stream);

        JsonNode d = ok(cli, "kinesis", "describe-stream", "--stream-name", stream).get("StreamDescription");
        assertEquals("ACTIVE", d.get("StreamStatus").asText());
        assertEquals("NONE", d.get("EncryptionType").asText());
        assertTrue(d.has("KeyId") && d.get("KeyId").isNull(), d.toString());
        assertEquals("340282366920938463463374607431768211455",
                d.get("Shards").get(0).get("HashKeyRange").get("EndingHashKey").asText());
        assertEquals(24, d.get("RetentionPeriodHours").asInt());

        List<String> blob = v2 ? List.of("--cli-binary-format", "raw-in-base64-out") : List.of();
        List<String> put = new ArrayList<>(List.of("kinesis", "put-record", "--stream-name", stream, "--data", "a",
                "--partition-key", "a"));
        put.addAll(blob);
        JsonNode putA = ok(cli, put.toArray(String[]::new));
        assertEquals("shardId-000000000000", putA.get("ShardId").asText());
        assertTrue(putA.get("SequenceNumber").asText().matches("\\d{56}"));
        assertFalse(putA.has("EncryptionType"), putA.toString());

        String it = ok(cli, "kinesis", "get-shard-iterator", "--stream-name", stream, "--shard-id", "shardId-000000000000",
                "--shard-iterator-type", "TRIM_HORIZON").get("ShardIterator").asText();
        JsonNode got = ok(cli, "kinesis", "get-records", "--shard-iterator", it);
        JsonNode record = got.get("Records").get(0);
        assertEquals("YQ==", record.get("Data").asText());
        assertEquals("a", new String(Base64.getDecoder().decode(record.get("Data").asText()), StandardCharsets.UTF_8));
        assertEquals("a", record.get("PartitionKey").asText());
        assertEquals(putA.get("SequenceNumber").asText(), record.get("SequenceNumber").asText());
        assertTrue(record.has("ApproximateArrivalTimestamp"));
        assertEquals(0, got.get("MillisBehindLatest").asInt());
        assertTrue(got.get("NextShardIterator").asText().length() > 0);

        // the seed's second half: server-side encryption with the AWS-managed key
        ok(cli, "kinesis", "start-stream-encryption", "--stream-name", stream, "--encryption-type", "KMS",
                "--key-id", "alias/aws/kinesis");
        ok(cli, "kinesis", "wait", "stream-exists", "--stream-name", stream);
        Thread.sleep(1200); // front ends may cache stream metadata for a second
        JsonNode encrypted = ok(cli, "kinesis", "describe-stream", "--stream-name", stream).get("StreamDescription");
        assertEquals("KMS", encrypted.get("EncryptionType").asText());
        assertEquals("alias/aws/kinesis", encrypted.get("KeyId").asText());
        List<String> putB = new ArrayList<>(List.of("kinesis", "put-record", "--stream-name", stream, "--data", "b",
                "--partition-key", "b"));
        putB.addAll(blob);
        JsonNode b = ok(cli, putB.toArray(String[]::new));
        assertEquals("KMS", b.get("EncryptionType").asText());
        String again = ok(cli, "kinesis", "get-shard-iterator", "--stream-name", stream, "--shard-id", "shardId-000000000000",
                "--shard-iterator-type", "TRIM_HORIZON").get("ShardIterator").asText();
        JsonNode both = ok(cli, "kinesis", "get-records", "--shard-iterator", again).get("Records");
        assertEquals(2, both.size());
        assertEquals("YQ==", both.get(0).get("Data").asText());
        assertFalse(both.get(0).has("EncryptionType"));
        assertEquals("Yg==", both.get(1).get("Data").asText());
        assertEquals("KMS", both.get(1).get("EncryptionType").asText());
    }

    @ParameterizedTest
    @MethodSource("clis")
    void managesKmsKeys(String cli) throws Exception {
        JsonNode key = ok(cli, "kms", "create-key", "--description", "cli key").get("KeyMetadata");
        String keyId = key.get("KeyId").asText();
        assertEquals("Enabled", key.get("KeyState").asText());
        assertEquals("arn:aws:kms:us-east-1:000000000000:key/" + keyId, key.get("Arn").asText());
        String alias = "alias/cli-" + (isV2(cli) ? "v2" : "v1");
        ok(cli, "kms", "create-alias", "--alias-name", alias, "--target-key-id", keyId);
        assertEquals(keyId, ok(cli, "kms", "describe-key", "--key-id", alias).get("KeyMetadata").get("KeyId").asText());
        ok(cli, "kms", "disable-key", "--key-id", keyId);
        assertEquals("Disabled", ok(cli, "kms", "describe-key", "--key-id", keyId).get("KeyMetadata").get("KeyState").asText());
        Result denied = aws(cli, "kms", "generate-data-key", "--key-id", keyId, "--key-spec", "AES_256");
        assertTrue(denied.err().contains("DisabledException"), denied.err());
    }

    @ParameterizedTest
    @MethodSource("clis")
    void showsAwsErrorsForMistakes(String cli) throws Exception {
        Result missing = aws(cli, "kinesis", "describe-stream", "--stream-name", "no-such-stream");
        assertNotEquals(0, missing.exit());
        assertTrue(missing.err().contains("ResourceNotFoundException"), missing.err());
        assertTrue(missing.err().contains("Stream no-such-stream under account 000000000000 not found."), missing.err());
        Result forged = aws(cli, "kinesis", "get-records", "--shard-iterator", "DUMMY");
        assertTrue(forged.err().contains("InvalidArgumentException"), forged.err());
    }
}
