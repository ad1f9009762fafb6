package io.sluice.node.stream;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.typesafe.config.Config;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardCloser;
import io.sluice.node.shard.ShardPurger;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.kinesis.ConsumerArn;
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

    /** Refused while consumers are registered, unless {@code enforceConsumerDeletion}: then they go with the stream. */
    public record Delete(boolean enforceConsumerDeletion, ActorRef<StatusReply<Done>> replyTo) implements Command {
        public Delete(ActorRef<StatusReply<Done>> replyTo) {
            this(false, replyTo);
        }
    }

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

    /**
     * Start a reshard: SplitShard, MergeShards or UpdateShardCount. {@code openShardsInAccount} is the
     * account's open shard count as the front end found it, for the shard limit.
     */
    public record Reshard(ReshardRequest request, int openShardsInAccount, ActorRef<StatusReply<ReshardAccepted>> replyTo)
            implements Command {}

    /** What a reshard asks, as the API named it. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = SplitRequest.class, name = "split"),
            @JsonSubTypes.Type(value = MergeRequest.class, name = "merge"),
            @JsonSubTypes.Type(value = ScaleRequest.class, name = "scale")})
    public sealed interface ReshardRequest extends CborSerializable {}

    public record SplitRequest(String shardToSplit, String newStartingHashKey) implements ReshardRequest {}

    public record MergeRequest(String shardToMerge, String adjacentShardToMerge) implements ReshardRequest {}

    public record ScaleRequest(int targetShardCount) implements ReshardRequest {}

    /** The open shard count when the reshard started, and the one it goes to. */
    public record ReshardAccepted(int currentShardCount, int targetShardCount) implements CborSerializable {}

    /** PROVISIONED or ON_DEMAND. */
    public record ChangeMode(String streamMode, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /** Internal: every parent of the reshard's current wave is closed. */
    public record WaveClosed(List<ReshardPlan.Step> wave, List<ClosedShard> closed) implements Command {}

    /** Internal: closing a wave's parents failed or timed out ({@code attempt}-th time); try again after a pause. */
    public record WaveStalled(int attempt) implements Command {}

    /** Internal: close the current wave's parents ({@code attempt}-th try). */
    public record DriveReshard(int attempt) implements Command {}

    /** Register an enhanced fan-out consumer (see {@link Consumers}); answers it as registered, CREATING. */
    public record RegisterConsumer(String consumerName, Map<String, String> tags,
                                   ActorRef<StatusReply<Consumers.Consumer>> replyTo) implements Command {}

    /** Deregister a consumer by name; when {@code consumerArn} is given, only the consumer of exactly that ARN. */
    public record DeregisterConsumer(String consumerName, String consumerArn, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    /** Internal: the consumer's time in status {@code from} (CREATING or DELETING) is over. */
    public record SettleConsumer(String consumerName, long createdAtMillis, String from) implements Command {}

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
            @JsonSubTypes.Type(value = UpdateFinished.class, name = "update-finished"),
            @JsonSubTypes.Type(value = ReshardStarted.class, name = "reshard-started"),
            @JsonSubTypes.Type(value = WaveFinished.class, name = "wave-finished"),
            @JsonSubTypes.Type(value = ModeChanged.class, name = "mode-changed"),
            @JsonSubTypes.Type(value = ConsumerRegistered.class, name = "consumer-registered"),
            @JsonSubTypes.Type(value = ConsumerActivated.class, name = "consumer-activated"),
            @JsonSubTypes.Type(value = ConsumerDeregistering.class, name = "consumer-deregistering"),
            @JsonSubTypes.Type(value = ConsumerRemoved.class, name = "consumer-removed")})
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

    /** A reshard began: the stream is UPDATING until its open shards start at {@code target}. */
    public record ReshardStarted(String operation, List<String> target, Integer mergeParent, long atMillis) implements Event {}

    /** One wave of a reshard is done: its parents closed where they ended, its children open. */
    public record WaveFinished(List<ClosedShard> closed, List<ShardRange> children) implements Event {}

    public record ModeChanged(String streamMode) implements Event {}

    /** A consumer is registered, CREATING; {@code createdAtMillis} also dates its ARN (in seconds). */
    public record ConsumerRegistered(String name, long createdAtMillis, Map<String, String> tags) implements Event {}

    public record ConsumerActivated(String name, long createdAtMillis) implements Event {}

    public record ConsumerDeregistering(String name, long createdAtMillis) implements Event {}

    public record ConsumerRemoved(String name, long createdAtMillis) implements Event {}

    /** Where a parent shard ended: its records all lie in events before {@code endEventSeqNr}. */
    public record ClosedShard(int index, long endEventSeqNr, long closedAtMillis) implements CborSerializable {}

    // ---- state

    /**
     * A shard of the stream and its lineage. {@code parentIndex} and {@code adjacentParentIndex} name
     * the shards it came from (a split has one parent, a merge two); {@code openedAtMillis} is when it
     * began to take records (0 for the stream's first shards: from its creation); a closed shard has
     * {@code closedAtMillis} and {@code endEventSeqNr}, the journal event that closed it.
     */
    public record ShardRange(int index, String startingHashKey, String endingHashKey, Integer parentIndex,
                             Integer adjacentParentIndex, long openedAtMillis, Long closedAtMillis, Long endEventSeqNr)
            implements CborSerializable {

        public static ShardRange initial(int index, String startingHashKey, String endingHashKey) {
            return new ShardRange(index, startingHashKey, endingHashKey, null, null, 0, null, null);
        }

        public static ShardRange child(int index, String startingHashKey, String endingHashKey, int parentIndex,
                                       Integer adjacentParentIndex, long openedAtMillis) {
            return new ShardRange(index, startingHashKey, endingHashKey, parentIndex, adjacentParentIndex, openedAtMillis,
                    null, null);
        }

        public String shardId() {
            return HashKeys.shardId(index);
        }

        public boolean open() {
            return closedAtMillis == null;
        }

        ShardRange closed(ClosedShard c) {
            return new ShardRange(index, startingHashKey, endingHashKey, parentIndex, adjacentParentIndex, openedAtMillis,
                    c.closedAtMillis(), c.endEventSeqNr());
        }

        public String parentShardId() {
            return parentIndex == null ? null : HashKeys.shardId(parentIndex);
        }

        public String adjacentParentShardId() {
            return adjacentParentIndex == null ? null : HashKeys.shardId(adjacentParentIndex);
        }

        /** Whether this shard came (directly) from {@code parent}. */
        public boolean childOf(int parent) {
            return (parentIndex != null && parentIndex == parent) || (adjacentParentIndex != null && adjacentParentIndex == parent);
        }

        public boolean contains(BigInteger hashKey) {
            return hashKey.compareTo(new BigInteger(startingHashKey)) >= 0
                    && hashKey.compareTo(new BigInteger(endingHashKey)) <= 0;
        }
    }

    /** What a front end needs to know about a stream; also the reply to Describe. */
    public record StreamInfo(String name, String arn, long createdAtMillis, String status, String streamMode,
                             int retentionHours, List<ShardRange> shards, Map<String, String> tags,
                             String encryptionType, String keyId, String kmsKeyId, Consumers consumers)
            implements CborSerializable {

        public StreamInfo {
            // snapshots taken before consumers existed have none
            consumers = consumers == null ? Consumers.NONE : consumers;
        }

        public StreamInfo(String name, String arn, long createdAtMillis, String status, String streamMode,
                          int retentionHours, List<ShardRange> shards, Map<String, String> tags,
                          String encryptionType, String keyId, String kmsKeyId) {
            this(name, arn, createdAtMillis, status, streamMode, retentionHours, shards, tags, encryptionType, keyId,
                    kmsKeyId, Consumers.NONE);
        }

        /**
         * The consumer registered on this incarnation of the stream under exactly this ARN, or null: an
         * ARN of a consumer since deregistered, of an older consumer of the same name, or of a consumer
         * of a deleted stream of the same name matches nothing.
         */
        public Consumers.Consumer consumerByArn(String consumerArn) {
            return consumers.byArn(consumerArn);
        }

        public boolean acceptsData() {
            return status.equals("ACTIVE") || status.equals("UPDATING");
        }

        /** The shards taking records now. */
        public List<ShardRange> openShards() {
            return shards.stream().filter(ShardRange::open).toList();
        }

        public int openShardCount() {
            int n = 0;
            for (ShardRange s : shards) if (s.open()) n++;
            return n;
        }

        /**
         * The shards whose records may still be read: every open shard, and a closed one until the
         * retention period has passed since it closed (all its records are then expired).
         */
        public List<ShardRange> liveShards(long nowMillis) {
            long cutoff = nowMillis - retentionHours * 3_600_000L;
            return shards.stream().filter(s -> s.open() || s.closedAtMillis() >= cutoff).toList();
        }

        /**
         * When a shard began to take records: the stream's creation for its first shards; for a
         * reshard's child, the moment its first parent closed. The child is recorded as opened only
         * once its wave is persisted, a few writes later; counting from then would leave moments when
         * neither the parent nor the child covers a key (AT_TIMESTAMP would list a hash range with a gap).
         */
        public long openedAt(ShardRange shard) {
            long at = Math.max(shard.openedAtMillis(), createdAtMillis);
            for (ShardRange s : shards) {
                if (shard.childOf(s.index()) && s.closedAtMillis() != null) {
                    at = Math.min(at, Math.max(s.closedAtMillis(), createdAtMillis));
                }
            }
            return at;
        }

        StreamInfo withShards(List<ShardRange> next) {
            return new StreamInfo(name, arn, createdAtMillis, status, streamMode, retentionHours, next, tags,
                    encryptionType, keyId, kmsKeyId, consumers);
        }

        StreamInfo withMode(String mode) {
            return new StreamInfo(name, arn, createdAtMillis, status, mode, retentionHours, shards, tags,
                    encryptionType, keyId, kmsKeyId, consumers);
        }

        StreamInfo withConsumers(Consumers next) {
            return new StreamInfo(name, arn, createdAtMillis, status, streamMode, retentionHours, shards, tags,
                    encryptionType, keyId, kmsKeyId, next);
        }
    }

    /**
     * A reshard under way: the open shards' target starts, the parent a MergeShards named, and the
     * operation (for UpdateShardCount's rolling daily limit).
     */
    public record ReshardState(String operation, List<String> target, Integer mergeParent) implements CborSerializable {}

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Absent.class, name = "absent"),
            @JsonSubTypes.Type(value = Present.class, name = "present")})
    public sealed interface State extends CborSerializable {}

    public record Absent() implements State {}

    /**
     * {@code shardsDeleted}: a DELETING stream whose records are gone and which only the catalogue still
     * lists. {@code reshard}: the reshard under way, or null. {@code scalings}: when UpdateShardCount
     * began, within the last day.
     */
    public record Present(StreamInfo info, boolean shardsDeleted, ReshardState reshard, List<Long> scalings) implements State {
        Present(StreamInfo info, boolean shardsDeleted) {
            this(info, shardsDeleted, null, List.of());
        }

        public Present {
            scalings = scalings == null ? List.of() : scalings;
        }

        Present with(String status) {
            return new Present(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), status, info.streamMode(),
                    info.retentionHours(), info.shards(), info.tags(), info.encryptionType(), info.keyId(), info.kmsKeyId(),
                    info.consumers()), shardsDeleted, reshard, scalings);
        }

        Present with(StreamInfo next) {
            return new Present(next, shardsDeleted, reshard, scalings);
        }

        Present reshardStarted(ReshardStarted e) {
            List<Long> recent = new ArrayList<>();
            for (long at : scalings) if (at > e.atMillis() - 86_400_000L) recent.add(at);
            if (e.operation().equals("UpdateShardCount")) recent.add(e.atMillis());
            return new Present(with("UPDATING").info(), shardsDeleted, new ReshardState(e.operation(), e.target(),
                    e.mergeParent()), List.copyOf(recent));
        }

        Present waveFinished(WaveFinished e) {
            List<ShardRange> next = new ArrayList<>(info.shards().size() + e.children().size());
            for (ShardRange s : info.shards()) {
                ShardRange shard = s;
                for (ClosedShard c : e.closed()) {
                    if (c.index() == s.index()) shard = s.closed(c);
                }
                next.add(shard);
            }
            next.addAll(e.children());
            return with(info.withShards(List.copyOf(next)));
        }

        Present updateFinished() {
            return new Present(with("ACTIVE").info(), shardsDeleted, null, scalings);
        }

        /** The index the next new shard gets: the stream's numbering goes on. */
        int nextShardIndex() {
            int max = -1;
            for (ShardRange s : info.shards()) max = Math.max(max, s.index());
            return max + 1;
        }

        Present withRetention(int hours) {
            return with(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), info.status(),
                    info.streamMode(), hours, info.shards(), info.tags(), info.encryptionType(), info.keyId(), info.kmsKeyId(),
                    info.consumers()));
        }

        Present withTags(Map<String, String> tags) {
            return with(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), info.status(),
                    info.streamMode(), info.retentionHours(), info.shards(), tags, info.encryptionType(), info.keyId(),
                    info.kmsKeyId(), info.consumers()));
        }

        Present withEncryption(String type, String keyId, String kmsKeyId) {
            return with(new StreamInfo(info.name(), info.arn(), info.createdAtMillis(), "UPDATING",
                    info.streamMode(), info.retentionHours(), info.shards(), info.tags(), type, keyId, kmsKeyId,
                    info.consumers()));
        }

        Present withConsumers(Consumers next) {
            return with(info.withConsumers(next));
        }

        Present withShardsDeleted() {
            return new Present(info, true, reshard, scalings);
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

    /** Resharding's limits ({@code sluice.stream.reshard}): UpdateShardCount calls per rolling day, open shards per stream. */
    public record ReshardLimits(int scalingsPerDay, int maxShardsPerStream) {
        public static ReshardLimits from(Config root) {
            Config c = root.getConfig("sluice.stream.reshard");
            return new ReshardLimits(c.getInt("scalings-per-day"), c.getInt("max-shards-per-stream"));
        }
    }

    // ---- wiring

    public static void init(ActorSystem<?> system, NodeSettings settings, Clock clock) {
        RecipientRef<StreamCatalog.Command> catalog = StreamCatalog.ref(system, settings.accountId());
        CatalogueRetry retry = CatalogueRetry.from(system.settings().config());
        ShardPurger purger = ShardPurger.cassandra(system, settings.askTimeout());
        ShardCloser closer = ShardCloser.sharding(system, settings.askTimeout());
        ReshardLimits limits = ReshardLimits.from(system.settings().config());
        Consumers.Limits consumerLimits = Consumers.Limits.from(system.settings().config());
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
                ctx -> create(ctx.getEntityId(), settings, retry, limits, consumerLimits, clock, catalog, purger, closer)));
    }

    public static Behavior<Command> create(String streamName, NodeSettings settings, CatalogueRetry retry,
                                           ReshardLimits limits, Consumers.Limits consumerLimits, Clock clock,
                                           RecipientRef<StreamCatalog.Command> catalog, ShardPurger purger, ShardCloser closer) {
        return Behaviors.setup(ctx -> new StreamEntity(ctx, streamName, settings, retry, limits, consumerLimits, clock,
                catalog, purger, closer));
    }

    private final ActorContext<Command> context;
    private final String streamName;
    private final NodeSettings settings;
    private final CatalogueRetry retry;
    private final Clock clock;
    private final RecipientRef<StreamCatalog.Command> catalog;
    private final ShardPurger purger;
    private final ShardCloser closer;
    private final ReshardLimits limits;
    private final Consumers.Limits consumerLimits;

    private StreamEntity(ActorContext<Command> context, String streamName, NodeSettings settings, CatalogueRetry retry,
                         ReshardLimits limits, Consumers.Limits consumerLimits, Clock clock,
                         RecipientRef<StreamCatalog.Command> catalog, ShardPurger purger, ShardCloser closer) {
        super(PersistenceId.of(ENTITY_KEY.name(), streamName),
                Entities.RESTART);
        this.context = context;
        this.streamName = streamName;
        this.settings = settings;
        this.retry = retry;
        this.clock = clock;
        this.catalog = catalog;
        this.purger = purger;
        this.closer = closer;
        this.limits = limits;
        this.consumerLimits = consumerLimits;
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
                .onCommand(Reshard.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(ChangeMode.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(RegisterConsumer.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(DeregisterConsumer.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(SettleConsumer.class, (s, c) -> Effect().noReply())
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
                .onCommand(Reshard.class, this::onReshard)
                .onCommand(ChangeMode.class, this::onChangeMode)
                .onCommand(RegisterConsumer.class, this::onRegisterConsumer)
                .onCommand(DeregisterConsumer.class, this::onDeregisterConsumer)
                .onCommand(SettleConsumer.class, this::onSettleConsumer)
                .onCommand(WaveClosed.class, this::onWaveClosed)
                .onCommand(WaveStalled.class, this::onWaveStalled)
                .onCommand(DriveReshard.class, (s, c) -> {
                    driveReshard(s, c.attempt());
                    return Effect().noReply();
                })
                .onCommand(Settle.class, this::onSettle)
                .onCommand(CatalogueSilent.class, this::onCatalogueSilent)
                .onCommand(AskCatalogueAgain.class, this::onAskCatalogueAgain);
        // a purge that was started twice (a restart while it ran) ends twice
        builder.forAnyState()
                .onCommand(PurgeShards.class, (s, c) -> Effect().noReply())
                .onCommand(ShardsPurged.class, (s, c) -> Effect().noReply())
                .onCommand(WaveClosed.class, (s, c) -> Effect().noReply())
                .onCommand(WaveStalled.class, (s, c) -> Effect().noReply())
                .onCommand(DriveReshard.class, (s, c) -> Effect().noReply());
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
            ranges.add(ShardRange.initial(i, even.get(i)[0].toString(), even.get(i)[1].toString()));
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
        if (!cmd.enforceConsumerDeletion() && state.info().consumers().anyInUse()) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.ResourceInUseException.exception(
                    "DeleteStream can't delete " + state.info().arn() + " because there are consumers associated with this"
                            + " data stream. To delete " + streamName + " anyway, set the EnforceConsumerDeletion parameter"
                            + " to true to force the deletion of all the consumers that are associated with it.")));
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
        if (state instanceof Present present && !present.info().status().equals("DELETING")) {
            // a consumer's CREATING or DELETING wait, cut short by a restart, starts again
            for (Consumers.Consumer c : present.info().consumers().registered()) {
                if (!c.active()) settleConsumerLater(c.name(), c.createdAtMillis(), c.status());
            }
        }
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

    // ---- enhanced fan-out consumers (the rules are Consumers')

    private ReplyEffect<Event, State> onRegisterConsumer(Present state, RegisterConsumer cmd) {
        ConsumerRegistered registered;
        try {
            registered = state.info().consumers().register(state.info(), cmd.consumerName(), cmd.tags(), clock.millis(),
                    consumerLimits, settings.accountId());
        } catch (ApiException refused) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(refused));
        }
        return Effect().persist(registered)
                .thenRun(s -> settleConsumerLater(registered.name(), registered.createdAtMillis(), "CREATING"))
                .thenReply(cmd.replyTo(), s -> StatusReply.success(((Present) s).info().consumers().byName(registered.name())));
    }

    private ReplyEffect<Event, State> onDeregisterConsumer(Present state, DeregisterConsumer cmd) {
        Consumers.Consumer consumer;
        try {
            ConsumerArn arn = cmd.consumerArn() == null ? null
                    : ConsumerArn.parse(cmd.consumerArn(), settings.streamArn(""));
            if (cmd.consumerArn() != null && arn == null) {
                throw AwsError.ResourceNotFoundException.exception("Consumer " + cmd.consumerArn() + " not found.");
            }
            consumer = state.info().consumers().named(state.info(), cmd.consumerName(), arn, settings.accountId());
        } catch (ApiException refused) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(refused));
        }
        if (consumer.status().equals("DELETING")) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        return Effect().persist(new ConsumerDeregistering(consumer.name(), consumer.createdAtMillis()))
                .thenRun(s -> settleConsumerLater(consumer.name(), consumer.createdAtMillis(), "DELETING"))
                .thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onSettleConsumer(Present state, SettleConsumer cmd) {
        Consumers.Consumer consumer = state.info().consumers().byName(cmd.consumerName());
        if (consumer == null || consumer.createdAtMillis() != cmd.createdAtMillis() || !consumer.status().equals(cmd.from())) {
            // a wait of an earlier status or consumer; the current one has its own
            return Effect().noReply();
        }
        return switch (cmd.from()) {
            case "CREATING" -> Effect().persist(new ConsumerActivated(consumer.name(), consumer.createdAtMillis())).thenNoReply();
            case "DELETING" -> Effect().persist(new ConsumerRemoved(consumer.name(), consumer.createdAtMillis())).thenNoReply();
            default -> Effect().noReply();
        };
    }

    /** CREATING lasts {@code activation-delay}, DELETING {@code deletion-delay}; then a SettleConsumer moves it on. */
    private void settleConsumerLater(String name, long createdAtMillis, String from) {
        Duration wait = from.equals("CREATING") ? consumerLimits.activationDelay() : consumerLimits.deletionDelay();
        context.scheduleOnce(wait, context.getSelf(), new SettleConsumer(name, createdAtMillis, from));
    }

    // ---- resharding

    private ReplyEffect<Event, State> onReshard(Present state, Reshard cmd) {
        StreamInfo info = state.info();
        if (!info.status().equals("ACTIVE")) {
            return Effect().reply(cmd.replyTo(), notActive(info));
        }
        List<ShardRange> open = ReshardPlan.open(info.shards());
        String operation;
        List<String> target;
        Integer mergeParent = null;
        int current = open.size();
        try {
            if (info.streamMode().equals("ON_DEMAND")) {
                throw AwsError.ValidationException.exception("Request is invalid. Stream " + streamName + " under account "
                        + settings.accountId() + " is in On-Demand mode.");
            }
            if (cmd.request() instanceof SplitRequest split) {
                operation = "SplitShard";
                ShardRange shard = openShard(info, split.shardToSplit());
                BigInteger at = new BigInteger(split.newStartingHashKey());
                BigInteger lo = new BigInteger(shard.startingHashKey());
                BigInteger hi = new BigInteger(shard.endingHashKey());
                if (at.compareTo(lo.add(BigInteger.ONE)) <= 0 || at.compareTo(hi) >= 0) {
                    throw AwsError.InvalidArgumentException.exception("NewStartingHashKey " + at + " used in SplitShard() on shard "
                            + shard.shardId() + " in stream " + streamName + " under account " + settings.accountId()
                            + " is not both greater than one plus the shard's StartingHashKey " + lo
                            + " and less than the shard's EndingHashKey " + hi + ".");
                }
                checkShardLimits(cmd.openShardsInAccount(), current, current + 1);
                target = ReshardPlan.split(open, at.toString());
            } else if (cmd.request() instanceof MergeRequest merge) {
                operation = "MergeShards";
                ShardRange a = openShard(info, merge.shardToMerge());
                ShardRange b = openShard(info, merge.adjacentShardToMerge());
                // as AWS: the shard to merge comes first, the adjacent one right after it
                if (!new BigInteger(a.endingHashKey()).add(BigInteger.ONE).equals(new BigInteger(b.startingHashKey()))) {
                    throw AwsError.InvalidArgumentException.exception("Shards " + a.shardId() + " and " + b.shardId()
                            + " in stream " + streamName + " under account " + settings.accountId()
                            + " are not an adjacent pair of shards eligible for merging");
                }
                target = ReshardPlan.merge(open, a, b);
            } else {
                operation = "UpdateShardCount";
                int wanted = ((ScaleRequest) cmd.request()).targetShardCount();
                checkScaling(state, current, wanted, cmd.openShardsInAccount());
                target = ReshardPlan.uniform(open, wanted);
            }
        } catch (ApiException refused) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(refused));
        }
        int wanted = target.size();
        return Effect().persist(new ReshardStarted(operation, List.copyOf(target), mergeParent, clock.millis()))
                .thenRun(s -> resumeTransition(s))
                .thenReply(cmd.replyTo(), s -> StatusReply.success(new ReshardAccepted(current, wanted)));
    }

    /** A shard of the stream that is open, or AWS's refusal. */
    private ShardRange openShard(StreamInfo info, String shardId) {
        int index = HashKeys.shardIndex(shardId);
        ShardRange shard = info.liveShards(clock.millis()).stream().filter(s -> s.index() == index).findFirst()
                .orElseThrow(() -> AwsError.ResourceNotFoundException.exception("Could not find shard " + shardId
                        + " in stream " + streamName + " under account " + settings.accountId() + "."));
        if (!shard.open()) {
            throw AwsError.InvalidArgumentException.exception("Shard " + shardId + " in stream " + streamName
                    + " under account " + settings.accountId()
                    + " has already been merged or split, and thus is not eligible for merging or splitting.");
        }
        return shard;
    }

    private void checkScaling(Present state, int current, int wanted, int openInAccount) {
        long now = clock.millis();
        long recent = state.scalings().stream().filter(at -> at > now - 86_400_000L).count();
        if (recent >= limits.scalingsPerDay()) {
            throw AwsError.LimitExceededException.exception("Cannot run UpdateShardCount more than " + limits.scalingsPerDay()
                    + " times in a 24 hour period");
        }
        if (wanted > current * 2) {
            throw AwsError.LimitExceededException.exception("UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: "
                    + current + " Target shard count: " + wanted);
        }
        if (wanted * 2 < current) {
            throw AwsError.LimitExceededException.exception("UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: "
                    + current + " Target shard count: " + wanted);
        }
        checkShardLimits(openInAccount, current, wanted);
    }

    /** The stream's and the account's shard limits, for a reshard from {@code current} to {@code wanted} open shards. */
    private void checkShardLimits(int openInAccount, int current, int wanted) {
        if (wanted > limits.maxShardsPerStream() && wanted > current) {
            throw AwsError.LimitExceededException.exception("Target shard count or number of open shards cannot be greater than "
                    + limits.maxShardsPerStream() + ". Current open shard count: " + current + ", Target shard count: " + wanted);
        }
        int added = wanted - current;
        if (added > 0 && openInAccount + added > settings.shardLimit()) {
            throw AwsError.LimitExceededException.exception("This request would exceed the shard limit for the account " + settings.accountId()
                    + " in " + settings.region() + ". Current shard count for the account: " + openInAccount
                    + ". Limit: " + settings.shardLimit()
                    + ". Number of additional shards that would have resulted from this request: " + added + ".");
        }
    }

    /**
     * Closes the parents of the reshard's next wave, or finishes the reshard when there is none. Each
     * wave is persisted only once all its parents are closed, so the children's records all follow
     * their parents'; after a crash the same wave is found again and its closes (idempotent) redone.
     */
    private void driveReshard(Present state, int attempt) {
        if (state.reshard() == null || !state.info().status().equals("UPDATING")) {
            return;
        }
        List<ReshardPlan.Step> wave = nextWave(state);
        if (wave.isEmpty()) {
            context.getSelf().tell(new WaveClosed(List.of(), List.of()));
            return;
        }
        StreamInfo info = state.info();
        List<CompletableFuture<ClosedShard>> closes = new ArrayList<>();
        for (ReshardPlan.Step step : wave) {
            for (int parent : step.parents()) {
                closes.add(closer.close(ShardEntity.entityId(info.name(), info.createdAtMillis(), parent))
                        .thenApply(c -> new ClosedShard(parent, c.endEventSeqNr(), c.closedAtMillis())).toCompletableFuture());
            }
        }
        var log = context.getLog();
        context.pipeToSelf(CompletableFuture.allOf(closes.toArray(CompletableFuture[]::new)), (done, failure) -> {
            if (failure != null) {
                log.warn("Closing the parent shards of a reshard of stream {} failed (attempt {}); trying again", streamName, attempt, failure);
                return new WaveStalled(attempt);
            }
            return new WaveClosed(wave, closes.stream().map(CompletableFuture::join).toList());
        });
    }

    private static List<ReshardPlan.Step> nextWave(Present state) {
        return ReshardPlan.nextWave(ReshardPlan.open(state.info().shards()), state.reshard().target(),
                state.reshard().mergeParent());
    }

    private ReplyEffect<Event, State> onWaveClosed(Present state, WaveClosed cmd) {
        if (state.reshard() == null || !state.info().status().equals("UPDATING")) {
            return Effect().noReply();
        }
        List<ReshardPlan.Step> wave = nextWave(state);
        if (!wave.equals(cmd.wave())) {
            // an answer to a wave already persisted (driven twice): the current wave is driven on its own
            return Effect().noReply();
        }
        if (wave.isEmpty()) {
            return Effect().persist(new UpdateFinished()).thenNoReply();
        }
        List<ShardRange> children = ReshardPlan.children(state.info().shards(), wave, state.nextShardIndex(), clock.millis());
        return Effect().persist(new WaveFinished(cmd.closed(), children))
                .thenRun(s -> driveReshard((Present) s, 1))
                .thenNoReply();
    }

    private ReplyEffect<Event, State> onWaveStalled(Present state, WaveStalled cmd) {
        if (state.reshard() != null) {
            context.scheduleOnce(retry.after(cmd.attempt()), context.getSelf(), new DriveReshard(cmd.attempt() + 1));
        }
        return Effect().noReply();
    }

    private ReplyEffect<Event, State> onChangeMode(Present state, ChangeMode cmd) {
        StreamInfo info = state.info();
        if (!info.status().equals("ACTIVE")) {
            return Effect().reply(cmd.replyTo(), notActive(info));
        }
        if (info.streamMode().equals(cmd.streamMode())) {
            // as AWS: nothing to change (tools such as Terraform send the mode on every apply)
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        return Effect().persist(new ModeChanged(cmd.streamMode()))
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
            // a reshard ends by its own waves, never by a Settle
            case "UPDATING" -> state.reshard() != null ? Effect().noReply() : Effect().persist(new UpdateFinished()).thenNoReply();
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
        if (status.equals("UPDATING") && present.reshard() != null) {
            driveReshard(present, 1);
            return;
        }
        if (status.equals("UPDATING")) {
            // an update needs nobody else's agreement; front ends see it within their cache period. It
            // settles after update-delay, as AWS's take a few seconds (after a restart: that long again)
            if (settings.updateDelay().isZero()) context.getSelf().tell(new Settle(status));
            else context.scheduleOnce(settings.updateDelay(), context.getSelf(), new Settle(status));
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
                .onEvent(DeleteRequested.class, (s, e) -> s.with("DELETING").withConsumers(s.info().consumers().allDeleting()))
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
                .onEvent(UpdateFinished.class, (s, e) -> s.updateFinished())
                .onEvent(ReshardStarted.class, Present::reshardStarted)
                .onEvent(WaveFinished.class, Present::waveFinished)
                .onEvent(ModeChanged.class, (s, e) -> s.with(s.info().withMode(e.streamMode())).with("UPDATING"))
                .onEvent(ConsumerRegistered.class, (s, e) -> s.withConsumers(s.info().consumers().registered(s.info().arn(), e)))
                .onEvent(ConsumerActivated.class, (s, e) -> s.withConsumers(
                        s.info().consumers().moved(e.name(), e.createdAtMillis(), "CREATING", "ACTIVE")))
                .onEvent(ConsumerDeregistering.class, (s, e) -> s.withConsumers(
                        s.info().consumers().moved(e.name(), e.createdAtMillis(), null, "DELETING")))
                .onEvent(ConsumerRemoved.class, (s, e) -> s.withConsumers(s.info().consumers().removed(e.name(), e.createdAtMillis())))
                .onEvent(TagsRemoved.class, (s, e) -> {
                    Map<String, String> tags = new TreeMap<>(s.info().tags());
                    e.keys().forEach(tags::remove);
                    return s.withTags(tags);
                });
        return builder.build();
    }
}
