package io.sluice.node.stream;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.typesafe.config.Config;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardPurger;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.kinesis.HashKeys;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One Kinesis stream's metadata: status, shards and their hash key ranges, retention, tags and
 * encryption settings. Lifecycle: created as CREATING, ACTIVE once the catalogue lists it;
 * DELETING until its shards' journals are deleted and the catalogue has forgotten it, then gone (the
 * name can be reused; the new incarnation has a new creation time, and shard journals are keyed by
 * it, so old records never resurface).
 */
public final class StreamEntity
        extends EventSourcedBehaviorWithEnforcedReplies<StreamEntity.Command, StreamEntity.Event, StreamEntity.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Stream");

    // ---- commands

    public sealed interface Command extends CborSerializable {}

    public record Create(int shardCount, String streamMode, Map<String, String> tags, int openShardsInAccount,
                         ActorRef<StatusReply<StreamInfo>> replyTo) implements Command {}

    public record Describe(ActorRef<StatusReply<StreamInfo>> replyTo) implements Command {}

    public record Delete(ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record ChangeRetention(int hours, boolean increase, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record AddTags(Map<String, String> tags, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record RemoveTags(List<String> keys, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /** Switch to server-side encryption with a KMS key: {@code keyId} as the user named it, {@code kmsKeyId} its key id. */
    public record StartEncryption(String keyId, String kmsKeyId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record StopEncryption(ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /**
     * Internal: the catalogue agreed (or, for UPDATING, nobody needs to), so the stream may leave
     * {@code status}: CREATING becomes ACTIVE, DELETING gone, UPDATING ACTIVE. Ignored if the
     * stream has moved on to another status since it asked.
     */
    public record Settle(String status) implements Command {}

    /** Internal: the {@code attempt}-th ask (1-based) made in {@code status} got no answer in time, or a failure. */
    public record CatalogueSilent(String status, int attempt) implements Command {}

    /** Internal: ask the catalogue again after a silence; {@code attempt} is this ask's number. */
    public record AskCatalogueAgain(String status, int attempt) implements Command {}

    /** Internal: a deleted stream's drain period is over; delete its shards' data now. */
    public record PurgeShards() implements Command {}

    /** Internal: the deletion of every shard's data ended, {@code done} or failed. */
    public record ShardsPurged(boolean done) implements Command {}

    // ---- events

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Created.class, name = "created"),
            @JsonSubTypes.Type(value = Activated.class, name = "activated"),
            @JsonSubTypes.Type(value = DeleteRequested.class, name = "delete-requested"),
            @JsonSubTypes.Type(value = ShardsDeleted.class, name = "shards-deleted"),
            @JsonSubTypes.Type(value = Deleted.class, name = "deleted"),
            @JsonSubTypes.Type(value = RetentionChanged.class, name = "retention-changed"),
            @JsonSubTypes.Type(value = TagsAdded.class, name = "tags-added"),
            @JsonSubTypes.Type(value = TagsRemoved.class, name = "tags-removed"),
            @JsonSubTypes.Type(value = EncryptionStarted.class, name = "encryption-started"),
            @JsonSubTypes.Type(value = EncryptionStopped.class, name = "encryption-stopped"),
            @JsonSubTypes.Type(value = UpdateFinished.class, name = "update-finished")})
    public sealed interface Event extends CborSerializable {}

    public record Created(long createdAtMillis, String streamMode, int retentionHours, List<ShardRange> shards,
                          Map<String, String> tags) implements Event {}

    public record Activated() implements Event {}

    public record DeleteRequested() implements Event {}

    /** Every shard's journal events and snapshots of a DELETING stream are gone from Cassandra. */
    public record ShardsDeleted() implements Event {}

    public record Deleted() implements Event {}

    public record RetentionChanged(int hours) implements Event {}

    public record TagsAdded(Map<String, String> tags) implements Event {}

    public record TagsRemoved(List<String> keys) implements Event {}

    public record EncryptionStarted(String keyId, String kmsKeyId) implements Event {}

    public record EncryptionStopped() implements Event {}

    public record UpdateFinished() implements Event {}

    // ---- state

    public record ShardRange(int index, String startingHashKey, String endingHashKey) implements CborSerializable {
        public String shardId() {
            return HashKeys.shardId(index);
        }

        public boolean contains(BigInteger hashKey) {
            return hashKey.compareTo(new BigInteger(startingHashKey)) >= 0
                    && hashKey.compareTo(new BigInteger(endingHashKey)) <= 0;
        }
    }

    /** What a front end needs to know about a stream; also the reply to Describe. */
    public record StreamInfo(String name, String arn, long createdAtMillis, String status, String streamMode,
                             int retentionHours, List<ShardRange> shards, Map<String, String> tags,
                             String encryptionType, String keyId, String kmsKeyId) implements CborSerializable {

        public boolean acceptsData() {
            return status.equals("ACTIVE") || status.equals("UPDATING");
        }
    }

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Absent.class, name = "absent"),
            @JsonSubTypes.Type(value = Present.class, name = "present")})
    public sealed interface State extends CborSerializable {}

    public record Absent() implements State {}

    /** {@code shardsDeleted}: a DELETING stream whose records are gone and which only the catalogue still lists. */
    public record Present(StreamInfo info, boolean shardsDeleted) implements State {
        Present with(String status) {
            return new Present(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), status, info.streamMode(),
                    info.retentionHours(), info.shards(), info.tags(), info.encryptionType(), info.keyId(), info.kmsKeyId()),
                    shardsDeleted);
        }

        Present withRetention(int hours) {
            return new Present(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), info.status(),
                    info.streamMode(), hours, info.shards(), info.tags(), info.encryptionType(), info.keyId(), info.kmsKeyId()),
                    shardsDeleted);
        }

        Present withTags(Map<String, String> tags) {
            return new Present(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), info.status(),
                    info.streamMode(), info.retentionHours(), info.shards(), tags, info.encryptionType(), info.keyId(),
                    info.kmsKeyId()), shardsDeleted);
        }

        Present withEncryption(String type, String keyId, String kmsKeyId) {
            return new Present(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), "UPDATING",
                    info.streamMode(), info.retentionHours(), info.shards(), info.tags(), type, keyId, kmsKeyId),
                    shardsDeleted);
        }

        Present withShardsDeleted() {
            return new Present(info, true);
        }

        /** DELETING, and its shards' data not yet deleted. */
        boolean purging() {
            return info.status().equals("DELETING") && !shardsDeleted;
        }
    }

    /**
     * How long a stream waits before asking a silent catalogue again: {@code min} after the first
     * silence, doubling up to {@code max} ({@code sluice.stream.catalogue-retry}).
     */
    public record CatalogueRetry(Duration min, Duration max) {
        public static CatalogueRetry from(Config root) {
            Config c = root.getConfig("sluice.stream.catalogue-retry");
            return new CatalogueRetry(c.getDuration("min-backoff"), c.getDuration("max-backoff"));
        }

        /** The pause after the {@code attempt}-th silent ask (1-based). */
        Duration after(int attempt) {
            Duration d = min;
            for (int i = 1; i < attempt && d.compareTo(max) < 0; i++) {
                d = d.multipliedBy(2);
            }
            return d.compareTo(max) < 0 ? d : max;
        }
    }

    // ---- wiring

    public static void init(ActorSystem<?> system, NodeSettings settings, Clock clock) {
        RecipientRef<StreamCatalog.Command> catalog = StreamCatalog.ref(system, settings.accountId());
        CatalogueRetry retry = CatalogueRetry.from(system.settings().config());
        ShardPurger purger = ShardPurger.cassandra(system, settings.askTimeout());
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
                ctx -> create(ctx.getEntityId(), settings, retry, clock, catalog, purger)));
    }

    public static Behavior<Command> create(String streamName, NodeSettings settings, CatalogueRetry retry, Clock clock,
                                           RecipientRef<StreamCatalog.Command> catalog, ShardPurger purger) {
        return Behaviors.setup(ctx -> new StreamEntity(ctx, streamName, settings, retry, clock, catalog, purger));
    }

    private final ActorContext<Command> context;
    private final String streamName;
    private final NodeSettings settings;
    private final CatalogueRetry retry;
    private final Clock clock;
    private final RecipientRef<StreamCatalog.Command> catalog;
    private final ShardPurger purger;

    private StreamEntity(ActorContext<Command> context, String streamName, NodeSettings settings, CatalogueRetry retry,
                         Clock clock, RecipientRef<StreamCatalog.Command> catalog, ShardPurger purger) {
        super(PersistenceId.of(ENTITY_KEY.name(), streamName),
                Entities.RESTART);
        this.context = context;
        this.streamName = streamName;
        this.settings = settings;
        this.retry = retry;
        this.clock = clock;
        this.catalog = catalog;
        this.purger = purger;
    }

    @Override
    public State emptyState() {
        return new Absent();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2);
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.instance(), this::resume)
                .build();
    }

    // ---- command handlers

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        var builder = newCommandHandlerWithReplyBuilder();
        // first, so that it wins over the Present handlers below for the commands it names (a predicate
        // given to forState(Present.class, ...) is handed an Absent too, and fails casting it)
        builder.forState(s -> s instanceof Present p && p.purging())
                .onCommand(PurgeShards.class, (s, c) -> onPurgeShards((Present) s, c))
                .onCommand(ShardsPurged.class, (s, c) -> onShardsPurged((Present) s, c))
                // a Settle of an earlier transition (a Register answered late, an update's): the catalogue
                // is told of the deletion only once the data is gone
                .onCommand(Settle.class, (s, c) -> Effect().noReply());
        builder.forStateType(Absent.class)
                .onCommand(Create.class, this::onCreate)
                .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(ChangeRetention.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(AddTags.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(RemoveTags.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(StartEncryption.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(StopEncryption.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Settle.class, (s, c) -> Effect().noReply())
                .onCommand(CatalogueSilent.class, (s, c) -> Effect().noReply())
                .onCommand(AskCatalogueAgain.class, (s, c) -> Effect().noReply());
        builder.forStateType(Present.class)
                .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(
                        AwsError.ResourceInUseException.exception(
                        "Stream " + streamName + " under account " + settings.accountId() + " already exists."))))
                .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s.info())))
                .onCommand(Delete.class, this::onDelete)
                .onCommand(ChangeRetention.class, this::onChangeRetention)
                .onCommand(AddTags.class, this::onAddTags)
                .onCommand(RemoveTags.class, this::onRemoveTags)
                .onCommand(StartEncryption.class, this::onStartEncryption)
                .onCommand(StopEncryption.class, this::onStopEncryption)
                .onCommand(Settle.class, this::onSettle)
                .onCommand(CatalogueSilent.class, this::onCatalogueSilent)
                .onCommand(AskCatalogueAgain.class, this::onAskCatalogueAgain);
        // a purge that was started twice (a restart while it ran) ends twice
        builder.forAnyState()
                .onCommand(PurgeShards.class, (s, c) -> Effect().noReply())
                .onCommand(ShardsPurged.class, (s, c) -> Effect().noReply());
        return builder.build();
    }

    private ReplyEffect<Event, State> onCreate(Absent state, Create cmd) {
        int shards = cmd.shardCount();
        if (cmd.openShardsInAccount() + shards > settings.shardLimit()) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.LimitExceededException.exception("This request would exceed the shard limit for the account " + settings.accountId()
                            + " in " + settings.region() + ". Current shard count for the account: "
                            + cmd.openShardsInAccount() + ". Limit: " + settings.shardLimit()
                            + ". Number of additional shards that would have resulted from this request: " + shards + ".")));
        }
        List<ShardRange> ranges = new ArrayList<>(shards);
        List<BigInteger[]> even = HashKeys.evenRanges(shards);
        for (int i = 0; i < shards; i++) {
            ranges.add(new ShardRange(i, even.get(i)[0].toString(), even.get(i)[1].toString()));
        }
        Created created = new Created(clock.millis(), cmd.streamMode(), settings.defaultRetentionHours(), ranges,
                new TreeMap<>(cmd.tags()));
        return Effect().persist(created)
                .thenRun(s -> resumeTransition(s))
                .thenReply(cmd.replyTo(), s -> StatusReply.success(((Present) s).info()));
    }

    private ReplyEffect<Event, State> onDelete(Present state, Delete cmd) {
        if (state.info().status().equals("DELETING")) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        return Effect().persist(new DeleteRequested())
                .thenRun(this::resume)
                .thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    /**
     * After recovery or a delete request: a DELETING stream first deletes its shards' data, and only
     * then does {@link #resumeTransition} ask the catalogue to forget it, so a crash anywhere in
     * between resumes the deletion, and the stream is listed (as DELETING) until its data is gone.
     */
    private void resume(State state) {
        if (state instanceof Present present && present.purging()) {
            // puts admitted under the old metadata reach their shards first (see delete-drain)
            context.scheduleOnce(settings.deleteDrain(), context.getSelf(), new PurgeShards());
        } else {
            resumeTransition(state);
        }
    }

    private ReplyEffect<Event, State> onPurgeShards(Present state, PurgeShards cmd) {
        var log = context.getLog();
        context.pipeToSelf(purgeAll(state.info()), (done, failure) -> {
            if (failure != null) {
                log.warn("Deleting the shards of stream {} failed; trying again in {}", streamName, settings.askTimeout(), failure);
            }
            return new ShardsPurged(failure == null);
        });
        return Effect().noReply();
    }

    /**
     * One shard after the other: a Purge makes an idle shard recover (its tail too) before it stops,
     * and a stream's shards all at once would hold all their tails in memory together.
     */
    private CompletionStage<Done> purgeAll(StreamInfo info) {
        CompletionStage<Done> chain = CompletableFuture.completedFuture(Done.getInstance());
        for (ShardRange shard : info.shards()) {
            String shardEntityId = ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index());
            chain = chain.thenCompose(done -> purger.purge(shardEntityId));
        }
        return chain;
    }

    private ReplyEffect<Event, State> onShardsPurged(Present state, ShardsPurged cmd) {
        if (!cmd.done()) {
            context.scheduleOnce(settings.askTimeout(), context.getSelf(), new PurgeShards());
            return Effect().noReply();
        }
        return Effect().persist(new ShardsDeleted()).thenRun(this::resumeTransition).thenNoReply();
    }

    private ReplyEffect<Event, State> onChangeRetention(Present state, ChangeRetention cmd) {
        StreamInfo info = state.info();
        if (!info.status().equals("ACTIVE")) {
            return Effect().reply(cmd.replyTo(), notActive(info));
        }
        int current = info.retentionHours();
        if (cmd.increase() && cmd.hours() < current) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.InvalidArgumentException.exception("Requested retention period (" + cmd.hours() + " hours) for stream " + streamName
                            + " can not be shorter than existing retention period (" + current
                            + " hours). Use DecreaseRetentionPeriod API.")));
        }
        if (!cmd.increase() && cmd.hours() > current) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.InvalidArgumentException.exception("Requested retention period (" + cmd.hours() + " hours) for stream " + streamName
                            + " can not be longer than existing retention period (" + current
                            + " hours). Use IncreaseRetentionPeriod API.")));
        }
        if (cmd.hours() == current) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        return Effect().persist(new RetentionChanged(cmd.hours())).thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onAddTags(Present state, AddTags cmd) {
        Map<String, String> merged = new TreeMap<>(state.info().tags());
        merged.putAll(cmd.tags());
        if (merged.size() > 50) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.InvalidArgumentException.exception("Failed to add tags to stream " + streamName + " under account " + settings.accountId()
                            + " because a given stream cannot have more than 50 tags.")));
        }
        return Effect().persist(new TagsAdded(new TreeMap<>(cmd.tags()))).thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onRemoveTags(Present state, RemoveTags cmd) {
        return Effect().persist(new TagsRemoved(List.copyOf(cmd.keys()))).thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onStartEncryption(Present state, StartEncryption cmd) {
        if (!state.info().status().equals("ACTIVE")) {
            return Effect().reply(cmd.replyTo(), notActive(state.info()));
        }
        return Effect().persist(new EncryptionStarted(cmd.keyId(), cmd.kmsKeyId()))
                .thenRun(s -> resumeTransition(s))
                .thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onStopEncryption(Present state, StopEncryption cmd) {
        if (!state.info().status().equals("ACTIVE")) {
            return Effect().reply(cmd.replyTo(), notActive(state.info()));
        }
        return Effect().persist(new EncryptionStopped())
                .thenRun(s -> resumeTransition(s))
                .thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onSettle(Present state, Settle cmd) {
        String status = state.info().status();
        if (!status.equals(cmd.status())) {
            // an answer to an ask made in an earlier status; the current status has its own ask
            return Effect().noReply();
        }
        return switch (status) {
            case "CREATING" -> Effect().persist(new Activated()).thenNoReply();
            case "DELETING" -> Effect().persist(new Deleted()).thenNoReply();
            case "UPDATING" -> Effect().persist(new UpdateFinished()).thenNoReply();
            default -> Effect().noReply();
        };
    }

    private ReplyEffect<Event, State> onCatalogueSilent(Present state, CatalogueSilent cmd) {
        if (state.info().status().equals(cmd.status())) {
            // Settling without the catalogue's word would leave an ACTIVE stream out of ListStreams, the
            // shard limit and the retention sweep, or forget a stream still catalogued: ask again.
            context.scheduleOnce(retry.after(cmd.attempt()), context.getSelf(),
                    new AskCatalogueAgain(cmd.status(), cmd.attempt() + 1));
        }
        return Effect().noReply();
    }

    private ReplyEffect<Event, State> onAskCatalogueAgain(Present state, AskCatalogueAgain cmd) {
        if (state.info().status().equals(cmd.status())) {
            askCatalogue(state, cmd.attempt());
        }
        return Effect().noReply();
    }

    /** CREATING and DELETING finish by telling the catalogue; also resumed after a crash in between. */
    private void resumeTransition(State state) {
        if (!(state instanceof Present present)) {
            return;
        }
        String status = present.info().status();
        if (status.equals("UPDATING")) {
            // an update needs nobody else's agreement; front ends see it within their cache period
            context.getSelf().tell(new Settle(status));
            return;
        }
        if (status.equals("CREATING") || status.equals("DELETING")) {
            askCatalogue(present, 1);
        }
    }

    private void askCatalogue(Present present, int attempt) {
        String status = present.info().status();
        long createdAt = present.info().createdAtMillis();
        context.askWithStatus(Done.class, catalog,
                settings.askTimeout(),
                replyTo -> status.equals("CREATING")
                        ? new StreamCatalog.Register(streamName, createdAt, replyTo)
                        : new StreamCatalog.Unregister(streamName, createdAt, replyTo),
                (ok, failure) -> failure == null ? new Settle(status) : new CatalogueSilent(status, attempt));
    }

    private <T> StatusReply<T> notFound() {
        return StatusReply.error(AwsError.ResourceNotFoundException.exception("Stream " + streamName + " under account " + settings.accountId() + " not found."));
    }

    private <T> StatusReply<T> notActive(StreamInfo info) {
        return StatusReply.error(AwsError.ResourceInUseException.exception("Stream " + streamName + " under account " + settings.accountId() + " not ACTIVE, instead in state "
                        + info.status()));
    }

    // ---- event handlers (pure)

    @Override
    public EventHandler<State, Event> eventHandler() {
        var builder = newEventHandlerBuilder();
        builder.forStateType(Absent.class)
                .onEvent(Created.class, (s, e) -> new Present(new StreamInfo(streamName, settings.streamArn(streamName),
                        e.createdAtMillis(), "CREATING", e.streamMode(), e.retentionHours(), e.shards(), e.tags(),
                        "NONE", null, null), false));
        builder.forStateType(Present.class)
                .onEvent(Activated.class, (s, e) -> s.with("ACTIVE"))
                .onEvent(DeleteRequested.class, (s, e) -> s.with("DELETING"))
                .onEvent(ShardsDeleted.class, (s, e) -> s.withShardsDeleted())
                .onEvent(Deleted.class, (s, e) -> new Absent())
                .onEvent(RetentionChanged.class, (s, e) -> s.withRetention(e.hours()))
                .onEvent(TagsAdded.class, (s, e) -> {
                    Map<String, String> tags = new TreeMap<>(s.info().tags());
                    tags.putAll(e.tags());
                    return s.withTags(tags);
                })
                .onEvent(EncryptionStarted.class, (s, e) -> s.withEncryption("KMS", e.keyId(), e.kmsKeyId()))
                .onEvent(EncryptionStopped.class, (s, e) -> s.withEncryption("NONE", null, null))
                .onEvent(UpdateFinished.class, (s, e) -> s.with("ACTIVE"))
                .onEvent(TagsRemoved.class, (s, e) -> {
                    Map<String, String> tags = new TreeMap<>(s.info().tags());
                    e.keys().forEach(tags::remove);
                    return s.withTags(tags);
                });
        return builder.build();
    }
}
