package io.sluice.node.it;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.sluice.deploy.cassandra.EmbeddedCassandra;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import io.sluice.node.crypto.RootKey;
import io.sluice.node.kms.KeyEntity;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.NotFoundException;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Key destruction checked where an attacker who holds the disks and the root key would look: the
 * Cassandra tables (every blob of the keyspace) and, on the embedded Cassandra, the SSTable files.
 * The attack is first shown to work on a live key (so the checks can fail), then to fail on a
 * destroyed one; records encrypted under the key stay unreadable, also after a restart.
 */
class KeyDestructionTest {

    @Test
    void aDestroyedKeyCannotBeRecoveredFromCassandraWithTheRootKeyAndItsRecordsStayUnreadable() throws Exception {
        MutableClock clock = new MutableClock();
        try (TestNode node = new TestNode(clock, "sluice.kms.deletion-sweep-interval = 1s").start();
             CqlSession cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()))) {
            Clients clients = new Clients(node);
            var created = clients.kms.createKey(b -> b.description("to be shredded")).keyMetadata();
            String keyId = created.keyId();
            String arn = created.arn();
            clients.kms.rotateKeyOnDemand(b -> b.keyId(keyId));
            TestNode.createActive(clients.kinesis, "shredded", 1);
            clients.kinesis.increaseStreamRetentionPeriod(b -> b.streamName("shredded").retentionPeriodHours(24 * 30));
            clients.kinesis.startStreamEncryption(b -> b.streamName("shredded").encryptionType(EncryptionType.KMS).keyId(keyId));
            TestNode.awaitActive(clients.kinesis, "shredded");
            for (int i = 0; i < 20; i++) {
                int n = i;
                clients.kinesis.putRecord(b -> b.streamName("shredded").partitionKey("k" + n).data(SdkBytes.fromUtf8String("secret-" + n)));
            }
            assertEquals(20, TestNode.readShard(clients.kinesis, "shredded", "shardId-000000000000", null).size());
            SdkBytes blob = clients.kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("kms secret"))).ciphertextBlob();
            // a second key, scheduled for deletion and never named again: only the sweeper can destroy it
            String forgotten = clients.kms.createKey(b -> b.description("forgotten")).keyMetadata().keyId();

            // the attacker's procedure, on live keys: read the material rows, unwrap them with the root key
            RootKey root = RootKey.loadOrCreate(node.dataDir);
            Map<Integer, byte[]> rows = materialRows(cql, node.keyspace, keyId);
            assertEquals(2, rows.size(), "one row per material version");
            rows.forEach((version, wrapped) -> assertEquals(32, root.unwrap(wrapped, KeyEntity.wrapContext(arn, version)).length));
            assertEquals(1, materialRows(cql, node.keyspace, forgotten).size());
            assertTrue(journalRows(cql, node.keyspace, "Key|" + keyId) > 0);
            // the material is nowhere but in its table: no blob of the journal or snapshots holds it
            assertFalse(anyBlobHolds(cql, node.keyspace, rows.values(), "messages", "snapshots"),
                    "wrapped key material reached the event log");
            Optional<EmbeddedCassandra> disks = CassandraForTests.embedded();
            if (disks.isPresent()) {
                CassandraFiles.flush(disks.get(), node.keyspace, "kms_key_material");
                assertTrue(CassandraFiles.anyContains(CassandraFiles.sstableFiles(disks.get(), node.keyspace, "kms_key_material"),
                        rows.get(0)), "the disk check cannot see material where there is some");
            }

            clients.kms.scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
            clients.kms.scheduleKeyDeletion(b -> b.keyId(forgotten).pendingWindowInDays(7));
            clock.advance(Duration.ofDays(7).plusMinutes(1));
            assertThrows(NotFoundException.class, () -> clients.kms.describeKey(b -> b.keyId(keyId)));

            await("the destroyed key's material and events deleted", () -> materialRows(cql, node.keyspace, keyId).isEmpty()
                    && journalRows(cql, node.keyspace, "Key|" + keyId) == 0 && snapshotRows(cql, node.keyspace, "Key|" + keyId) == 0);
            await("the sweeper destroyed the key nobody named", () -> materialRows(cql, node.keyspace, forgotten).isEmpty());
            await("ListKeys forgets destroyed keys", () -> clients.kms.listKeys().keys().stream()
                    .noneMatch(k -> k.keyId().equals(keyId) || k.keyId().equals(forgotten)));
            assertFalse(anyBlobHolds(cql, node.keyspace, rows.values(), "messages", "snapshots", "kms_key_material"),
                    "a wrapped material version is still readable in Cassandra");
            if (disks.isPresent()) {
                // what an operator runs to have the bytes gone from disk now rather than at the next compaction
                CassandraFiles.flush(disks.get(), node.keyspace, "kms_key_material");
                CassandraFiles.garbageCollect(disks.get(), node.keyspace, "kms_key_material");
                List<java.nio.file.Path> files = CassandraFiles.sstableFiles(disks.get(), node.keyspace, "kms_key_material");
                for (byte[] wrapped : rows.values()) {
                    assertFalse(CassandraFiles.anyContains(files, wrapped), "destroyed material still in an SSTable file");
                }
            }

            assertUnreadable(clients, blob);
            clients.close();
            node.stop();
            node.start();
            Clients again = new Clients(node);
            assertUnreadable(again, blob);
            assertTrue(materialRows(cql, node.keyspace, keyId).isEmpty());
            again.close();
        }
    }

    private static void assertUnreadable(Clients clients, SdkBytes blob) {
        String it = clients.kinesis.getShardIterator(b -> b.streamName("shredded").shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        KinesisException e = assertThrows(KinesisException.class, () -> clients.kinesis.getRecords(b -> b.shardIterator(it)));
        assertEquals("KMSNotFoundException", e.awsErrorDetails().errorCode());
        assertEquals(400, e.statusCode());
        assertThrows(NotFoundException.class, () -> clients.kms.decrypt(b -> b.ciphertextBlob(blob)));
    }

    private static final class Clients implements AutoCloseable {
        final KinesisClient kinesis;
        final KmsClient kms;

        Clients(TestNode node) {
            kinesis = node.kinesisClient();
            kms = node.kmsClient();
        }

        @Override
        public void close() {
            kinesis.close();
            kms.close();
        }
    }

    private static Map<Integer, byte[]> materialRows(CqlSession cql, String keyspace, String keyId) {
        Map<Integer, byte[]> out = new TreeMap<>();
        for (Row row : cql.execute("SELECT version, wrapped FROM " + keyspace + ".kms_key_material WHERE key_id = ?", keyId)) {
            out.put(row.getInt("version"), bytes(row.getByteBuffer("wrapped")));
        }
        return out;
    }

    private static long journalRows(CqlSession cql, String keyspace, String persistenceId) {
        return cql.execute("SELECT sequence_nr FROM " + keyspace + ".messages WHERE persistence_id = ? AND partition_nr = 0",
                persistenceId).all().size();
    }

    private static long snapshotRows(CqlSession cql, String keyspace, String persistenceId) {
        return cql.execute("SELECT sequence_nr FROM " + keyspace + ".snapshots WHERE persistence_id = ?", persistenceId).all().size();
    }

    /** Whether any blob column of the named tables holds one of the needles. */
    private static boolean anyBlobHolds(CqlSession cql, String keyspace, java.util.Collection<byte[]> needles, String... tables) {
        Map<String, List<String>> blobColumns = Map.of("messages", List.of("event", "meta"), "snapshots",
                List.of("snapshot", "snapshot_data", "meta"), "kms_key_material", List.of("wrapped"));
        for (String table : tables) {
            for (Row row : cql.execute("SELECT " + String.join(", ", blobColumns.get(table)) + " FROM " + keyspace + "." + table)) {
                for (String column : blobColumns.get(table)) {
                    ByteBuffer value = row.getByteBuffer(column);
                    if (value == null) continue;
                    byte[] hay = bytes(value);
                    for (byte[] needle : needles) {
                        if (CassandraFiles.indexOf(hay, needle) >= 0) return true;
                    }
                }
            }
        }
        return false;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("not in time: " + what);
            Thread.sleep(100);
        }
    }
}
