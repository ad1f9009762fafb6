package io.sluice.node.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import io.sluice.node.runtime.NodeSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies the shipped schema ({@code schema/sluice.cql}) before the node journals anything. Every
 * statement is {@code IF NOT EXISTS}; nodes started one after another apply it harmlessly again.
 */
public final class CassandraSchema {
    private static final Logger log = LoggerFactory.getLogger(CassandraSchema.class);

    private CassandraSchema() {}

    public static List<String> statements(String keyspace, String replication) {
        String text;
        try (InputStream in = CassandraSchema.class.getResourceAsStream("/schema/sluice.cql")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("schema/sluice.cql is missing from the node's classpath", e);
        }
        StringBuilder body = new StringBuilder();
        for (String line : text.split("\n")) {
            if (!line.trim().startsWith("--")) body.append(line).append('\n');
        }
        List<String> out = new ArrayList<>();
        for (String statement : body.toString().split(";")) {
            if (!statement.isBlank()) {
                out.add(statement.trim().replace("${keyspace}", keyspace).replace("${replication}", replication));
            }
        }
        return out;
    }

    /** Waits for Cassandra (up to {@code timeout}) and applies the schema. */
    public static void apply(NodeSettings settings, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try (CqlSession session = session(settings.cassandraContactPoints())) {
                // a restarting node finds the schema in place: skip the DDL, whose schema-agreement waits
                // take seconds per statement on a busy cluster
                long tables = session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
                        settings.cassandraKeyspace()).all().size();
                if (tables >= 7) {
                    log.info("Cassandra schema already in keyspace {}", settings.cassandraKeyspace());
                    return;
                }
                for (String statement : statements(settings.cassandraKeyspace(), settings.cassandraReplication())) {
                    session.execute(statement);
                }
                log.info("Cassandra schema applied in keyspace {}", settings.cassandraKeyspace());
                return;
            } catch (RuntimeException e) {
                last = e;
                log.info("Cassandra not ready yet ({}); retrying", e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
        throw new IllegalStateException("Cassandra at " + settings.cassandraContactPoints() + " did not accept the schema", last);
    }

    public static CqlSession session(List<String> contactPoints) {
        var builder = CqlSession.builder().withLocalDatacenter("datacenter1");
        for (String hostPort : contactPoints) {
            int colon = hostPort.lastIndexOf(':');
            builder.addContactPoint(new InetSocketAddress(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1))));
        }
        return builder.build();
    }
}
