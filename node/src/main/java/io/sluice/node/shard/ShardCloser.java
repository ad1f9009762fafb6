package io.sluice.node.shard;

import io.sluice.node.runtime.Futures;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Closes one shard for a reshard ({@link ShardEntity.Close}) wherever it runs, and answers where it
 * ended. Idempotent: closing a closed shard answers the same end again.
 */
@FunctionalInterface
public interface ShardCloser {
    CompletionStage<ShardEntity.Closed> close(String shardEntityId);

    /** Through Cluster Sharding. */
    static ShardCloser sharding(ActorSystem<?> system, Duration askTimeout) {
        ClusterSharding sharding = ClusterSharding.get(system);
        return shardEntityId -> Futures.direct(sharding.entityRefFor(ShardEntity.ENTITY_KEY, shardEntityId)
                .<ShardEntity.Closed>askWithStatus(ShardEntity.Close::new, askTimeout));
    }
}
