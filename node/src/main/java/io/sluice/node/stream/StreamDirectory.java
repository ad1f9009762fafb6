package io.sluice.node.stream;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kinesis.ConsumerArn;
import io.sluice.protocol.kinesis.Kinesis.StreamAddressed;
import io.sluice.protocol.kinesis.HashKeys;
import io.sluice.protocol.kinesis.KinesisLimits;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

import io.sluice.protocol.kinesis.Kinesis.ChildShard;
import io.sluice.protocol.kinesis.Kinesis.HashKeyRange;
import java.util.ArrayList;
import java.util.List;
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
    private final ConcurrentHashMap<String, Router> routers = new ConcurrentHashMap<>();

    /** The open shards of one version of a stream's metadata, by starting hash key, for a binary search. */
    private record Router(StreamEntity.StreamInfo info, java.math.BigInteger[] starts, StreamEntity.ShardRange[] shards,
                          boolean even) {
        static Router of(StreamEntity.StreamInfo info) {
            List<StreamEntity.ShardRange> open = ReshardPlan.open(info.shards());
            boolean even = open.size() == info.shards().size() && open.stream().allMatch(s -> s.parentIndex() == null);
            java.math.BigInteger[] starts = new java.math.BigInteger[open.size()];
            for (int i = 0; i < starts.length; i++) starts[i] = new java.math.BigInteger(open.get(i).startingHashKey());
            return new Router(info, starts, open.toArray(StreamEntity.ShardRange[]::new), even);
        }

        StreamEntity.ShardRange route(java.math.BigInteger hashKey) {
            if (even) {
                // never resharded: the first shards split the key space evenly, so division finds the shard
                // (HashKeysTest proves the division agrees with the ranges StreamEntity hands out)
                return info.shards().get(HashKeys.evenRangeIndex(hashKey, info.shards().size()));
            }
            int at = java.util.Arrays.binarySearch(starts, hashKey);
            return shards[at >= 0 ? at : -at - 2];
        }
    }

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
                    } else if (ApiException.of(failure).error() == AwsError.ResourceNotFoundException) {
                        // a deleted stream leaves nothing behind on any node that once served it
                        cache.remove(streamName);
                        routers.remove(streamName);
                    }
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

    /** The open shard of a stream that takes the records of a hash key, by this version of its metadata. */
    public StreamEntity.ShardRange route(StreamEntity.StreamInfo info, java.math.BigInteger hashKey) {
        Router router = routers.get(info.name());
        if (router == null || router.info() != info) {
            router = Router.of(info);
            routers.put(info.name(), router);
        }
        return router.route(hashKey);
    }

    /** The stream a request names, by StreamName or StreamARN (which must be of this region and account). */
    public String nameOf(StreamAddressed r) {
        new Validation().length("streamName", r.streamName(), 1, 128)
                .pattern("streamName", r.streamName(), KinesisLimits.STREAM_NAME)
                .length("streamARN", r.streamARN(), 1, 2048).pattern("streamARN", r.streamARN(), KinesisLimits.STREAM_ARN)
                .check();
        if (r.streamName() != null) {
            return r.streamName();
        }
        if (r.streamARN() == null) {
            throw AwsError.ValidationException.exception("Either StreamName or StreamARN should be provided.");
        }
        String arn = r.streamARN();
        String prefix = settings.streamArn("");
        if (!arn.startsWith(prefix)) {
            throw AwsError.ResourceNotFoundException.exception("Stream " + arn + " not found.");
        }
        return arn.substring(prefix.length());
    }

    /**
     * The resource a stream-addressed request's IAM action applies to: the stream's ARN, or "*" when
     * it names none (the handler then refuses it with AWS's validation error).
     */
    public String resourceOf(StreamAddressed r) {
        return r.streamName() != null || r.streamARN() != null ? settings.streamArn(nameOf(r)) : "*";
    }

    /** A registered consumer and the metadata of its stream (the version it was found in). */
    public record RegisteredConsumer(StreamEntity.StreamInfo stream, Consumers.Consumer consumer) {}

    /**
     * The consumer a ConsumerARN names, by this node's cached metadata when that shows it ACTIVE, else
     * straight from the entity (a consumer registered or activated within the cache period, perhaps
     * through another node, is not refused for a stale cache). For SubscribeToShard, which checks the
     * consumer's status itself. ResourceNotFoundException when the ARN is not of this region and
     * account, or names no consumer of the stream as it is now (a deregistered consumer, an older
     * consumer of the same name, a consumer of a deleted stream of the same name).
     */
    public CompletionStage<RegisteredConsumer> consumer(String consumerArn) {
        return consumer(consumerArn, false).handle((found, failure) -> found)
                .thenCompose(found -> found != null && found.consumer().active()
                        ? CompletableFuture.completedFuture(found) : consumer(consumerArn, true));
    }

    /** {@link #consumer(String)} by fresh metadata, straight from the entity (for DescribeStreamConsumer). */
    public CompletionStage<RegisteredConsumer> consumerNow(String consumerArn) {
        return consumer(consumerArn, true);
    }

    private CompletionStage<RegisteredConsumer> consumer(String consumerArn, boolean fresh) {
        ConsumerArn arn;
        try {
            arn = consumerArnOf(consumerArn);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletionStage<StreamEntity.StreamInfo> info = fresh ? describe(arn.streamName()) : get(arn.streamName());
        return info.handle((stream, failure) -> {
            if (failure != null) {
                ApiException api = ApiException.of(failure);
                throw api.error() == AwsError.ResourceNotFoundException ? Consumers.notFound(arn, settings.accountId()) : api;
            }
            Consumers.Consumer consumer = stream.consumerByArn(consumerArn);
            if (consumer == null) {
                throw Consumers.notFound(arn, settings.accountId());
            }
            return new RegisteredConsumer(stream, consumer);
        });
    }

    /**
     * A ConsumerARN's parts: ValidationException for one not of the model's length and pattern,
     * ResourceNotFoundException for one of another region or account (as for a StreamARN).
     */
    public ConsumerArn consumerArnOf(String consumerArn) {
        new Validation().required("consumerARN", consumerArn).length("consumerARN", consumerArn, 1, 2048)
                .pattern("consumerARN", consumerArn, KinesisLimits.CONSUMER_ARN).check();
        ConsumerArn arn = ConsumerArn.parse(consumerArn, settings.streamArn(""));
        if (arn == null) {
            throw AwsError.ResourceNotFoundException.exception("Consumer " + consumerArn + " not found.");
        }
        return arn;
    }

    /** A stream whose records may be read now (not one being deleted), or AWS's ResourceNotFoundException. */
    public StreamEntity.StreamInfo readable(StreamEntity.StreamInfo info) {
        return readable(info, info.createdAtMillis());
    }

    /**
     * The stream an iterator was issued for, if its records may still be read: the same incarnation
     * (not one deleted and created again under the name), and not being deleted.
     */
    public StreamEntity.StreamInfo readable(StreamEntity.StreamInfo info, long createdAtMillis) {
        if (info.createdAtMillis() != createdAtMillis || info.status().equals("DELETING")) {
            throw AwsError.ResourceNotFoundException.exception("Stream " + info.name() + " under account "
                    + settings.accountId() + " not found.");
        }
        return info;
    }

    /** A stream that may be written to and read from now, or AWS's ResourceNotFoundException. */
    public StreamEntity.StreamInfo active(StreamEntity.StreamInfo info) {
        if (!info.acceptsData()) {
            throw AwsError.ResourceNotFoundException.exception("Stream " + info.name() + " under account "
                    + settings.accountId() + " not found.");
        }
        return info;
    }

    /**
     * The shards a closed shard's records continue in. The stream lists them once the reshard's wave
     * is persisted, right after the shard closed; metadata older than that lists none, and is read afresh.
     * Empty while the wave is still being persisted.
     */
    public CompletionStage<List<ChildShard>> childShards(StreamEntity.StreamInfo info, StreamEntity.ShardRange shard) {
        List<ChildShard> known = childShardsIn(info, shard.index());
        return !known.isEmpty() ? CompletableFuture.completedFuture(known) : describe(info.name()).thenApply(fresh -> childShardsIn(fresh, shard.index()));
    }

    private static List<ChildShard> childShardsIn(StreamEntity.StreamInfo info, int parent) {
        List<ChildShard> out = new ArrayList<>();
        for (StreamEntity.ShardRange s : info.shards()) {
            if (s.childOf(parent)) {
                List<String> parents = s.adjacentParentShardId() == null ? List.of(s.parentShardId())
                        : List.of(s.parentShardId(), s.adjacentParentShardId());
                out.add(new ChildShard(s.shardId(), parents, new HashKeyRange(s.startingHashKey(), s.endingHashKey())));
            }
        }
        return out;
    }


    /** A shard whose records may still be read (a closed one until its records expired), or AWS's refusal. */
    public StreamEntity.ShardRange readableShard(StreamEntity.StreamInfo info, String shardId, long nowMillis) {
        int index = HashKeys.shardIndex(shardId);
        return info.liveShards(nowMillis).stream().filter(s -> s.index() == index).findFirst()
                .orElseThrow(() -> AwsError.ResourceNotFoundException.exception("Shard " + shardId + " in stream "
                        + info.name() + " under account " + settings.accountId() + " does not exist"));
    }
}
