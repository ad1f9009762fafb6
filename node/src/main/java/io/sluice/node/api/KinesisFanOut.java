package io.sluice.node.api;

import com.typesafe.config.Config;
import io.sluice.node.auth.Caller;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardReader;
import io.sluice.node.stream.Consumers;
import io.sluice.node.stream.StreamCrypto;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kinesis.Kinesis.StartingPosition;
import io.sluice.protocol.kinesis.Kinesis.SubscribeToShardEvent;
import io.sluice.protocol.kinesis.Kinesis.SubscribeToShardRequest;
import io.sluice.protocol.kinesis.KinesisLimits;
import io.sluice.protocol.kinesis.SequenceNumber;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

import static io.sluice.node.api.Service.KINESIS;

/**
 * Enhanced fan-out's SubscribeToShard: records pushed to a registered consumer over one long response
 * (an AWS event stream, see {@link io.sluice.protocol.codec.EventStream}) rather than polled.
 *
 * <p>A subscription is a stream pulled by the HTTP/2 connection: each pull asks the shard to
 * {@link ShardEntity.Watch watch} for records after the subscription's position (answered at once when
 * there are some, else as soon as an append is stored: push, not a timer), reads them as GetRecords does
 * (tail or journal, through the {@link ShardReader}), opens them for the subscriber and emits one
 * {@link SubscribeToShardEvent}. Nothing is read before the client asks for more, so a slow consumer
 * holds at most one event in this node, and HTTP/2 flow control is its back-pressure; the shard itself
 * never waits on a consumer. With no records for a {@code heartbeat}, an empty event keeps the
 * connection alive. A subscription ends after its {@code lifetime} (AWS's 5 minutes), at the end of a
 * closed shard (with {@code ChildShards}), or with an exception event (superseded, consumer or stream
 * gone, KMS refusal).
 */
public final class KinesisFanOut {
    private static final Logger log = LoggerFactory.getLogger(KinesisFanOut.class);

    /** {@code sluice.fan-out}: how long a subscription lasts, how long it is exclusive, how often an idle one beats. */
    public record Limits(Duration lifetime, Duration exclusive, Duration heartbeat, int maxEventRecords, long maxEventBytes) {
        public static Limits from(Config root) {
            Config c = root.getConfig("sluice.fan-out");
            return new Limits(c.getDuration("subscription-lifetime"), c.getDuration("exclusive-window"),
                    c.getDuration("heartbeat"), c.getInt("max-event-records"), c.getBytes("max-event-bytes"));
        }
    }

    /** What SubscribeToShard answers: the messages of its event stream, rendered in the request's encoding by the protocol. */
    public record Subscription(Source<Published, NotUsed> messages) {}

    /** One message of a subscription's stream. */
    public sealed interface Published {}

    /** An event: {@code initial-response} or {@code SubscribeToShardEvent}. */
    public record Event(String eventType, Object body) implements Published {}

    /** The error that ends a subscription, sent as an exception message. */
    public record Failure(ApiException error) implements Published {}

    /**
     * Where a subscription stands: the next record to read, records older than minArrival skipped;
     * {@code fresh} until its first event, which is sent at once (records or not) without waiting.
     */
    private record Cursor(SequenceNumber next, long minArrivalMillis, boolean fresh, boolean ended) {
        /** The number just before the next record: AT or AFTER it, a resubscription starts at that record. */
        String continuation() {
            SequenceNumber before = next.indexInEvent() > 0
                    ? new SequenceNumber(next.shardIndex(), next.eventSeqNr(), next.indexInEvent() - 1)
                    : new SequenceNumber(next.shardIndex(), Math.max(0, next.eventSeqNr() - 1), SequenceNumber.MAX_RECORDS_PER_EVENT - 1);
            return before.toString();
        }

        Cursor at(SequenceNumber position) {
            return new Cursor(position, minArrivalMillis, false, false);
        }

        Cursor end() {
            return new Cursor(next, minArrivalMillis, false, true);
        }
    }

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final Clock clock;
    private final StreamDirectory streams;
    private final ShardReader reader;
    private final StreamCrypto crypto;
    private final Limits limits;

    public KinesisFanOut(ActorSystem<?> system, NodeSettings settings, Clock clock, StreamDirectory streams,
                         ShardReader reader, StreamCrypto crypto, Limits limits) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.clock = clock;
        this.streams = streams;
        this.reader = reader;
        this.crypto = crypto;
        this.limits = limits;
    }

    public List<Operation<?>> operations() {
        // authorized on the consumer ARN, as AWS does
        return List.of(Operation.of(KINESIS, "SubscribeToShard", SubscribeToShardRequest.class,
                (caller, r) -> r.consumerARN(), this::subscribe).checkedBy(KinesisFanOut::check));
    }

    private static void check(SubscribeToShardRequest r) {
        new Validation().required("consumerARN", r.consumerARN()).length("consumerARN", r.consumerARN(), 1, 2048)
                .pattern("consumerARN", r.consumerARN(), KinesisLimits.CONSUMER_ARN)
                .required("shardId", r.shardId()).length("shardId", r.shardId(), 1, 128)
                .pattern("shardId", r.shardId(), KinesisLimits.STREAM_NAME)
                .required("startingPosition", r.startingPosition())
                .check();
        StartingPosition p = r.startingPosition();
        new Validation().required("startingPosition.type", p.type())
                .oneOf("startingPosition.type", p.type(), KinesisLimits.ITERATOR_TYPES)
                .pattern("startingPosition.sequenceNumber", p.sequenceNumber(), KinesisLimits.SEQUENCE_NUMBER)
                .check();
    }

    private CompletionStage<?> subscribe(Caller caller, SubscribeToShardRequest r, String consumerArn) {
        return streams.consumer(consumerArn).thenCompose(registered -> {
            StreamInfo info = streams.readable(registered.stream());
            requireActive(info, registered.consumer());
            StreamEntity.ShardRange shard = streams.readableShard(info, r.shardId(), clock.millis());
            String subscriptionId = UUID.randomUUID().toString();
            EntityRef<ShardEntity.Command> shardRef = shardRef(info, shard);
            return start(info, shard, shardRef, r.startingPosition())
                    .thenCompose(cursor -> Futures.direct(AskPattern.<ShardEntity.Command, ShardEntity.Subscribed>ask(shardRef,
                                    replyTo -> new ShardEntity.Subscribe(consumerArn, subscriptionId, limits.exclusive().toMillis(), replyTo),
                                    settings.askTimeout(), system.scheduler()))
                            .thenApply(subscribed -> {
                                if (!subscribed.accepted()) throw inUse(consumerArn);
                                return new Subscription(messages(caller, consumerArn, subscriptionId, info, shard, shardRef, cursor));
                            }));
        });
    }

    /** The stream's messages: the initial response, then one event per pull until the subscription ends. */
    private Source<Published, NotUsed> messages(Caller caller, String consumerArn, String subscriptionId, StreamInfo first,
                                                StreamEntity.ShardRange shard, EntityRef<ShardEntity.Command> shardRef,
                                                Cursor start) {
        long deadline = System.nanoTime() + limits.lifetime().toNanos();
        Source<Published, NotUsed> events = Source.unfoldAsync(start, cursor -> {
            if (cursor.ended() || System.nanoTime() - deadline > 0) return CompletableFuture.completedFuture(Optional.empty());
            return step(caller, consumerArn, subscriptionId, first, shard, shardRef, cursor)
                    .exceptionally(failure -> Pair.create(cursor.end(), (Published) new Failure(failed(failure))))
                    .thenApply(Optional::of);
        });
        return Source.<Published>single(new Event("initial-response", Map.of()))
                .concat(events)
                .watchTermination((notUsed, done) -> {
                    done.whenComplete((d, failure) -> shardRef.tell(new ShardEntity.Unwatch(subscriptionId)));
                    return notUsed;
                });
    }

    /** One event: wait for records after the cursor (or a heartbeat's time), read and open them. */
    private CompletionStage<Pair<Cursor, Published>> step(Caller caller, String consumerArn, String subscriptionId,
                                                          StreamInfo first, StreamEntity.ShardRange shard,
                                                          EntityRef<ShardEntity.Command> shardRef, Cursor cursor) {
        CompletionStage<Optional<ShardEntity.WatchResult>> news = cursor.fresh()
                ? CompletableFuture.completedFuture(Optional.of(new ShardEntity.WatchResult(0, 0, false, false)))
                : watch(shardRef, consumerArn, subscriptionId, cursor);
        return news.thenCompose(watched -> streams.get(first.name())
                .thenCompose(info -> {
                    streams.readable(info);
                    if (info.createdAtMillis() != first.createdAtMillis()) {
                        throw AwsError.ResourceNotFoundException.exception("Stream " + first.name() + " under account "
                                + settings.accountId() + " not found.");
                    }
                    Consumers.Consumer consumer = info.consumerByArn(consumerArn);
                    if (consumer == null) {
                        throw Consumers.notFound(streams.consumerArnOf(consumerArn), settings.accountId());
                    }
                    requireActive(info, consumer);
                    if (watched.isEmpty()) {
                        // a heartbeat: nothing new, the subscriber is caught up
                        return CompletableFuture.completedFuture(Pair.create(cursor,
                                (Published) new Event("SubscribeToShardEvent",
                                        new SubscribeToShardEvent(List.of(), cursor.continuation(), 0L, null))));
                    }
                    if (watched.get().superseded()) {
                        return CompletableFuture.completedFuture(Pair.create(cursor.end(), (Published) new Failure(inUse(consumerArn))));
                    }
                    return read(caller, info, shard, shardRef, cursor);
                }));
    }

    private CompletionStage<Pair<Cursor, Published>> read(Caller caller, StreamInfo info, StreamEntity.ShardRange shard,
                                                          EntityRef<ShardEntity.Command> shardRef, Cursor cursor) {
        long retentionCutoff = clock.millis() - info.retentionHours() * 3_600_000L;
        long minArrival = Math.max(cursor.minArrivalMillis(), retentionCutoff);
        String entityId = ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index());
        return reader.read(shardRef, entityId, cursor.next().eventSeqNr(), cursor.next().indexInEvent(),
                        limits.maxEventRecords(), limits.maxEventBytes(), minArrival)
                .thenCompose(read -> crypto.open(info, caller, shard, read.records()).thenCompose(opened -> {
                    SequenceNumber next;
                    long behind = read.millisBehindLatest();
                    if (opened.size() < read.records().size()) {
                        // a record that did not open: the next event starts at it, and fails there
                        var stop = read.records().get(opened.size());
                        next = new SequenceNumber(shard.index(), stop.eventSeqNr(), stop.index());
                        behind = Math.max(1, behind);
                    } else {
                        next = new SequenceNumber(shard.index(), Math.max(read.nextEventSeqNr(), 1), read.nextIndex());
                    }
                    Cursor after = cursor.at(next);
                    var records = KinesisRecords.wireRecords(shard, read.records(), opened);
                    if (read.shardEnded() && opened.size() == read.records().size()) {
                        return streams.childShards(info, shard).thenApply(children -> Pair.create(after.end(),
                                (Published) new Event("SubscribeToShardEvent",
                                        new SubscribeToShardEvent(records, null, 0L, children))));
                    }
                    return CompletableFuture.completedFuture(Pair.create(after, (Published) new Event("SubscribeToShardEvent",
                            new SubscribeToShardEvent(records, after.continuation(), behind, null))));
                }));
    }

    /** The shard's answer once something follows the cursor; empty when a heartbeat's time passed first. */
    private CompletionStage<Optional<ShardEntity.WatchResult>> watch(EntityRef<ShardEntity.Command> shardRef,
                                                                    String consumerArn, String subscriptionId, Cursor cursor) {
        return Futures.direct(AskPattern.<ShardEntity.Command, ShardEntity.WatchResult>ask(shardRef,
                        replyTo -> new ShardEntity.Watch(consumerArn, subscriptionId, cursor.next().eventSeqNr() - 1, replyTo),
                        limits.heartbeat(), system.scheduler()))
                .handle((result, failure) -> {
                    if (failure == null) return Optional.of(result);
                    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
                    if (cause instanceof TimeoutException) return Optional.empty();
                    throw failure instanceof CompletionException c ? c : new CompletionException(failure);
                });
    }

    /** Where a new subscription starts, as GetShardIterator would place an iterator of that type. */
    private CompletionStage<Cursor> start(StreamInfo info, StreamEntity.ShardRange shard, EntityRef<ShardEntity.Command> shardRef,
                                          StartingPosition position) {
        String type = position.type();
        switch (type) {
            case "TRIM_HORIZON":
                return CompletableFuture.completedFuture(new Cursor(new SequenceNumber(shard.index(), 1, 0), 0, true, false));
            case "AT_TIMESTAMP":
                if (position.timestamp() == null) {
                    throw AwsError.InvalidArgumentException.exception(
                            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.");
                }
                return CompletableFuture.completedFuture(new Cursor(new SequenceNumber(shard.index(), 1, 0),
                        position.timestamp().toEpochMilli(), true, false));
            case "AT_SEQUENCE_NUMBER":
            case "AFTER_SEQUENCE_NUMBER": {
                SequenceNumber at = KinesisRecords.sequencePosition(type, position.sequenceNumber(), shard);
                return CompletableFuture.completedFuture(new Cursor(at, 0, true, false));
            }
            default: // LATEST
                return Futures.direct(shardRef.<ShardEntity.TipInfo>ask(ShardEntity.Tip::new, settings.askTimeout()))
                        .thenApply(tip -> new Cursor(new SequenceNumber(shard.index(), tip.lastEventSeqNr() + 1, 0), 0, true, false));
        }
    }

    /** AWS's ResourceInUseException for a consumer still CREATING or already DELETING. */
    private void requireActive(StreamInfo info, Consumers.Consumer consumer) {
        if (!consumer.active()) {
            throw AwsError.ResourceInUseException.exception("Consumer " + consumer.name() + " with creation timestamp "
                    + consumer.createdAtMillis() / 1000 + " under stream " + info.name() + " and account "
                    + settings.accountId() + " is not in ACTIVE status.");
        }
    }

    private ApiException inUse(String consumerArn) {
        return AwsError.ResourceInUseException.exception("Another active subscription exists for this consumer: " + consumerArn);
    }

    /** A failure as the exception message that ends the stream; Sluice's own faults are logged and named InternalFailureException. */
    private static ApiException failed(Throwable failure) {
        ApiException e = ApiException.of(failure);
        if (e.error().status() >= 500) {
            log.warn("A SubscribeToShard subscription failed", failure);
            return AwsError.InternalFailureException.exception("The subscription failed inside Sluice; subscribe again.");
        }
        return e;
    }

    private EntityRef<ShardEntity.Command> shardRef(StreamInfo info, StreamEntity.ShardRange shard) {
        return sharding.entityRefFor(ShardEntity.ENTITY_KEY, ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index()));
    }
}
