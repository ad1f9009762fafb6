package io.sluice.node.shard;

import io.sluice.node.runtime.CborSerializable;

import java.util.ArrayList;
import java.util.List;

/**
 * The one way records are picked out of a run of shard events, whether the events come from the
 * in-memory tail or from the journal: from a position, skipping what arrived too early, up to a
 * number of records and of bytes (a read always returns at least one record when one is there).
 *
 * <p>A {@link Collector} takes events one at a time and says when it is full. Whether a read
 * <em>exhausted</em> its range is decided by who fed it, never guessed from what came back: a read
 * that stopped because it hit the record, byte or scan limit continues exactly where it stopped;
 * only a feeder that ran out of events may move the position past the end of its range. Guessing
 * (a stream cut short by a byte count taken for the end of the journal range) once sent readers
 * past thousands of acknowledged records.
 */
public final class ShardReads {
    private ShardReads() {}

    /** A record as read, still in stored form (ciphertext for encrypted streams). */
    public record ReadRecord(long eventSeqNr, int index, long arrivalMillis, String partitionKey, byte[] data,
                             byte[] nonce, byte[] wrappedKey) implements CborSerializable {}

    /** Where a read stopped: the records found, and the position of the first record not returned. */
    public record Collected(List<ReadRecord> records, long nextEventSeqNr, int nextIndex, long lastArrivalSeen) {}

    /** Picks records out of events offered in sequence order, until a limit is reached. */
    public static final class Collector {
        private final long fromEventSeqNr;
        private final int fromIndex;
        private final int maxRecords;
        private final long maxBytes;
        private final long minArrivalMillis;
        private final int maxEvents;
        private final List<ReadRecord> out = new ArrayList<>();
        private long bytes;
        private long nextEvent;
        private int nextIndex;
        private int scanned;
        private long lastArrival;
        private boolean full;

        public Collector(long fromEventSeqNr, int fromIndex, int maxRecords, long maxBytes, long minArrivalMillis,
                         int maxEvents) {
            this.fromEventSeqNr = fromEventSeqNr;
            this.fromIndex = fromIndex;
            this.maxRecords = maxRecords;
            this.maxBytes = maxBytes;
            this.minArrivalMillis = minArrivalMillis;
            this.maxEvents = maxEvents;
            this.nextEvent = fromEventSeqNr;
            this.nextIndex = fromIndex;
        }

        /** Takes what it can of one event; false once it wants no more (then the event may be part-read). */
        public boolean offer(ShardEntity.RecordsAppended e) {
            if (full) {
                return false;
            }
            if (e.eventSeqNr() < nextEvent) {
                return true;
            }
            scanned++;
            lastArrival = e.arrivalMillis();
            if (e.arrivalMillis() >= minArrivalMillis) {
                List<ShardEntity.StoredRecord> records = e.records();
                for (int i = e.eventSeqNr() == fromEventSeqNr ? fromIndex : 0; i < records.size(); i++) {
                    ShardEntity.StoredRecord r = records.get(i);
                    long size = r.size(); // what the 10 MiB limit counts
                    if (out.size() >= maxRecords || (!out.isEmpty() && bytes + size > maxBytes)) {
                        nextEvent = e.eventSeqNr();
                        nextIndex = i;
                        full = true;
                        return false;
                    }
                    byte[] key = r.keyIndex() >= 0 ? e.dataKeys().get(r.keyIndex()) : null;
                    out.add(new ReadRecord(e.eventSeqNr(), i, e.arrivalMillis(), r.partitionKey(), r.data(), r.nonce(), key));
                    bytes += size;
                }
            }
            nextEvent = e.eventSeqNr() + 1;
            nextIndex = 0;
            full = out.size() >= maxRecords || bytes >= maxBytes || scanned >= maxEvents;
            return !full;
        }

        /** True when a limit stopped the read: the position then is exact and must not move on. */
        public boolean full() {
            return full;
        }

        /**
         * The outcome of a read of the events up to {@code lastEventSeqNr}: when they ran out before the
         * collector was full, the position moves past them (events in between were trimmed, or were
         * not records); a read stopped by a limit stays exactly where it stopped.
         */
        public Collected resultThrough(long lastEventSeqNr) {
            if (full || nextEvent > lastEventSeqNr) {
                return new Collected(List.copyOf(out), nextEvent, nextIndex, lastArrival);
            }
            return new Collected(List.copyOf(out), lastEventSeqNr + 1, 0, lastArrival);
        }
    }

    /** Records out of the in-memory tail, whose newest event is {@code lastEventSeqNr}. */
    public static Collected collect(Iterable<ShardEntity.RecordsAppended> events, long fromEventSeqNr, int fromIndex,
                                    int maxRecords, long maxBytes, long minArrivalMillis, long lastEventSeqNr) {
        Collector collector = new Collector(fromEventSeqNr, fromIndex, maxRecords, maxBytes, minArrivalMillis,
                Integer.MAX_VALUE);
        for (ShardEntity.RecordsAppended e : events) {
            if (!collector.offer(e)) {
                break;
            }
        }
        return collector.resultThrough(lastEventSeqNr);
    }
}
