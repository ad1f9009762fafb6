package io.sluice.node.shard;

import io.sluice.node.Futures;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads shard history that is no longer in a shard's in-memory tail straight from the Cassandra
 * journal, on the calling node, so that slow catch-up readers never hold up the shard's actor.
 */
public final class ShardJournal {
    private final ActorSystem<?> system;
    private final CassandraReadJournal journal;

    public ShardJournal(ActorSystem<?> system) {
        this.system = system;
        this.journal = PersistenceQuery.get(system)
                .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    }

    /** Events of a range, stopping early once enough records or bytes are in hand. */
    public CompletionStage<ShardReads.Collected> read(String shardEntityId, long fromEventSeqNr, int fromIndex,
                                                       long toEventSeqNr, int maxRecords, long maxBytes,
                                                       long minArrivalMillis, int maxEvents) {
        AtomicInteger records = new AtomicInteger();
        AtomicLong bytes = new AtomicLong();
        return Futures.direct(journal.currentEventsByPersistenceId(ShardEntity.persistenceId(shardEntityId), fromEventSeqNr, toEventSeqNr)
                .map(env -> env.event())
                .filter(e -> e instanceof ShardEntity.RecordsAppended)
                .map(e -> (ShardEntity.RecordsAppended) e)
                .take(maxEvents)
                .takeWhile(e -> records.get() < maxRecords && bytes.get() < maxBytes, true)
                .map(e -> {
                    if (e.arrivalMillis() >= minArrivalMillis) {
                        records.addAndGet(e.records().size());
                        bytes.addAndGet(e.weight());
                    }
                    return e;
                })
                .runWith(Sink.seq(), system))
                .thenApply(events -> {
                    ShardReads.Collected got = ShardReads.collect(events, fromEventSeqNr, fromIndex, maxRecords, maxBytes,
                            minArrivalMillis, maxEvents);
                    if (got.exhausted() && events.size() < maxEvents) {
                        // nothing more in the range: continue after it (events in between were trimmed)
                        long next = Math.max(got.nextEventSeqNr(), toEventSeqNr + 1);
                        return new ShardReads.Collected(got.records(), next, next == got.nextEventSeqNr() ? got.nextIndex() : 0,
                                true, got.lastArrivalSeen());
                    }
                    return got;
                });
    }
}
