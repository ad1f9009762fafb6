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
                out.add(statement.trim().replace("${keyspace}", keyspace).replace("${replication}", replication)
                        .replace("${material_gc_grace}", Long.toString(materialGcGraceSeconds(replication))));
            }
        }
        return out;
    }

    /**
     * How long a deleted KMS key's material may stay as a tombstone. With a single replica nothing can
     * miss the delete, so 0 lets the next compaction drop the bytes; with more, a replica that was
     * down must still get the delete from a hint (Cassandra keeps hints 3 hours by default), or a
     * repair would bring the destroyed key back.
     */
    static long materialGcGraceSeconds(String replication) {
        var factors = java.util.regex.Pattern.compile("'[^']*'\\s*:\\s*'?(\\d+)'?").matcher(replication).results()
                .mapToInt(m -> Integer.parseInt(m.group(1))).toArray();
        return factors.length == 1 && factors[0] == 1 ? 0 : 3 * 3600;
    }

    /** The tables the schema creates, by name. */
    static List<String> tables(List<String> statements) {
        List<String> out = new ArrayList<>();
        var table = java.util.regex.Pattern.compile("CREATE TABLE IF NOT EXISTS \\S+\\.(\\w+)");
        for (String statement : statements) {
            var m = table.matcher(statement);
            if (m.find()) out.add(m.group(1));
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
                List<String> statements = statements(settings.cassandraKeyspace(), settings.cassandraReplication());
                List<String> present = session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
                        settings.cassandraKeyspace()).all().stream().map(r -> r.getString("table_name")).toList();
                if (present.containsAll(tables(statements))) {
                    log.info("Cassandra schema already in keyspace {}", settings.cassandraKeyspace());
                    return;
                }
                for (String statement : statements) {
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
