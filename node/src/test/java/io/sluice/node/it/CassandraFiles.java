package io.sluice.node.it;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.sluice.deploy.cassandra.EmbeddedCassandra;
import io.sluice.node.shard.ShardEntity;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What someone holding Cassandra's tables or the embedded Cassandra's disks sees, and the nodetool
 * operations (flush, garbagecollect) an operator runs, over the instance's local JMX port.
 */
final class CassandraFiles {
    private CassandraFiles() {}

    /** nodetool flush KEYSPACE TABLE */
    static void flush(EmbeddedCassandra cassandra, String keyspace, String table) throws Exception {
        storageService(cassandra, "forceKeyspaceFlush", new Object[] {keyspace, new String[] {table}},
                new String[] {String.class.getName(), String[].class.getName()});
    }

    /** nodetool garbagecollect KEYSPACE TABLE: rewrites SSTables without data shadowed by purgeable tombstones. */
    static void garbageCollect(EmbeddedCassandra cassandra, String keyspace, String table) throws Exception {
        storageService(cassandra, "garbageCollect", new Object[] {"ROW", 1, keyspace, new String[] {table}},
                new String[] {String.class.getName(), int.class.getName(), String.class.getName(), String[].class.getName()});
    }

    private static void storageService(EmbeddedCassandra cassandra, String operation, Object[] args, String[] signature)
            throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + cassandra.jmxPort() + "/jmxrmi");
        try (JMXConnector jmx = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection server = jmx.getMBeanServerConnection();
            server.invoke(new ObjectName("org.apache.cassandra.db:type=StorageService"), operation, args, signature);
        }
    }

    /**
     * The files of a table's SSTables on disk. Cassandra may be finishing a compaction or a garbage collection
     * while we look: it deletes obsolete SSTables and its transaction logs as it goes. So the walk waits until
     * no transaction is open (its `*_txn_*.log` files are gone), tries again when a file vanishes under it, and
     * leaves the logs out (they hold file names, not data).
     */
    static List<Path> sstableFiles(EmbeddedCassandra cassandra, String keyspace, String table) throws IOException {
        Path keyspaceDir = cassandra.dataDir().resolve("data").resolve(keyspace);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                List<Path> files = listTableFiles(keyspaceDir, table);
                boolean transactionOpen = files.stream().anyMatch(CassandraFiles::isTransactionLog);
                if (!transactionOpen || System.nanoTime() > deadline) {
                    return files.stream().filter(f -> !isTransactionLog(f)).toList();
                }
            } catch (NoSuchFileException | UncheckedIOException vanished) {
                if (System.nanoTime() > deadline) throw vanished;
            }
            sleep();
        }
    }

    private static List<Path> listTableFiles(Path keyspaceDir, String table) throws IOException {
        try (Stream<Path> dirs = Files.list(keyspaceDir)) {
            List<Path> tableDirs = dirs.filter(d -> d.getFileName().toString().startsWith(table + "-")).toList();
            List<Path> files = new ArrayList<>();
            for (Path d : tableDirs) {
                try (Stream<Path> walk = Files.walk(d)) {
                    walk.filter(Files::isRegularFile).forEach(files::add);
                }
            }
            return files;
        }
    }

    private static boolean isTransactionLog(Path file) {
        String name = file.getFileName().toString();
        return name.contains("_txn_") && name.endsWith(".log");
    }

    private static void sleep() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether any of the files holds the bytes, as stored (the table must be uncompressed to find them). A file
     * Cassandra deleted since it was listed holds nothing any more, and counts as not holding them.
     */
    static boolean anyContains(List<Path> files, byte[] needle) throws IOException {
        for (Path f : files) {
            byte[] content;
            try {
                content = Files.readAllBytes(f);
            } catch (NoSuchFileException deleted) {
                continue;
            }
            if (indexOf(content, needle) >= 0) return true;
        }
        return false;
    }

    /** Whether any journal event of a shard holds the text as stored: what a reader of the `messages` table sees. */
    static boolean shardJournalHolds(CqlSession cql, String keyspace, KinesisClient kinesis, String stream, int shard, String text) {
        long createdAt = kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary()
                .streamCreationTimestamp().toEpochMilli();
        String pid = ShardEntity.persistenceId(ShardEntity.entityId(stream, createdAt, shard));
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        List<Row> rows = cql.execute("SELECT event FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0",
                pid).all();
        if (rows.isEmpty()) throw new AssertionError("no journal events for " + pid);
        for (Row row : rows) {
            ByteBuffer event = row.getByteBuffer("event");
            byte[] bytes = new byte[event.remaining()];
            event.get(bytes);
            if (indexOf(bytes, needle) >= 0) return true;
        }
        return false;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
