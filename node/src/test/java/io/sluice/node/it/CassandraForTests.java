package io.sluice.node.it;

import io.sluice.deploy.cassandra.EmbeddedCassandra;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The Cassandra the integration tests run against, started once per test JVM: the cluster named
 * by {@code SLUICE_CASSANDRA} (host:port) if set, otherwise a real Cassandra server from the
 * embedded launcher in its own JVM, stopped when the tests end.
 */
public final class CassandraForTests {
    private static String contactPoint;
    private static EmbeddedCassandra embedded;

    private CassandraForTests() {}

    public static synchronized String contactPoint() {
        if (contactPoint == null) {
            String given = System.getenv("SLUICE_CASSANDRA");
            if (given != null && !given.isBlank()) {
                contactPoint = given;
            } else {
                contactPoint = startEmbedded();
            }
        }
        return contactPoint;
    }

    private static String startEmbedded() {
        try {
            Path dir = Files.createTempDirectory("sluice-test-cassandra");
            int cql = freePort();
            int storage = freePort();
            EmbeddedCassandra cassandra = EmbeddedCassandra.start(dir, cql, storage, Duration.ofSeconds(180));
            Runtime.getRuntime().addShutdownHook(new Thread(cassandra::stop, "stop-test-cassandra"));
            embedded = cassandra;
            return "127.0.0.1:" + cql;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the embedded Cassandra", e);
        }
    }

    /** The embedded Cassandra the tests run on, when they do (not when SLUICE_CASSANDRA names another). */
    public static synchronized java.util.Optional<EmbeddedCassandra> embedded() {
        contactPoint();
        return java.util.Optional.ofNullable(embedded);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
