package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Node processes started the way deploy/local/sluice starts them: on loopback ports, one Pekko
 * cluster, a fresh keyspace of the shared test Cassandra, one root identity. Node {@code i} (0-based)
 * logs to {@code node<i+1>.log} in a temporary directory, shown when it fails to start.
 */
final class LocalCluster implements AutoCloseable {
    private static final ObjectMapper json = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();

    final String accessKey = "AKIA" + random(12).replaceAll("[^A-Z2-7]", "A").substring(0, 16).toUpperCase();
    final String secret = random(30);
    private final int[] httpPorts;
    private final int[] clusterPorts;
    private final int[] httpsPorts;
    private final Process[] processes;
    private final Path dataDir;
    private final Map<String, String> env;

    static String random(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    /**
     * Starts {@code nodes} nodes, the first two the seeds, with {@code extraEnv} on top of the
     * cluster's own environment: node 1 first (it applies the schema and forms the cluster), then the
     * others together.
     */
    static LocalCluster start(int nodes, Map<String, String> extraEnv) throws Exception {
        LocalCluster cluster = new LocalCluster(nodes, extraEnv);
        cluster.start(0);
        Thread[] others = new Thread[nodes];
        Throwable[] failures = new Throwable[nodes];
        for (int i = 1; i < nodes; i++) {
            int n = i;
            others[i] = new Thread(() -> {
                try { cluster.start(n); } catch (Throwable e) { failures[n] = e; }
            });
            others[i].start();
        }
        for (int i = 1; i < nodes; i++) {
            others[i].join();
            if (failures[i] != null) {
                cluster.close();
                throw new AssertionError("node " + (i + 1) + " did not start", failures[i]);
            }
        }
        return cluster;
    }

    private LocalCluster(int nodes, Map<String, String> extraEnv) throws Exception {
        httpPorts = new int[nodes];
        clusterPorts = new int[nodes];
        httpsPorts = new int[nodes];
        processes = new Process[nodes];
        for (int i = 0; i < nodes; i++) {
            httpPorts[i] = CassandraForTests.freePort();
            clusterPorts[i] = CassandraForTests.freePort();
            httpsPorts[i] = CassandraForTests.freePort();
        }
        dataDir = Files.createTempDirectory("sluice-cluster");
        env = new HashMap<>(Map.of(
                "SLUICE_CASSANDRA", CassandraForTests.contactPoint(),
                "SLUICE_CASSANDRA_KEYSPACE", "sluice_cluster_" + System.nanoTime() % 1_000_000,
                "SLUICE_SEED_NODES", "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[Math.min(1, nodes - 1)],
                "SLUICE_ROOT_ACCESS_KEY_ID", accessKey,
                "SLUICE_ROOT_SECRET_ACCESS_KEY", secret,
                "SLUICE_ITERATOR_SECRET", random(32),
                "SLUICE_ROOT_KEY", random(32)));
        env.putAll(extraEnv);
    }

    /** Starts node {@code i} (again) and waits until it reports healthy; fails after 180 s. */
    void start(int i) throws Exception {
        Path node = Path.of(System.getProperty("user.dir"));
        String classpath = node.resolve("target/classes") + File.pathSeparator
                + Files.readString(node.resolve("target/runtime.classpath")).trim();
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx384m"));
        // the test run's Cassandra driver settings (the build's surefire configuration) hold for the nodes too
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("datastax-java-driver.")).sorted()
                .forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
        command.addAll(List.of("-cp", classpath, "io.sluice.node.SluiceNode"));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        pb.environment().put("SLUICE_HTTP_PORT", Integer.toString(httpPorts[i]));
        pb.environment().put("SLUICE_CLUSTER_PORT", Integer.toString(clusterPorts[i]));
        pb.environment().put("SLUICE_TLS_PORT", Integer.toString(httpsPorts[i]));
        pb.environment().put("SLUICE_DATA_DIR", dataDir.resolve("node" + (i + 1)).toString());
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("node" + (i + 1) + ".log").toFile()));
        Process p = pb.start();
        processes[i] = p;
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            assertTrue(p.isAlive(), () -> "node " + (i + 1) + " exited: " + tail(i));
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(endpoint(i) + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) return;
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("node " + (i + 1) + " not healthy: " + tail(i));
    }

    Process process(int i) {
        return processes[i];
    }

    URI endpoint(int i) {
        return URI.create("http://127.0.0.1:" + httpPorts[i]);
    }

    /** Node {@code i}'s HTTPS listener, with the self-signed certificate in {@link #tlsCertificateFile}. */
    URI httpsEndpoint(int i) {
        return URI.create("https://127.0.0.1:" + httpsPorts[i]);
    }

    /** The certificate node {@code i} generated into its data folder (PEM). */
    Path tlsCertificateFile(int i) {
        return dataDir.resolve("node" + (i + 1)).resolve(io.sluice.node.tls.ServerCertificate.CERTIFICATE_FILE);
    }

    List<URI> endpoints() {
        return java.util.stream.IntStream.range(0, httpPorts.length).mapToObj(this::endpoint).toList();
    }

    /** The last lines node {@code i} logged. */
    String tail(int i) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("node" + (i + 1) + ".log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (Exception e) {
            return "(no log)";
        }
    }

    /** Node {@code i}'s view of the cluster ({@code GET /admin/cluster}): members, and the entities it hosts. */
    JsonNode view(int i) throws Exception {
        return json.readTree(new SignedHttp(endpoint(i), accessKey, secret).forService("sluice")
                .get("/admin/cluster").body());
    }

    /** A Kinesis client of node {@code i} as root, the SDK's default retries on. */
    KinesisClient client(int i, Duration timeout) {
        return client(i, timeout, c -> {});
    }

    KinesisClient client(int i, Duration timeout, Consumer<ClientOverrideConfiguration.Builder> config) {
        return KinesisClient.builder().endpointOverride(endpoint(i)).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secret)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(timeout).connectionTimeout(Duration.ofSeconds(2)).build())
                .overrideConfiguration(c -> config.accept(c.apiCallTimeout(timeout)))
                .build();
    }

    @Override
    public void close() {
        for (Process p : processes) if (p != null) p.destroyForcibly();
    }
}
