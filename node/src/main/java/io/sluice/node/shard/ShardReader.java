package io.sluice.node.shard;

import io.sluice.node.runtime.Futures;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Sink;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * One GetRecords read of one shard, from a position: the shard entity answers from its in-memory
 * tail, or names the journal range older than the tail, which is then read here, on the calling
 * node, so that slow catch-up readers never hold up the shard's actor.
 *
 * <p>The contract readers rely on: the records returned are the next ones after the position,
 * in order, none skipped; the next position is the first record not returned; and
 * {@code millisBehindLatest} is 0 only when that position is past every record acknowledged
 * before the read began.
 */
public final class ShardReader {
    /**
     * What a read returns: records in stored form, where to continue, how far behind the tip that is,
     * and whether that position is the end of a shard a reshard closed (nothing will ever follow).
     */
    public record Outcome(List<ShardReads.ReadRecord> records, long nextEventSeqNr, int nextIndex,
                          long millisBehindLatest, boolean shardEnded) {}

    private final ActorSystem<?> system;
    private final CurrentEventsByPersistenceIdQuery journal;
    private final Duration askTimeout;
    private final int maxScanEvents;
    private final Executor offShard;

    public ShardReader(ActorSystem<?> system, CurrentEventsByPersistenceIdQuery journal, Duration askTimeout,
                       int maxScanEvents) {
        this.system = system;
        this.journal = journal;
        this.askTimeout = askTimeout;
        this.maxScanEvents = maxScanEvents;
        this.offShard = system.executionContext();
    }

    /** The production reader, on the Cassandra journal. */
    public static ShardReader cassandra(ActorSystem<?> system, Duration askTimeout, int maxScanEvents) {
        return new ShardReader(system, PersistenceQuery.get(system)
                .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier()), askTimeout, maxScanEvents);
    }

    /** Records of the shard {@code shardEntityId} from a position; records that arrived before {@code minArrivalMillis} are skipped. */
    public CompletionStage<Outcome> read(RecipientRef<ShardEntity.Command> shard, String shardEntityId,
                                         long fromEventSeqNr, int fromIndex, int maxRecords, long maxBytes,
                                         long minArrivalMillis) {
        return Futures.direct(AskPattern.<ShardEntity.Command, ShardEntity.ReadResult>ask(shard,
                        replyTo -> new ShardEntity.Read(fromEventSeqNr, fromIndex, maxRecords, maxBytes, minArrivalMillis, replyTo),
                        askTimeout, system.scheduler()))
                // off the shard's thread: what the caller does next (decrypting, rendering up to 10 MB
                // of records) would otherwise hold up that shard's appends
                .thenComposeAsync(tail -> {
                    if (!tail.needsJournal()) {
                        return CompletableFuture.completedFuture(outcome(tail.records(), tail.nextEventSeqNr(),
                                tail.nextIndex(), tail.lastArrivalSeen(), tail));
                    }
                    return readJournal(shardEntityId, tail.nextEventSeqNr(), tail.nextIndex(), tail.journalToEventSeqNr(),
                            maxRecords, maxBytes, minArrivalMillis)
                            .thenApply(got -> outcome(got.records(), got.nextEventSeqNr(), got.nextIndex(),
                                    got.lastArrivalSeen(), tail));
                }, offShard);
    }

    /**
     * Events of a journal range, offered to one collector until it is full or the range runs out.
     * Only a range that ran out moves the position past its end.
     */
    CompletionStage<ShardReads.Collected> readJournal(String shardEntityId, long fromEventSeqNr, int fromIndex,
                                                      long toEventSeqNr, int maxRecords, long maxBytes,
                                                      long minArrivalMillis) {
        ShardReads.Collector collector = new ShardReads.Collector(fromEventSeqNr, fromIndex, maxRecords, maxBytes,
                minArrivalMillis, maxScanEvents);
        // the stream's stages run one at a time, and the collector is read only after the stream is done
        return Futures.direct(journal.currentEventsByPersistenceId(ShardEntity.persistenceId(shardEntityId),
                                fromEventSeqNr, toEventSeqNr)
                        .map(env -> env.event())
                        .filter(e -> e instanceof ShardEntity.RecordsAppended)
                        .takeWhile(e -> collector.offer((ShardEntity.RecordsAppended) e))
                        .runWith(Sink.ignore(), system))
                .thenApply(done -> collector.resultThrough(toEventSeqNr));
    }

    private static Outcome outcome(List<ShardReads.ReadRecord> records, long nextEvent, int nextIndex,
                                   long lastArrivalSeen, ShardEntity.ReadResult tip) {
        boolean caughtUp = nextEvent > tip.tipEventSeqNr();
        // 0 means "nothing left to read" to every consumer (the KCL idles on it), so never when something is
        long behind = caughtUp ? 0 : Math.max(1, tip.tipArrivalMillis() - lastArrivalSeen);
        return new Outcome(records, nextEvent, nextIndex, behind, caughtUp && tip.closed());
    }
}
