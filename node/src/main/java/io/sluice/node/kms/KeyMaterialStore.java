package io.sluice.node.kms;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.sluice.node.runtime.Futures;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.CassandraSessionSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;

/**
 * Where KMS key material lives: one row per key and material version, each wrapped by the node
 * root key, outside the event log. Destroying a key deletes its one partition, which is all it
 * takes to make everything ever encrypted under it unreadable (crypto-shredding): the key's events
 * and snapshots hold no material, and the data keys and blobs encrypted under it are useless
 * without it.
 *
 * <p>Writes and reads are at QUORUM, so a version written on one node is found by every other
 * node's first read, and a destruction is seen by all.
 */
public interface KeyMaterialStore {

    /** Stores (or replaces) one material version. */
    CompletionStage<Done> put(String keyId, int version, byte[] wrapped);

    /** Every material version of a key, by version; empty once destroyed. */
    CompletionStage<Map<Integer, byte[]>> load(String keyId);

    /** Deletes every material version of a key; idempotent. */
    CompletionStage<Done> destroy(String keyId);

    /** The production store: table {@code kms_key_material} in the node's keyspace, through the journal's session. */
    static KeyMaterialStore cassandra(ActorSystem<?> system, String keyspace) {
        CassandraSession session = CassandraSessionRegistry.get(system)
                .sessionFor(CassandraSessionSettings.create("pekko.persistence.cassandra"));
        String table = keyspace + ".kms_key_material";
        return new KeyMaterialStore() {
            @Override
            public CompletionStage<Done> put(String keyId, int version, byte[] wrapped) {
                return Futures.direct(session.executeWrite(quorum("INSERT INTO " + table + " (key_id, version, wrapped) VALUES (?, ?, ?)",
                        keyId, version, ByteBuffer.wrap(wrapped))));
            }

            @Override
            public CompletionStage<Map<Integer, byte[]>> load(String keyId) {
                return Futures.direct(session.selectAll(quorum("SELECT version, wrapped FROM " + table + " WHERE key_id = ?", keyId)))
                        .thenApply(rows -> {
                            Map<Integer, byte[]> out = new TreeMap<>();
                            rows.forEach(row -> {
                                ByteBuffer b = row.getByteBuffer("wrapped");
                                byte[] bytes = new byte[b.remaining()];
                                b.get(bytes);
                                out.put(row.getInt("version"), bytes);
                            });
                            return out;
                        });
            }

            @Override
            public CompletionStage<Done> destroy(String keyId) {
                return Futures.direct(session.executeWrite(quorum("DELETE FROM " + table + " WHERE key_id = ?", keyId)));
            }

            @Override
            public String toString() {
                return "KeyMaterialStore[" + table + "]";
            }
        };
    }

    private static SimpleStatement quorum(String cql, Object... values) {
        return SimpleStatement.newInstance(cql, values).setConsistencyLevel(ConsistencyLevel.QUORUM);
    }
}
