package io.sluice.node.shard;

import io.sluice.node.runtime.Futures;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import io.sluice.node.runtime.JournalCleanup;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Deletes one shard of a deleted stream incarnation: stops its entity wherever it runs
 * ({@link ShardEntity.Purge}), then deletes its journal events, snapshots and journal metadata.
 * Idempotent: purging a shard that is already gone finds nothing and succeeds.
 */
@FunctionalInterface
public interface ShardPurger {
    CompletionStage<Done> purge(String shardEntityId);

    /** Through Cluster Sharding and the Cassandra plugin's Cleanup. */
    static ShardPurger cassandra(ActorSystem<?> system, Duration askTimeout) {
        ClusterSharding sharding = ClusterSharding.get(system);
        JournalCleanup journal = new JournalCleanup(system);
        // the entity must have stopped before its events go: one that recovered from a half-deleted
        // journal would serve a wrong tail; the incarnation's ids are never used again (they carry its
        // creation time), so the highest sequence number is deleted too
        return shardEntityId -> Futures.direct(sharding.entityRefFor(ShardEntity.ENTITY_KEY, shardEntityId)
                        .<Done>askWithStatus(ShardEntity.Purge::new, askTimeout))
                .thenCompose(stopped -> journal.deleteAll(ShardEntity.persistenceId(shardEntityId)));
    }
}
