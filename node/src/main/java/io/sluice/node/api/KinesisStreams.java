package io.sluice.node.api;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.auth.Caller;
import io.sluice.node.kms.KeyRing;
import io.sluice.node.stream.StreamCatalog;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Page;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kinesis.Kinesis.*;
import io.sluice.protocol.kinesis.KinesisLimits;
import io.sluice.protocol.kinesis.PageToken;
import io.sluice.protocol.kinesis.SequenceNumber;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import static io.sluice.node.api.Service.KINESIS;

/**
 * Kinesis stream administration: create, delete, describe and list streams and shards, retention,
 * tags, limits and server-side encryption settings. Validates each request as AWS does, asks the
 * stream entities and shapes the answers; the records themselves are {@link KinesisRecords}.
 */
public final class KinesisStreams {
    private static final Map<String, Object> EMPTY = Map.of();

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final Clock clock;
    private final StreamDirectory streams;
    private final KeyRing keys;
    private final java.util.function.Consumer<String> deleted;

    /** @param deleted told the name of a stream whose deletion was accepted (its traffic counters go) */
    public KinesisStreams(ActorSystem<?> system, NodeSettings settings, Clock clock, StreamDirectory streams, KeyRing keys,
                          java.util.function.Consumer<String> deleted) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.clock = clock;
        this.streams = streams;
        this.keys = keys;
        this.deleted = deleted;
    }

    public List<Operation<?>> operations() {
        return List.of(
                Operation.of(KINESIS, "CreateStream", CreateStreamRequest.class,
                        (c, r) -> r.streamName() == null ? "*" : settings.streamArn(r.streamName()), this::createStream),
                Operation.of(KINESIS, "DeleteStream", DeleteStreamRequest.class, this::resource,
                        (c, r, arn) -> this.<Done>change(streams.nameOf(r), replyTo -> new StreamEntity.Delete(
                                Boolean.TRUE.equals(r.enforceConsumerDeletion()), replyTo))
                                .thenApply(done -> {
                                    deleted.accept(streams.nameOf(r));
                                    return done;
                                })),
                Operation.of(KINESIS, "DescribeStream", DescribeStreamRequest.class, this::resource, this::describeStream),
                Operation.of(KINESIS, "DescribeStreamSummary", DescribeStreamSummaryRequest.class, this::resource,
                        this::describeStreamSummary),
                Operation.of(KINESIS, "ListStreams", ListStreamsRequest.class, (c, r) -> "*", this::listStreams),
                Operation.of(KINESIS, "ListShards", ListShardsRequest.class, this::listShardsResource, this::listShards)
                        .checkedBy(KinesisStreams::checkListShards),
                Operation.of(KINESIS, "IncreaseStreamRetentionPeriod", RetentionPeriodRequest.class, this::resource,
                        (c, r, arn) -> changeRetention(r, true)),
                Operation.of(KINESIS, "DecreaseStreamRetentionPeriod", RetentionPeriodRequest.class, this::resource,
                        (c, r, arn) -> changeRetention(r, false)),
                Operation.of(KINESIS, "AddTagsToStream", AddTagsToStreamRequest.class, this::resource, this::addTags),
                Operation.of(KINESIS, "RemoveTagsFromStream", RemoveTagsFromStreamRequest.class, this::resource, this::removeTags),
                Operation.of(KINESIS, "ListTagsForStream", ListTagsForStreamRequest.class, this::resource, this::listTags),
                Operation.of(KINESIS, "DescribeLimits", Object.class, (c, r) -> "*", (c, r, arn) -> describeLimits()),
                Operation.of(KINESIS, "StartStreamEncryption", StreamEncryptionRequest.class, this::resource, this::startEncryption),
                Operation.of(KINESIS, "StopStreamEncryption", StreamEncryptionRequest.class, this::resource,
                        (c, r, arn) -> {
                            String name = streams.nameOf(r);
                            validateEncryption(r);
                            return change(name, StreamEntity.StopEncryption::new);
                        }),
                Operation.of(KINESIS, "SplitShard", SplitShardRequest.class, this::resource, this::splitShard),
                Operation.of(KINESIS, "MergeShards", MergeShardsRequest.class, this::resource, this::mergeShards),
                Operation.of(KINESIS, "UpdateShardCount", UpdateShardCountRequest.class, this::resource, this::updateShardCount),
                Operation.of(KINESIS, "UpdateStreamMode", UpdateStreamModeRequest.class, this::resource, this::updateStreamMode));
    }

    private String resource(Caller caller, StreamAddressed r) {
        return streams.resourceOf(r);
    }

    /** A NextToken stands for the stream, position and filter, so it comes alone (checked before authorization, as AWS does). */
    private static void checkListShards(ListShardsRequest r) {
        if (r.nextToken() == null) {
            return;
        }
        if (r.streamName() != null || r.streamARN() != null) {
            throw AwsError.InvalidArgumentException.exception("NextToken and StreamName cannot be provided together.");
        }
        if (r.shardFilter() != null) {
            throw AwsError.InvalidArgumentException.exception("NextToken and ShardFilter cannot be provided together.");
        }
        if (r.exclusiveStartShardId() != null) {
            throw AwsError.InvalidArgumentException.exception("NextToken and ExclusiveStartShardId cannot be provided together.");
        }
    }

    /** A ListShards page after the first names its stream only through its NextToken: that stream is authorized. */
    private String listShardsResource(Caller caller, ListShardsRequest r) {
        if (r.nextToken() != null) {
            return settings.streamArn(PageToken.openShards(r.nextToken(), clock).streamName());
        }
        return streams.resourceOf(r);
    }

    // ---- stream lifecycle

    private CompletionStage<?> createStream(Caller caller, CreateStreamRequest r, String arn) {
        String mode = r.streamModeDetails() == null ? null : r.streamModeDetails().streamMode();
        new Validation()
                .required("streamName", r.streamName()).length("streamName", r.streamName(), 1, 128)
                .pattern("streamName", r.streamName(), KinesisLimits.STREAM_NAME)
                .range("shardCount", r.shardCount(), 1, 100_000)
                .oneOf("streamModeDetails.streamMode", mode, List.of("PROVISIONED", "ON_DEMAND"))
                .size("tags", r.tags(), 1, 200)
                .check();
        if (mode == null) {
            mode = r.shardCount() == null ? "ON_DEMAND" : "PROVISIONED";
        }
        if (mode.equals("PROVISIONED") && r.shardCount() == null) {
            throw AwsError.InvalidArgumentException.exception("ShardCount must be specified for streams in PROVISIONED mode.");
        }
        int shards = mode.equals("ON_DEMAND") ? settings.onDemandShards() : r.shardCount();
        String finalMode = mode;
        Map<String, String> tags = r.tags() == null ? Map.of() : r.tags();
        return openShardCount().thenCompose(open -> this.<StreamInfo>change(r.streamName(),
                replyTo -> new StreamEntity.Create(shards, finalMode, tags, open, replyTo)));
    }

    /**
     * Sends a change to a stream's entity and answers the empty structure; this node's cached
     * metadata of the stream is dropped whatever the outcome, so its next read sees the change.
     */
    private <T> CompletionStage<?> change(String name, Function<ActorRef<StatusReply<T>>, StreamEntity.Command> command) {
        return Futures.direct(sharding.entityRefFor(StreamEntity.ENTITY_KEY, name)
                        .<T>askWithStatus(command::apply, settings.askTimeout()))
                .whenComplete((done, failure) -> streams.forget(name))
                .thenApply(done -> EMPTY);
    }

    private CompletionStage<?> describeStream(Caller caller, DescribeStreamRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().range("limit", r.limit(), 1, 10_000)
                .length("exclusiveStartShardId", r.exclusiveStartShardId(), 1, 128)
                .pattern("exclusiveStartShardId", r.exclusiveStartShardId(), KinesisLimits.STREAM_NAME).check();
        int limit = r.limit() == null ? 100 : r.limit();
        return streams.describe(name).thenApply(info -> {
            Page<Shard> page = Page.after(shards(info, info.liveShards(clock.millis())), Shard::shardId,
                    r.exclusiveStartShardId(), limit);
            return new DescribeStreamResponse(new StreamDescription(info.name(), info.arn(), info.status(),
                    new StreamModeDetails(info.streamMode()), page.items(), page.more(), info.retentionHours(),
                    Instant.ofEpochMilli(info.createdAtMillis()), List.of(new EnhancedMetrics(List.of())),
                    info.encryptionType(), info.keyId()));
        });
    }

    private CompletionStage<?> describeStreamSummary(Caller caller, DescribeStreamSummaryRequest r, String arn) {
        return streams.describe(streams.nameOf(r)).thenApply(info -> new DescribeStreamSummaryResponse(
                new StreamDescriptionSummary(info.name(), info.arn(), info.status(),
                        new StreamModeDetails(info.streamMode()), info.retentionHours(),
                        Instant.ofEpochMilli(info.createdAtMillis()), List.of(new EnhancedMetrics(List.of())),
                        info.encryptionType(), info.keyId(), info.openShardCount(), info.consumers().size())));
    }

    private CompletionStage<?> listStreams(Caller caller, ListStreamsRequest r, String arn) {
        new Validation().range("limit", r.limit(), 1, 10_000)
                .length("exclusiveStartStreamName", r.exclusiveStartStreamName(), 1, 128)
                .pattern("exclusiveStartStreamName", r.exclusiveStartStreamName(), KinesisLimits.STREAM_NAME)
                .length("nextToken", r.nextToken(), 1, 1_048_576).check();
        String after = r.nextToken() != null ? PageToken.open(r.nextToken(), "streams", clock) : r.exclusiveStartStreamName();
        int limit = r.limit() == null ? 100 : r.limit();
        return catalog().thenCompose(listing -> {
            Page<String> names = Page.after(listing.keySet(), name -> name, after, limit);
            List<CompletableFuture<StreamSummary>> summaries = new ArrayList<>();
            for (String name : names.items()) {
                summaries.add(streams.get(name).thenApply(info -> new StreamSummary(info.name(), info.arn(), info.status(),
                        new StreamModeDetails(info.streamMode()), Instant.ofEpochMilli(info.createdAtMillis())))
                        .toCompletableFuture());
            }
            return CompletableFuture.allOf(summaries.toArray(CompletableFuture[]::new)).thenApply(v -> {
                List<StreamSummary> list = summaries.stream().map(CompletableFuture::join).toList();
                String token = names.more() ? PageToken.issue("streams", names.last(), clock) : null;
                return new ListStreamsResponse(names.items(), names.more(), token, list);
            });
        });
    }

    private CompletionStage<?> listShards(Caller caller, ListShardsRequest r, String arn) {
        new Validation().range("maxResults", r.maxResults(), 1, 10_000)
                .length("exclusiveStartShardId", r.exclusiveStartShardId(), 1, 128)
                .length("nextToken", r.nextToken(), 1, 1_048_576).check();
        String name;
        String after = r.exclusiveStartShardId();
        ShardFilter filter = r.shardFilter();
        if (r.nextToken() != null) {
            PageToken.Shards from = PageToken.openShards(r.nextToken(), clock);
            name = from.streamName();
            after = from.afterShardId();
            filter = from.filter();
        } else {
            name = streams.nameOf(r);
            checkShardFilter(filter);
        }
        if (filter != null && filter.type().equals("AFTER_SHARD_ID")) {
            after = after == null || filter.shardId().compareTo(after) > 0 ? filter.shardId() : after;
        }
        int limit = r.maxResults() == null ? 1000 : r.maxResults();
        String start = after;
        ShardFilter applied = filter;
        return streams.describe(name).thenApply(info -> {
            Page<Shard> page = Page.after(shards(info, filtered(info, applied, clock.millis())), Shard::shardId, start, limit);
            String token = page.more() ? PageToken.issueShards(name, page.last().shardId(), applied, clock) : null;
            return new ListShardsResponse(page.items(), token);
        });
    }

    private static void checkShardFilter(ShardFilter filter) {
        if (filter == null) {
            return;
        }
        new Validation().required("shardFilter.type", filter.type())
                .oneOf("shardFilter.type", filter.type(), List.of("AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON",
                        "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"))
                .length("shardFilter.shardId", filter.shardId(), 1, 128)
                .pattern("shardFilter.shardId", filter.shardId(), KinesisLimits.STREAM_NAME).check();
        boolean afterShard = filter.type().equals("AFTER_SHARD_ID");
        boolean timed = filter.type().equals("AT_TIMESTAMP") || filter.type().equals("FROM_TIMESTAMP");
        if (afterShard && filter.shardId() == null) {
            throw AwsError.InvalidArgumentException.exception("ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID");
        }
        if (!afterShard && filter.shardId() != null) {
            throw AwsError.InvalidArgumentException.exception("ShardId can only be supplied in a ShardFilter with a Type of AFTER_SHARD_ID");
        }
        if (timed && filter.timestamp() == null) {
            throw AwsError.InvalidArgumentException.exception("Timestamp must be supplied in a ShardFilter with a Type of FROM_TIMESTAMP or AT_TIMESTAMP");
        }
        if (!timed && filter.timestamp() != null) {
            throw AwsError.InvalidArgumentException.exception("Timestamp can only be supplied in a ShardFilter with a Type of FROM_TIMESTAMP or AT_TIMESTAMP");
        }
    }

    /**
     * The shards a ShardFilter picks, by when each was open: its opening (the stream's creation for
     * the first shards) to its closing. Times before the trim horizon count as the trim horizon, as
     * AWS corrects FROM_TIMESTAMP; without a filter, or AFTER_SHARD_ID, every shard within retention.
     */
    static List<StreamEntity.ShardRange> filtered(StreamInfo info, ShardFilter filter, long now) {
        List<StreamEntity.ShardRange> live = info.liveShards(now);
        if (filter == null) {
            return live;
        }
        long horizon = Math.max(now - info.retentionHours() * 3_600_000L, info.createdAtMillis());
        long at = filter.timestamp() == null ? horizon : Math.max(filter.timestamp().toEpochMilli(), horizon);
        return switch (filter.type()) {
            case "AT_LATEST" -> live.stream().filter(StreamEntity.ShardRange::open).toList();
            case "AT_TRIM_HORIZON" -> openAt(info, live, horizon);
            case "AT_TIMESTAMP" -> openAt(info, live, at);
            case "FROM_TIMESTAMP" -> live.stream().filter(s -> s.open() || s.closedAtMillis() >= at).toList();
            default -> live; // FROM_TRIM_HORIZON, AFTER_SHARD_ID
        };
    }

    /**
     * The shards that took records at {@code at}: opened by then and not closed before (a shard closing
     * at {@code at} may have taken a record then, as AWS counts an end equal to the timestamp).
     */
    private static List<StreamEntity.ShardRange> openAt(StreamInfo info, List<StreamEntity.ShardRange> shards, long at) {
        return shards.stream().filter(s -> info.openedAt(s) <= at && (s.open() || s.closedAtMillis() >= at)).toList();
    }

    private CompletionStage<?> changeRetention(RetentionPeriodRequest r, boolean increase) {
        String name = streams.nameOf(r);
        new Validation().required("retentionPeriodHours", r.retentionPeriodHours()).check();
        int hours = r.retentionPeriodHours();
        if (hours < KinesisLimits.MIN_RETENTION_HOURS) {
            throw AwsError.InvalidArgumentException.exception("Minimum allowed retention period is 24 hours. Requested retention period ("
                    + hours + " hours) is too short.");
        }
        if (hours > KinesisLimits.MAX_RETENTION_HOURS) {
            throw AwsError.InvalidArgumentException.exception("Maximum allowed retention period is 8760 hours. Requested retention period ("
                    + hours + " hours) is too long.");
        }
        return this.<Done>change(name, replyTo -> new StreamEntity.ChangeRetention(hours, increase, replyTo));
    }

    // ---- server-side encryption

    private CompletionStage<?> startEncryption(Caller caller, StreamEncryptionRequest r, String arn) {
        String name = streams.nameOf(r);
        validateEncryption(r);
        return keys.keyIdOf(r.keyId())
                .thenCompose(keys::view)
                .exceptionally(f -> {
                    ApiException api = ApiException.of(f);
                    if (api.error() == AwsError.NotFoundException) {
                        throw AwsError.KMSNotFoundException.exception("Could not find KMS key " + r.keyId() + ".");
                    }
                    throw api;
                })
                .thenCompose(key -> {
                    if (key.keyState().equals("Disabled")) {
                        throw AwsError.KMSDisabledException.exception("The KMS key " + key.arn() + " is disabled.");
                    }
                    if (key.keyState().equals("PendingDeletion")) {
                        throw AwsError.KMSInvalidStateException.exception("The KMS key " + key.arn() + " is pending deletion.");
                    }
                    return this.<Done>change(name, replyTo -> new StreamEntity.StartEncryption(r.keyId(), key.keyId(), replyTo));
                })
                // a refused key or a failed ask both leave this node's view of the stream to be read afresh
                .whenComplete((done, failure) -> streams.forget(name));
    }

    private static void validateEncryption(StreamEncryptionRequest r) {
        new Validation().required("encryptionType", r.encryptionType())
                .oneOf("encryptionType", r.encryptionType(), List.of("NONE", "KMS"))
                .required("keyId", r.keyId()).length("keyId", r.keyId(), 1, 2048).check();
        if (!r.encryptionType().equals("KMS")) {
            throw AwsError.InvalidArgumentException.exception("Encryption type must be KMS.");
        }
    }

    // ---- tags

    private CompletionStage<?> addTags(Caller caller, AddTagsToStreamRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("tags", r.tags()).size("tags", r.tags(), 1, 200).check();
        Validation v = new Validation();
        r.tags().forEach((k, val) -> v.length("tags", k, 1, 128).required("tags", val).length("tags", val, 0, 256));
        v.check();
        return this.<Done>change(name, replyTo -> new StreamEntity.AddTags(r.tags(), replyTo));
    }

    private CompletionStage<?> removeTags(Caller caller, RemoveTagsFromStreamRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("tagKeys", r.tagKeys()).size("tagKeys", r.tagKeys(), 1, 50).check();
        return this.<Done>change(name, replyTo -> new StreamEntity.RemoveTags(r.tagKeys(), replyTo));
    }

    private CompletionStage<?> listTags(Caller caller, ListTagsForStreamRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().range("limit", r.limit(), 1, 50).length("exclusiveStartTagKey", r.exclusiveStartTagKey(), 1, 128).check();
        int limit = r.limit() == null ? 50 : r.limit();
        return streams.describe(name).thenApply(info -> {
            List<Tag> all = info.tags().entrySet().stream().map(t -> new Tag(t.getKey(), t.getValue())).toList();
            Page<Tag> page = Page.after(all, Tag::key, r.exclusiveStartTagKey(), limit);
            return new ListTagsForStreamResponse(page.items(), page.more());
        });
    }

    private CompletionStage<?> describeLimits() {
        return allStreams().thenApply(infos -> {
            int open = infos.stream().mapToInt(StreamInfo::openShardCount).sum();
            int onDemand = (int) infos.stream().filter(i -> i.streamMode().equals("ON_DEMAND")).count();
            return new DescribeLimitsResponse(settings.shardLimit(), open, onDemand, settings.onDemandStreamLimit());
        });
    }

    // ---- helpers

    private CompletionStage<java.util.SortedMap<String, Long>> catalog() {
        return Futures.direct(StreamCatalog.ref(system, settings.accountId())
                .<StreamCatalog.Listing>ask(StreamCatalog.ListAll::new, settings.askTimeout()))
                .thenApply(StreamCatalog.Listing::streams);
    }

    private CompletionStage<Integer> openShardCount() {
        return allStreams().thenApply(infos -> infos.stream().mapToInt(StreamInfo::openShardCount).sum());
    }

    /** Every catalogued stream that can be described now (one deleted meanwhile is left out, not an error). */
    private CompletionStage<List<StreamInfo>> allStreams() {
        return catalog().thenCompose(listing -> {
            List<CompletableFuture<StreamInfo>> infos = listing.keySet().stream()
                    .map(n -> streams.get(n).toCompletableFuture()).toList();
            return CompletableFuture.allOf(infos.toArray(CompletableFuture[]::new))
                    .handle((v, failure) -> infos.stream().filter(f -> !f.isCompletedExceptionally())
                            .map(CompletableFuture::join).toList());
        });
    }

    private static List<Shard> shards(StreamInfo info, List<StreamEntity.ShardRange> shards) {
        List<Shard> out = new ArrayList<>(shards.size());
        for (StreamEntity.ShardRange s : shards) {
            String end = s.open() ? null : new SequenceNumber(s.index(), s.endEventSeqNr(), 0).toString();
            out.add(new Shard(s.shardId(), s.parentShardId(), s.adjacentParentShardId(),
                    new HashKeyRange(s.startingHashKey(), s.endingHashKey()),
                    new SequenceNumberRange(SequenceNumber.start(s.index()).toString(), end)));
        }
        return out;
    }

    // ---- resharding

    private CompletionStage<?> splitShard(Caller caller, SplitShardRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("shardToSplit", r.shardToSplit()).length("shardToSplit", r.shardToSplit(), 1, 128)
                .pattern("shardToSplit", r.shardToSplit(), KinesisLimits.STREAM_NAME)
                .required("newStartingHashKey", r.newStartingHashKey())
                .pattern("newStartingHashKey", r.newStartingHashKey(), KinesisLimits.HASH_KEY).check();
        return reshard(name, new StreamEntity.SplitRequest(r.shardToSplit(), r.newStartingHashKey())).thenApply(a -> EMPTY);
    }

    private CompletionStage<?> mergeShards(Caller caller, MergeShardsRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("shardToMerge", r.shardToMerge()).length("shardToMerge", r.shardToMerge(), 1, 128)
                .pattern("shardToMerge", r.shardToMerge(), KinesisLimits.STREAM_NAME)
                .required("adjacentShardToMerge", r.adjacentShardToMerge())
                .length("adjacentShardToMerge", r.adjacentShardToMerge(), 1, 128)
                .pattern("adjacentShardToMerge", r.adjacentShardToMerge(), KinesisLimits.STREAM_NAME).check();
        return reshard(name, new StreamEntity.MergeRequest(r.shardToMerge(), r.adjacentShardToMerge())).thenApply(a -> EMPTY);
    }

    private CompletionStage<?> updateShardCount(Caller caller, UpdateShardCountRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("targetShardCount", r.targetShardCount()).range("targetShardCount", r.targetShardCount(), 1, Integer.MAX_VALUE)
                .required("scalingType", r.scalingType()).oneOf("scalingType", r.scalingType(), List.of("UNIFORM_SCALING"))
                .check();
        return reshard(name, new StreamEntity.ScaleRequest(r.targetShardCount()))
                .thenApply(a -> new UpdateShardCountResponse(name, a.currentShardCount(), a.targetShardCount(),
                        settings.streamArn(name)));
    }

    private CompletionStage<StreamEntity.ReshardAccepted> reshard(String name, StreamEntity.ReshardRequest request) {
        return openShardCount().thenCompose(open -> Futures.direct(sharding.entityRefFor(StreamEntity.ENTITY_KEY, name)
                        .<StreamEntity.ReshardAccepted>askWithStatus(replyTo -> new StreamEntity.Reshard(request, open, replyTo),
                                settings.askTimeout()))
                .whenComplete((done, failure) -> streams.forget(name)));
    }

    private CompletionStage<?> updateStreamMode(Caller caller, UpdateStreamModeRequest r, String arn) {
        new Validation().required("streamARN", r.streamARN()).required("streamModeDetails", r.streamModeDetails()).check();
        String mode = r.streamModeDetails().streamMode();
        new Validation().required("streamModeDetails.streamMode", mode)
                .oneOf("streamModeDetails.streamMode", mode, List.of("PROVISIONED", "ON_DEMAND")).check();
        String name = streams.nameOf(r);
        return this.<Done>change(name, replyTo -> new StreamEntity.ChangeMode(mode, replyTo));
    }
}
