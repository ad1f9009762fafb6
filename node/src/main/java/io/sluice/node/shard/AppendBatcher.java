package io.sluice.node.shard;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.runtime.Timings;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.kinesis.HashKeys;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Group commit, one per node: while one append to a shard is being written, later appends to that
 * shard from this node's front end wait here and then go to the shard together, as one journal
 * event. Many small client requests thus share one Cassandra write, and a shard never has more
 * than one append in flight from a node, which also keeps per-client order.
 */
public final class AppendBatcher extends AbstractBehavior<AppendBatcher.Command> {

    public sealed interface Command {}

    /** Append the records of one client request to a shard; the reply says where they landed. */
    public record Enqueue(String shardEntityId, String streamName, int shardIndex, List<ShardEntity.StoredRecord> records,
                          List<byte[]> dataKeys, ActorRef<StatusReply<Landed>> replyTo) implements Command {}

    /** Where a request's records landed: record i has index {@code firstIndex + i} in event {@code eventSeqNr}. */
    public record Landed(long eventSeqNr, int firstIndex, long arrivalMillis) {}

    private record Written(String shardEntityId, List<Enqueue> batch, List<Integer> offsets, long startNanos,
                           ShardEntity.AppendAck ack, Throwable failure) implements Command {}

    private static final class ShardQueue {
        final ArrayDeque<Enqueue> waiting = new ArrayDeque<>();
        long waitingBytes;
        boolean inFlight;
        long inFlightSince;
    }

    public static Behavior<Command> create(NodeSettings settings) {
        return Behaviors.setup(ctx -> {
            ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
            return create(settings, id -> sharding.entityRefFor(ShardEntity.ENTITY_KEY, id));
        });
    }

    /** A batcher writing to the shards {@code shards} names (tests stand in for Cluster Sharding). */
    public static Behavior<Command> create(NodeSettings settings, Function<String, RecipientRef<ShardEntity.Command>> shards) {
        return Behaviors.setup(ctx -> new AppendBatcher(ctx, settings, Timings.get(ctx.getSystem()), shards));
    }

    private final NodeSettings settings;
    private final Timings timings;
    private final Function<String, RecipientRef<ShardEntity.Command>> shards;
    private final Map<String, ShardQueue> queues = new HashMap<>();
    private final long maxWaitingBytes;

    private AppendBatcher(ActorContext<Command> context, NodeSettings settings, Timings timings,
                          Function<String, RecipientRef<ShardEntity.Command>> shards) {
        super(context);
        this.settings = settings;
        this.timings = timings;
        this.shards = shards;
        // beyond this much waiting data a shard is overloaded: push back as Kinesis does
        this.maxWaitingBytes = Math.max(16L << 20, settings.maxBatchBytes() * 8);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Enqueue.class, this::onEnqueue)
                .onMessage(Written.class, this::onWritten)
                .build();
    }

    private Behavior<Command> onEnqueue(Enqueue e) {
        ShardQueue q = queues.computeIfAbsent(e.shardEntityId(), k -> new ShardQueue());
        long bytes = weight(e);
        // too much waiting, or a write in flight for longer than a client should wait behind it (a
        // cold node, a slow Cassandra): refuse at once with the error every Kinesis client retries
        // with back-off, rather than let the request queue into a time-out
        if (q.waitingBytes + bytes > maxWaitingBytes
                || (q.inFlight && System.nanoTime() - q.inFlightSince > settings.maxAppendWait().toNanos())) {
            timings.count("journal.refusedRequests", 1);
            e.replyTo().tell(StatusReply.error(AwsError.ProvisionedThroughputExceededException.exception("Rate exceeded for shard " + HashKeys.shardId(e.shardIndex()) + " in stream " + e.streamName()
                            + " under account " + settings.accountId() + ".")));
            return this;
        }
        q.waiting.add(e);
        q.waitingBytes += bytes;
        if (!q.inFlight) {
            flush(e.shardEntityId(), q);
        }
        return this;
    }

    private void flush(String shardEntityId, ShardQueue q) {
        List<Enqueue> batch = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        List<ShardEntity.StoredRecord> records = new ArrayList<>();
        List<byte[]> keys = new ArrayList<>();
        long bytes = 0;
        while (!q.waiting.isEmpty()) {
            Enqueue next = q.waiting.peek();
            long w = weight(next);
            if (!batch.isEmpty() && (records.size() + next.records().size() > settings.maxBatchRecords()
                    || bytes + w > settings.maxBatchBytes())) {
                break;
            }
            q.waiting.poll();
            q.waitingBytes -= w;
            bytes += w;
            batch.add(next);
            offsets.add(records.size());
            int keyBase = keys.size();
            keys.addAll(next.dataKeys());
            for (ShardEntity.StoredRecord r : next.records()) {
                records.add(keyBase == 0 || r.keyIndex() < 0 ? r
                        : new ShardEntity.StoredRecord(r.partitionKey(), r.data(), r.keyIndex() + keyBase, r.nonce()));
            }
        }
        q.inFlight = true;
        q.inFlightSince = System.nanoTime();
        timings.count("journal.appends", 1);
        timings.count("journal.appendedRequests", batch.size());
        timings.count("journal.appendedRecords", records.size());
        long start = System.nanoTime();
        // not getContext().askWithStatus: its Java form completes through the common pool (see Futures)
        getContext().pipeToSelf(Futures.direct(AskPattern.<ShardEntity.Command, ShardEntity.AppendAck>askWithStatus(
                        shards.apply(shardEntityId), replyTo -> new ShardEntity.Append(records, keys, replyTo),
                        settings.askTimeout(), getContext().getSystem().scheduler())),
                (ack, failure) -> new Written(shardEntityId, batch, offsets, start, ack, failure));
    }

    private Behavior<Command> onWritten(Written w) {
        timings.since("journal.append", w.startNanos());
        for (int i = 0; i < w.batch().size(); i++) {
            Enqueue e = w.batch().get(i);
            if (w.failure() == null && w.ack().shardClosed()) {
                e.replyTo().tell(StatusReply.error(new ShardClosedException(e.shardEntityId())));
            } else if (w.failure() == null) {
                e.replyTo().tell(StatusReply.success(new Landed(w.ack().eventSeqNr(), w.offsets().get(i), w.ack().arrivalMillis())));
            } else {
                e.replyTo().tell(StatusReply.error(w.failure()));
            }
        }
        ShardQueue q = queues.get(w.shardEntityId());
        q.inFlight = false;
        if (q.waiting.isEmpty()) {
            queues.remove(w.shardEntityId());
        } else {
            flush(w.shardEntityId(), q);
        }
        return this;
    }

    /**
     * The shard was closed by a reshard before these records reached it: nothing of them was stored,
     * and the caller routes them again by the stream's new shards. Never leaves the node.
     */
    public static final class ShardClosedException extends RuntimeException {
        public ShardClosedException(String shardEntityId) {
            super("shard " + shardEntityId + " is closed", null, false, false);
        }
    }

    private static long weight(Enqueue e) {
        long w = 0;
        for (ShardEntity.StoredRecord r : e.records()) w += r.weight();
        return w;
    }
}
