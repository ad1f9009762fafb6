package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The AWS SDK for JavaScript v3's Kinesis client, with its default request handler (NodeHttp2Handler:
 * HTTP/2 with prior knowledge on an http:// endpoint), against a real node: the script in
 * {@code src/test/js} creates a stream, puts a record and reads it back. Its pinned dependencies are
 * installed with {@code npm ci} into {@code target/js-sdk-test} (from the npm registry on a clean
 * machine). Needs Node.js 20 or later and npm on the PATH.
 */
class JavaScriptSdkTest {
    static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
    static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(90);
    static final Path SOURCES = Path.of(System.getProperty("basedir", "")).resolve("src/test/js").toAbsolutePath();
    static final Path WORK = Path.of(System.getProperty("basedir", "")).resolve("target/js-sdk-test").toAbsolutePath();

    static TestNode node;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    @Test
    void kinesisClientWithItsDefaultHttp2HandlerRoundTripsARecord() throws Exception {
        requireNodeJs();
        install();
        Result run = run(List.of("node", "kinesis-round-trip.mjs"), Map.of(
                "SLUICE_ENDPOINT", node.endpoint().toString(),
                "SLUICE_REGION", "us-east-1",
                "SLUICE_ACCESS_KEY_ID", node.accessKeyId,
                "SLUICE_SECRET_ACCESS_KEY", node.secretKey,
                "SLUICE_STREAM", "js-sdk-round-trip"), SCRIPT_TIMEOUT);
        assertEquals(0, run.exitCode(), run::describe);

        List<String> lines = run.stdout().lines().filter(l -> l.startsWith("{")).toList();
        assertFalse(lines.isEmpty(), run::describe);
        JsonNode out = new ObjectMapper().readTree(lines.get(lines.size() - 1));
        assertEquals("NodeHttp2Handler", out.get("handler").asText(), run::describe);
        assertEquals("shardId-000000000000", out.get("shardId").asText(), run::describe);
        List<String> records = new ArrayList<>();
        out.get("records").forEach(r -> records.add(r.asText()));
        assertEquals(List.of("hello from javascript"), records, run::describe);
    }

    static void requireNodeJs() throws Exception {
        for (String tool : List.of("node", "npm")) {
            Result version;
            try {
                version = run(List.of(tool, "--version"), Map.of(), Duration.ofSeconds(30));
            } catch (IOException e) {
                throw new AssertionError("JavaScriptSdkTest needs Node.js 20 or later and npm on the PATH; '" + tool
                        + "' cannot be run: " + e.getMessage(), e);
            }
            assertEquals(0, version.exitCode(), () -> "'" + tool + " --version' failed\n" + version.describe());
        }
    }

    /** {@code npm ci} of the pinned lock file, skipped when that same lock file is already installed. */
    static void install() throws Exception {
        Files.createDirectories(WORK);
        for (String file : List.of("package.json", "package-lock.json", "kinesis-round-trip.mjs")) {
            Files.copy(SOURCES.resolve(file), WORK.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Path installed = WORK.resolve("installed-package-lock.json");
        byte[] lock = Files.readAllBytes(WORK.resolve("package-lock.json"));
        if (Files.isDirectory(WORK.resolve("node_modules")) && Files.exists(installed)
                && Arrays.equals(lock, Files.readAllBytes(installed))) {
            return;
        }
        Files.deleteIfExists(installed);
        Result ci = run(List.of("npm", "ci", "--no-audit", "--no-fund"), Map.of(), INSTALL_TIMEOUT);
        assertEquals(0, ci.exitCode(), () -> "npm ci failed (it needs the npm registry or a warm npm cache)\n" + ci.describe());
        Files.write(installed, lock);
    }

    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        String describe() {
            return String.join(" ", command) + " exited " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /** Runs a command in {@link #WORK}, its output kept in files (no pipe to fill), killed past the timeout. */
    static Result run(List<String> command, Map<String, String> env, Duration timeout) throws Exception {
        Files.createDirectories(WORK);
        Path stdout = Files.createTempFile(WORK, "stdout", ".txt");
        Path stderr = Files.createTempFile(WORK, "stderr", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(WORK.toFile())
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail(String.join(" ", command) + " did not finish within " + timeout + "\n--- stdout\n"
                        + Files.readString(stdout, StandardCharsets.UTF_8) + "\n--- stderr\n" + Files.readString(stderr, StandardCharsets.UTF_8));
            }
            return new Result(command, process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                    Files.readString(stderr, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        }
    }
}
