package io.sluice.node.stream;

import io.sluice.protocol.ApiException;
import io.sluice.node.Futures;
import io.sluice.node.NodeSettings;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The front end's view of stream metadata: asks the StreamEntity, and keeps the answer for a
 * short time ({@code sluice.stream.metadata-cache-ttl}) so that the data path does not ask on
 * every request. A change made anywhere in the cluster is seen by every node within that time.
 */
public final class StreamDirectory {
    private record Cached(StreamEntity.StreamInfo info, long expiresAt) {}

    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    public StreamDirectory(ActorSystem<?> system, NodeSettings settings) {
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
    }

    /** Fresh metadata, straight from the entity (for control-plane answers such as DescribeStream). */
    public CompletionStage<StreamEntity.StreamInfo> describe(String streamName) {
        return Futures.direct(sharding.entityRefFor(StreamEntity.ENTITY_KEY, streamName)
                .<StreamEntity.StreamInfo>askWithStatus(StreamEntity.Describe::new, settings.askTimeout()))
                .whenComplete((info, failure) -> {
                    if (info != null) {
                        cache.put(streamName, new Cached(info, System.nanoTime() + settings.metadataCacheTtl().toNanos()));
                    }
                })
                .exceptionally(failure -> {
                    throw ApiException.of(failure);
                });
    }

    /** Metadata at most one cache period old, for the data path. */
    public CompletionStage<StreamEntity.StreamInfo> get(String streamName) {
        Cached cached = cache.get(streamName);
        if (cached != null && cached.expiresAt() - System.nanoTime() > 0) {
            return CompletableFuture.completedFuture(cached.info());
        }
        return describe(streamName);
    }

    public void forget(String streamName) {
        cache.remove(streamName);
    }
}
