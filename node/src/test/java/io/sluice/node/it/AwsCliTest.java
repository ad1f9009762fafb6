package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The seed's CLI session (create, describe, put, get-shard-iterator, get-records) with the real AWS
 * CLI, v1 and v2, against a running node.
 *
 * <p>Each CLI is told apart by what {@code aws --version} prints, never by where it lives: v1 is the
 * first {@code aws} on {@code PATH} that reports {@code aws-cli/1.x} (pip's awscli); v2 is
 * {@code /usr/bin/aws} (Debian's awscli) or else the first {@code aws} on {@code PATH} reporting
 * {@code aws-cli/2.x}. Both must be there ({@code .ci/run} installs them): a missing one fails its
 * cases with the reason, unless {@code SLUICE_TEST_SKIP_CLI=v1|v2|both} names it, which reports
 * those cases as skipped.
 */
public class AwsCliTest {
    static final String SKIP_VARIABLE = "SLUICE_TEST_SKIP_CLI";
    static TestNode node;
    static final ObjectMapper json = new ObjectMapper();
    private static final Pattern VERSION = Pattern.compile("^aws-cli/(\\d+)\\.");
    private static final Map<String, String> versions = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "").start();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    /** The CLI versions every CLI test runs with; both always, so that a missing CLI cannot drop its cases. */
    public static List<String> clis() {
        return List.of("v1", "v2");
    }

    /**
     * The path of the CLI reporting the given major version ({@code "v1"} or {@code "v2"}); fails
     * when there is none, or aborts the test when {@value #SKIP_VARIABLE} opts out of it.
     */
    public static String cli(String version) {
        assumeFalse(skipped(version), SKIP_VARIABLE + "=" + System.getenv(SKIP_VARIABLE) + " skips the AWS CLI " + version);
        List<String> candidates = new ArrayList<>();
        if (version.equals("v2")) candidates.add("/usr/bin/aws");
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) candidates.add(Path.of(dir, "aws").toString());
        }
        if (version.equals("v1")) candidates.add("/usr/bin/aws");
        String major = version.substring(1);
        List<String> seen = new ArrayList<>();
        Set<Path> tried = new HashSet<>(); // /bin/aws is /usr/bin/aws where /bin links to /usr/bin
        for (String candidate : candidates) {
            if (!Files.isExecutable(Path.of(candidate)) || !tried.add(realPath(candidate))) continue;
            String reported = versions.computeIfAbsent(candidate, AwsCliTest::reportedVersion);
            Matcher m = VERSION.matcher(reported);
            if (m.find() && m.group(1).equals(major)) return candidate;
            seen.add(candidate + " reports \"" + reported + "\"");
        }
        return fail("no AWS CLI " + version + " found: no aws on PATH" + (version.equals("v2") ? " nor /usr/bin/aws" : "")
                + " reports aws-cli/" + major + ".x" + (seen.isEmpty() ? " (no aws found at all)" : " (" + String.join("; ", seen) + ")")
                + ". Install it (" + (version.equals("v1") ? "pip install awscli" : "apt-get install awscli") + "; .ci/run does)"
                + " or set " + SKIP_VARIABLE + "=" + version + " to run without it.");
    }

    /** The CLI for tests that need any one: v1 unless it is opted out. */
    public static String anyCli() {
        return skipped("v1") ? cli("v2") : cli("v1");
    }

    /** Whether a CLI (a path {@link #cli} gave) is v2, which reads blob arguments as base64 unless told otherwise. */
    public static boolean isV2(String cli) {
        Matcher m = VERSION.matcher(versions.computeIfAbsent(cli, AwsCliTest::reportedVersion));
        return m.find() && m.group(1).equals("2");
    }

    private static boolean skipped(String version) {
        String skip = System.getenv().getOrDefault(SKIP_VARIABLE, "").trim();
        if (skip.isEmpty()) return false;
        assertTrue(Set.of("v1", "v2", "both").contains(skip), SKIP_VARIABLE + " must be v1, v2 or both, not \"" + skip + "\"");
        return skip.equals(version) || skip.equals("both");
    }

    private static Path realPath(String file) {
        try {
            return Path.of(file).toRealPath();
        } catch (IOException e) {
            return Path.of(file);
        }
    }

    private static String reportedVersion(String cli) {
        try {
            Process p = new ProcessBuilder(cli, "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), cli + " --version timed out");
            return p.exitValue() == 0 ? out : "exit " + p.exitValue() + ": " + out;
        } catch (IOException e) {
            return "cannot run: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public record Result(int exit, String out, String err) {}

    static Result aws(String cli, String... args) throws IOException, InterruptedException {
        return aws(node.endpoint(), node.accessKeyId, node.secretKey, cli, args);
    }

    public static Result aws(URI endpoint, String accessKeyId, String secretKey, String cli, String... args)
            throws IOException, InterruptedException {
        return aws(endpoint, accessKeyId, secretKey, Map.of(), cli, args);
    }

    /**
     * Runs the CLI against an endpoint with these credentials, from an empty home (no profile, no pager), JSON out.
     *
     * @param extraEnv further environment variables (AWS_CA_BUNDLE, say)
     */
    public static Result aws(URI endpoint, String accessKeyId, String secretKey, Map<String, String> extraEnv, String cli, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(cli, "--endpoint-url", endpoint.toString(), "--output", "json"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Path home = Files.createTempDirectory("aws-home");
        Map<String, String> env = pb.environment();
        env.put("AWS_ACCESS_KEY_ID", accessKeyId);
        env.put("AWS_SECRET_ACCESS_KEY", secretKey);
        env.put("AWS_DEFAULT_REGION", "us-east-1");
        env.put("AWS_CONFIG_FILE", home.resolve("config").toString());
        env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("credentials").toString());
        env.put("AWS_PAGER", "");
        env.remove("AWS_PROFILE");
        env.remove("AWS_SESSION_TOKEN");
        env.remove("AWS_CA_BUNDLE");
        env.putAll(extraEnv);
        Path out = home.resolve("out");
        Path err = home.resolve("err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        try {
            Process p = pb.start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "aws " + String.join(" ", args) + " timed out");
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            // the CLI's home holds nothing worth keeping (a cache at most); a run must not leave hundreds behind
            try (var files = Files.walk(home)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** Runs a command that must succeed (exit 0) and returns its JSON output. */
    static JsonNode ok(String cli, String... args) throws Exception {
        Result r = aws(cli, args);
        assertEquals(0, r.exit(), () -> "aws " + String.join(" ", args) + " failed: " + r.err());
        return r.out().isBlank() ? json.nullNode() : json.readTree(r.out());
    }

    /** Runs a command that must fail (non-zero exit) with the given error in its stderr, and returns what it printed. */
    static Result fails(String cli, String error, String... args) throws Exception {
        Result r = aws(cli, args);
        assertNotEquals(0, r.exit(), () -> "aws " + String.join(" ", args) + " should have failed with " + error + ": " + r.out());
        assertTrue(r.err().contains(error), () -> "aws " + String.join(" ", args) + " should have failed with " + error + ": " + r.err());
        return r;
    }

    @ParameterizedTest
    @MethodSource("clis")
    @Execution(ExecutionMode.CONCURRENT) // each invocation has streams, keys and aliases of its own
    void runsTheSeedSession(String version) throws Exception {
        String cli = cli(version);
        boolean v2 = version.equals("v2");
        String stream = "cli-" + version;
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
    @Execution(ExecutionMode.CONCURRENT) // each invocation has streams, keys and aliases of its own
    void managesKmsKeys(String version) throws Exception {
        String cli = cli(version);
        JsonNode key = ok(cli, "kms", "create-key", "--description", "cli key").get("KeyMetadata");
        String keyId = key.get("KeyId").asText();
        assertEquals("Enabled", key.get("KeyState").asText());
        assertEquals("arn:aws:kms:us-east-1:000000000000:key/" + keyId, key.get("Arn").asText());
        String alias = "alias/cli-" + version;
        ok(cli, "kms", "create-alias", "--alias-name", alias, "--target-key-id", keyId);
        assertEquals(keyId, ok(cli, "kms", "describe-key", "--key-id", alias).get("KeyMetadata").get("KeyId").asText());
        ok(cli, "kms", "disable-key", "--key-id", keyId);
        assertEquals("Disabled", ok(cli, "kms", "describe-key", "--key-id", keyId).get("KeyMetadata").get("KeyState").asText());
        fails(cli, "DisabledException", "kms", "generate-data-key", "--key-id", keyId, "--key-spec", "AES_256");
    }

    @ParameterizedTest
    @MethodSource("clis")
    @Execution(ExecutionMode.CONCURRENT) // each invocation has streams, keys and aliases of its own
    void showsAwsErrorsForMistakes(String version) throws Exception {
        String cli = cli(version);
        Result missing = fails(cli, "ResourceNotFoundException", "kinesis", "describe-stream", "--stream-name", "no-such-stream");
        assertTrue(missing.err().contains("Stream no-such-stream under account 000000000000 not found."), missing.err());
        fails(cli, "InvalidArgumentException", "kinesis", "get-records", "--shard-iterator", "DUMMY");
    }
}
