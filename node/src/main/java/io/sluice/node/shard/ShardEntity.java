package io.sluice.node.shard;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.runtime.Timings;
import io.sluice.protocol.AwsError;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import io.sluice.node.runtime.JournalCleanup;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One shard of one stream incarnation: the ordered log of its records. Each {@link Append} (a
 * group of client requests gathered by the node's {@link AppendBatcher}) becomes one journal event;
 * a record's sequence number is derived from that event's journal sequence number and the record's
 * place in it, so numbers are unique, increasing and survive restarts and failover.
 *
 * <p>Recent events are also kept in memory (the tail, bounded by {@code sluice.shard.tail-bytes}) so
 * that readers at the tip never touch Cassandra. The tail is a cache of confirmed writes, not state:
 * an event enters it only once the journal has confirmed it, never from the event handler (which
 * Pekko runs before the write is confirmed, and again on every replay), and a recovery that finds
 * the journal elsewhere than the tail empties it, so it is always a gapless run of stored events.
 * Records older than the stream's retention are skipped by reads at once and deleted from the
 * journal by {@link Trim}.
 */
public final class ShardEntity
        extends EventSourcedBehaviorWithEnforcedReplies<ShardEntity.Command, ShardEntity.Event, ShardEntity.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Shard");
    private static final long BUCKET_MILLIS = 60_000;

    /** Entity id of a shard: stream name, the stream's creation time, shard index. */
    public static String entityId(String streamName, long streamCreatedAt, int shardIndex) {
        return streamName + "~" + streamCreatedAt + "~" + shardIndex;
    }

    public static String persistenceId(String entityId) {
        return PersistenceId.of(ENTITY_KEY.name(), entityId).id();
    }

    // ---- messages

    public sealed interface Command extends CborSerializable {}

    public record Append(List<StoredRecord> records, List<byte[]> dataKeys, ActorRef<StatusReply<AppendAck>> replyTo)
            implements Command {}

    /** Where an append landed; or, with {@code shardClosed}, that the shard was closed by a reshard and took nothing. */
    public record AppendAck(long eventSeqNr, long arrivalMillis, boolean shardClosed) implements CborSerializable {}

    /** Read from a position; records that arrived before {@code minArrivalMillis} are skipped. */
    public record Read(long fromEventSeqNr, int fromIndex, int maxRecords, long maxBytes, long minArrivalMillis,
                       ActorRef<ReadResult> replyTo) implements Command {}

    /**
     * What a Read found. When the position is older than the tail, {@code records} is empty and
     * {@code journalToEventSeqNr} says which journal range the caller must read itself.
     */
    public record ReadResult(List<ShardReads.ReadRecord> records, long nextEventSeqNr, int nextIndex,
                             long journalToEventSeqNr, long tipEventSeqNr, long tipArrivalMillis, long lastArrivalSeen,
                             boolean closed)
            implements CborSerializable {
        public boolean needsJournal() {
            return journalToEventSeqNr > 0;
        }
    }

    public record Tip(ActorRef<TipInfo> replyTo) implements Command {}

    public record TipInfo(long lastEventSeqNr, long lastArrivalMillis, boolean closed) implements CborSerializable {}

    /**
     * A fan-out subscription waits for what follows a position: answered as soon as an event after
     * {@code afterEventSeqNr} is stored (at once when one is), when the shard closes, or when another
     * subscription of the same consumer took this one's place. The shard keeps one waiting Watch per
     * subscription (a newer one replaces it) and never waits on a subscriber: it answers and forgets.
     * A subscription the shard has not heard of (it was started before this shard's restart) is adopted.
     */
    public record Watch(String consumerArn, String subscriptionId, long afterEventSeqNr, ActorRef<WatchResult> replyTo)
            implements Command {}

    /** The tip when a Watch was answered; {@code superseded} when a newer subscription of the consumer took over. */
    public record WatchResult(long lastEventSeqNr, long lastArrivalMillis, boolean closed, boolean superseded)
            implements CborSerializable {}

    /** A subscription ended: its waiting Watch, if any, is dropped unanswered. */
    public record Unwatch(String subscriptionId) implements Command {}

    /**
     * A new subscription of a consumer to this shard: refused while the consumer's previous subscription
     * started less than {@code exclusiveMillis} ago (AWS's 5 seconds); otherwise it takes the consumer's
     * place here, and the previous one learns it is superseded at its next Watch.
     */
    public record Subscribe(String consumerArn, String subscriptionId, long exclusiveMillis, ActorRef<Subscribed> replyTo)
            implements Command {}

    public record Subscribed(boolean accepted) implements CborSerializable {}

    /** Forget records that arrived before the cutoff: skipped by reads already, now deleted from Cassandra. */
    public record Trim(long cutoffMillis, ActorRef<StatusReply<Done>> replyTo) implements Command {}


    /**
     * The shard's stream is deleted: answers once every command before it is done (an append
     * already written, its snapshot stored) and stops, so that no node keeps its tail and its
     * journal can be deleted ({@link ShardPurger}).
     */
    public record Purge(ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /**
     * A reshard closes this shard: no append is taken after it, every append before it is stored.
     * Answers where the shard ended; closing a closed shard answers the same again.
     */
    public record Close(ActorRef<StatusReply<Closed>> replyTo) implements Command {}

    /** A closed shard's end: every record of it lies in an event before {@code endEventSeqNr}. */
    public record Closed(long endEventSeqNr, long closedAtMillis) implements CborSerializable {}

    // ---- events

    /**
     * A record as stored. Unencrypted: its partition key and data, keyIndex -1. Encrypted:
     * {@code data} is AES-GCM ciphertext of the partition key and data together (partitionKey null),
     * {@code nonce} its nonce, and {@code keyIndex} points into the event's wrapped data keys; records
     * encrypted by earlier Sluice versions kept the partition key in the clear beside the ciphertext.
     */
    public record StoredRecord(String partitionKey, byte[] data, int keyIndex, byte[] nonce) implements CborSerializable {
        public static StoredRecord plain(String partitionKey, byte[] data) {
            return new StoredRecord(partitionKey, data, -1, null);
        }

        public static StoredRecord sealed(byte[] ciphertext, byte[] nonce) {
            return new StoredRecord(null, ciphertext, 0, nonce);
        }

        /** Bytes counted against read and tail limits: data and partition key, or the ciphertext of both. */
        public long size() {
            return data.length + (partitionKey == null ? 0 : partitionKey.length());
        }

        long weight() {
            return size() + 64;
        }
    }

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = RecordsAppended.class, name = "appended"),
            @JsonSubTypes.Type(value = RecordsTrimmed.class, name = "trimmed"),
            @JsonSubTypes.Type(value = ShardClosed.class, name = "closed")})
    public sealed interface Event extends CborSerializable {}

    /** Carries its own journal sequence number so replay after deleted events stays exact. */
    public record RecordsAppended(long eventSeqNr, long arrivalMillis, List<StoredRecord> records,
                                  List<byte[]> dataKeys) implements Event {
        long weight() {
            long w = 64;
            for (StoredRecord r : records) w += r.weight();
            return w;
        }
    }

    public record RecordsTrimmed(long eventSeqNr, long upToEventSeqNr) implements Event {}

    /** The shard takes no more records: a reshard moved its hash key range to child shards. */
    public record ShardClosed(long eventSeqNr, long closedAtMillis) implements Event {}

    // ---- state

    /** Events of one minute of arrivals: what Trim deletes at a time. */
    public record Bucket(long startMillis, long firstEventSeqNr, long lastEventSeqNr) implements CborSerializable {}

    /** {@code closedAtEventSeqNr}: the ShardClosed event's number, 0 while the shard is open. */
    public record State(long lastEventSeqNr, long lastArrivalMillis, long trimmedToEventSeqNr, List<Bucket> buckets,
                        long closedAtEventSeqNr, long closedAtMillis)
            implements CborSerializable {

        public boolean closed() {
            return closedAtEventSeqNr > 0;
        }

        State appended(RecordsAppended e) {
            List<Bucket> next = new ArrayList<>(buckets);
            long start = e.arrivalMillis() - Math.floorMod(e.arrivalMillis(), BUCKET_MILLIS);
            Bucket last = next.isEmpty() ? null : next.get(next.size() - 1);
            if (last != null && last.startMillis() >= start) {
                next.set(next.size() - 1, new Bucket(last.startMillis(), last.firstEventSeqNr(), e.eventSeqNr()));
            } else {
                next.add(new Bucket(start, e.eventSeqNr(), e.eventSeqNr()));
            }
            return new State(e.eventSeqNr(), Math.max(lastArrivalMillis, e.arrivalMillis()), trimmedToEventSeqNr,
                    List.copyOf(next), closedAtEventSeqNr, closedAtMillis);
        }

        State trimmed(RecordsTrimmed e) {
            List<Bucket> kept = buckets.stream().filter(b -> b.lastEventSeqNr() > e.upToEventSeqNr()).toList();
            return new State(Math.max(lastEventSeqNr, e.eventSeqNr()), lastArrivalMillis,
                    Math.max(trimmedToEventSeqNr, e.upToEventSeqNr()), kept, closedAtEventSeqNr, closedAtMillis);
        }

        State closed(ShardClosed e) {
            return new State(Math.max(lastEventSeqNr, e.eventSeqNr()), lastArrivalMillis, trimmedToEventSeqNr, buckets,
                    e.eventSeqNr(), e.closedAtMillis());
        }

        /** The last event all of whose records arrived before the cutoff, by whole minutes. */
        long trimPointFor(long cutoffMillis) {
            long point = trimmedToEventSeqNr;
            for (Bucket b : buckets) {
                if (b.startMillis() + BUCKET_MILLIS <= cutoffMillis) {
                    point = Math.max(point, b.lastEventSeqNr());
                }
            }
            return point;
        }
    }

    // ---- wiring

    /** Deletes journal events up to a sequence number; the Cassandra plugin's cleanup in production. */
    @FunctionalInterface
    public interface EventDeleter {
        java.util.concurrent.CompletionStage<Done> deleteEventsTo(String persistenceId, long toSequenceNr);

        static EventDeleter cassandra(ActorSystem<?> system) {
            return new JournalCleanup(system)::deleteEventsTo;
        }
    }

    public static void init(ActorSystem<?> system, NodeSettings settings, Clock clock) {
        EventDeleter deleter = EventDeleter.cassandra(system);
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), settings, clock, deleter)));
    }

    public static Behavior<Command> create(String entityId, NodeSettings settings, Clock clock, EventDeleter deleter) {
        return Behaviors.setup(ctx -> new ShardEntity(ctx, entityId, settings, clock, deleter));
    }

    private final ActorContext<Command> context;
    private final String persistenceId;
    private final NodeSettings settings;
    private final Clock clock;
    private final EventDeleter deleter;
    private final Timings timings;
    private final ArrayDeque<RecordsAppended> tail = new ArrayDeque<>();
    /** Fan-out subscriptions waiting for records, by subscription id; not state: a restart forgets them and they ask again. */
    private final java.util.Map<String, Watch> watching = new java.util.HashMap<>();
    /** Which subscription of each consumer is current, and when it started: not state either, see {@link Watch}. */
    private final java.util.Map<String, Lease> leases = new java.util.HashMap<>();

    private record Lease(String subscriptionId, long startedAtMillis) {}
    private long tailWeight;
    /** The journal sequence number the tail accounts for: every event up to it is in the tail, trimmed, or older than the tail. */
    private long tailThrough;

    private ShardEntity(ActorContext<Command> context, String entityId, NodeSettings settings, Clock clock,
                        EventDeleter deleter) {
        super(PersistenceId.of(ENTITY_KEY.name(), entityId),
                Entities.RESTART);
        this.context = context;
        this.persistenceId = persistenceId(entityId);
        this.settings = settings;
        this.clock = clock;
        this.deleter = deleter;
        this.timings = Timings.get(context.getSystem());
    }

    @Override
    public State emptyState() {
        return new State(0, 0, 0, List.of(), 0, 0);
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        // snapshots shorten recovery; events are records and are deleted only by Trim
        return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
    }

    // ---- command handlers

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Append.class, this::onAppend)
                .onCommand(Read.class, this::onRead)
                .onCommand(Tip.class, (s, c) -> Effect().reply(c.replyTo(),
                        new TipInfo(s.lastEventSeqNr(), s.lastArrivalMillis(), s.closed())))
                .onCommand(Close.class, this::onClose)
                .onCommand(Watch.class, this::onWatch)
                .onCommand(Unwatch.class, (s, c) -> {
                    watching.remove(c.subscriptionId());
                    return Effect().noReply();
                })
                .onCommand(Subscribe.class, this::onSubscribe)
                .onCommand(Trim.class, this::onTrim)
                .onCommand(Purge.class, this::onPurge)
                .build();
    }

    private ReplyEffect<Event, State> onAppend(State state, Append cmd) {
        if (cmd.records().isEmpty()) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.InvalidArgumentException.exception("No records to append")));
        }
        if (state.closed()) {
            return Effect().reply(cmd.replyTo(), StatusReply.success(new AppendAck(0, 0, true)));
        }
        long eventSeqNr = lastSequenceNumber(context) + 1;
        // arrival times never go back within a shard, even if a new owner's clock is behind
        long arrival = Math.max(clock.millis(), state.lastArrivalMillis());
        RecordsAppended event = new RecordsAppended(eventSeqNr, arrival, cmd.records(), cmd.dataKeys());
        long start = System.nanoTime();
        return Effect().persist(event)
                .thenRun(s -> {
                    remember(event);
                    notifyWatchers(s);
                })
                .thenReply(cmd.replyTo(), s -> {
                    timings.since("shard.persist", start);
                    return StatusReply.success(new AppendAck(eventSeqNr, arrival, false));
                });
    }

    private ReplyEffect<Event, State> onRead(State state, Read cmd) {
        long floor = tail.isEmpty() ? state.lastEventSeqNr() + 1 : tail.peekFirst().eventSeqNr();
        if (cmd.fromEventSeqNr() < floor && cmd.fromEventSeqNr() <= state.lastEventSeqNr()) {
            long from = Math.max(cmd.fromEventSeqNr(), state.trimmedToEventSeqNr() + 1);
            if (from < floor) {
                return Effect().reply(cmd.replyTo(), new ReadResult(List.of(), from,
                        from == cmd.fromEventSeqNr() ? cmd.fromIndex() : 0, floor - 1,
                        state.lastEventSeqNr(), state.lastArrivalMillis(), 0, state.closed()));
            }
        }
        ShardReads.Collected got = ShardReads.collect(tail, cmd.fromEventSeqNr(), cmd.fromIndex(), cmd.maxRecords(),
                cmd.maxBytes(), cmd.minArrivalMillis(), state.lastEventSeqNr());
        return Effect().reply(cmd.replyTo(), new ReadResult(got.records(), got.nextEventSeqNr(), got.nextIndex(), 0,
                state.lastEventSeqNr(), state.lastArrivalMillis(), got.lastArrivalSeen(), state.closed()));
    }

    private ReplyEffect<Event, State> onTrim(State state, Trim cmd) {
        long point = state.trimPointFor(cmd.cutoffMillis());
        if (point <= state.trimmedToEventSeqNr()) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        long eventSeqNr = lastSequenceNumber(context) + 1;
        return Effect().persist(new RecordsTrimmed(eventSeqNr, point))
                .thenRun(s -> {
                    forgetUpTo(point, eventSeqNr);
                    deleteFromJournal(point);
                })
                .thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onClose(State state, Close cmd) {
        if (state.closed()) {
            return Effect().reply(cmd.replyTo(), StatusReply.success(new Closed(state.closedAtEventSeqNr(), state.closedAtMillis())));
        }
        long eventSeqNr = lastSequenceNumber(context) + 1;
        long at = Math.max(clock.millis(), state.lastArrivalMillis());
        return Effect().persist(new ShardClosed(eventSeqNr, at))
                .thenRun(s -> {
                    // the tail still accounts for every event: this one holds no records
                    if (tailThrough == eventSeqNr - 1) tailThrough = eventSeqNr;
                    notifyWatchers(s);
                })
                .thenReply(cmd.replyTo(), s -> StatusReply.success(new Closed(eventSeqNr, at)));
    }

    private ReplyEffect<Event, State> onWatch(State state, Watch cmd) {
        Lease lease = leases.computeIfAbsent(cmd.consumerArn(), arn -> new Lease(cmd.subscriptionId(), clock.millis()));
        boolean superseded = !lease.subscriptionId().equals(cmd.subscriptionId());
        if (superseded || state.closed() || state.lastEventSeqNr() > cmd.afterEventSeqNr()) {
            watching.remove(cmd.subscriptionId());
            return Effect().reply(cmd.replyTo(), watchResult(state, superseded));
        }
        watching.put(cmd.subscriptionId(), cmd);
        return Effect().noReply();
    }

    private ReplyEffect<Event, State> onSubscribe(State state, Subscribe cmd) {
        long now = clock.millis();
        Lease current = leases.get(cmd.consumerArn());
        if (current != null && !current.subscriptionId().equals(cmd.subscriptionId())
                && now - current.startedAtMillis() < cmd.exclusiveMillis()) {
            return Effect().reply(cmd.replyTo(), new Subscribed(false));
        }
        leases.put(cmd.consumerArn(), new Lease(cmd.subscriptionId(), now));
        if (current != null) {
            // the superseded subscription hears it now rather than at the next record
            Watch waiting = watching.remove(current.subscriptionId());
            if (waiting != null) waiting.replyTo().tell(watchResult(state, true));
        }
        return Effect().reply(cmd.replyTo(), new Subscribed(true));
    }

    private static WatchResult watchResult(State state, boolean superseded) {
        return new WatchResult(state.lastEventSeqNr(), state.lastArrivalMillis(), state.closed(), superseded);
    }

    /** Answers every waiting Watch the shard's new state satisfies (all of them: any event or a close is news). */
    private void notifyWatchers(State state) {
        if (watching.isEmpty()) return;
        List<Watch> due = new ArrayList<>();
        watching.values().removeIf(w -> {
            boolean news = state.closed() || state.lastEventSeqNr() > w.afterEventSeqNr();
            if (news) due.add(w);
            return news;
        });
        for (Watch w : due) w.replyTo().tell(watchResult(state, false));
    }

    private ReplyEffect<Event, State> onPurge(State state, Purge cmd) {
        return Effect().stop().thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private void deleteFromJournal(long upTo) {
        var log = context.getLog();
        deleter.deleteEventsTo(persistenceId, upTo).whenComplete((done, failure) -> {
                    if (failure != null) {
                        log.warn("Deleting expired events of {} up to {} failed; the next sweep retries", persistenceId, upTo, failure);
                    }
                });
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::alignTail).build();
    }

    /**
     * After a recovery the tail must end where the journal does. It does after a passivation (both
     * empty) or a restart in this same object after a failed write whose event was not stored. A
     * write that failed on the client side but was stored after all leaves the journal ahead of the
     * tail, and the tail would have a hole: it is emptied, and reads go to the journal until new
     * appends fill it again.
     */
    private void alignTail(State recovered) {
        if (tailThrough != recovered.lastEventSeqNr()) {
            tail.clear();
            tailWeight = 0;
            tailThrough = recovered.lastEventSeqNr();
        }
    }

    // ---- event handlers (pure)

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(RecordsAppended.class, State::appended)
                .onEvent(RecordsTrimmed.class, State::trimmed)
                .onEvent(ShardClosed.class, (State s, ShardClosed e) -> s.closed(e))
                .build();
    }

    // ---- the tail, changed only once the journal confirmed a write

    private void remember(RecordsAppended e) {
        tail.addLast(e);
        tailWeight += e.weight();
        tailThrough = e.eventSeqNr();
        while (tailWeight > settings.tailBytes() && tail.size() > 1) {
            tailWeight -= tail.removeFirst().weight();
        }
    }

    private void forgetUpTo(long upToEventSeqNr, long trimEventSeqNr) {
        while (!tail.isEmpty() && tail.peekFirst().eventSeqNr() <= upToEventSeqNr) {
            tailWeight -= tail.removeFirst().weight();
        }
        tailThrough = trimEventSeqNr;
    }
}
