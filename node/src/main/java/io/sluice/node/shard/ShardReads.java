package io.sluice.node.shard;

import io.sluice.node.CborSerializable;

import java.util.ArrayList;
import java.util.List;

/**
 * The one way records are picked out of a run of shard events, whether the events come from the
 * in-memory tail or from the journal: from a position, skipping what arrived too early, up to a
 * number of records and of bytes (a read always returns at least one record when one is there).
 */
public final class ShardReads {
    private ShardReads() {}

    /** A record as read, still in stored form (ciphertext for encrypted streams). */
    public record ReadRecord(long eventSeqNr, int index, long arrivalMillis, String partitionKey, byte[] data,
                             byte[] nonce, byte[] wrappedKey) implements CborSerializable {}

    /**
     * @param exhausted true when every event given was looked at: the next position then is the
     *                  one after the last event seen, and the caller may know of later events
     */
    public record Collected(List<ReadRecord> records, long nextEventSeqNr, int nextIndex, boolean exhausted,
                            long lastArrivalSeen) {}

    public static Collected collect(Iterable<ShardEntity.RecordsAppended> events, long fromEventSeqNr, int fromIndex,
                                    int maxRecords, long maxBytes, long minArrivalMillis, int maxEvents) {
        List<ReadRecord> out = new ArrayList<>();
        long bytes = 0;
        long nextEvent = fromEventSeqNr;
        int nextIndex = fromIndex;
        int scanned = 0;
        long lastArrival = 0;
        for (ShardEntity.RecordsAppended e : events) {
            if (e.eventSeqNr() < fromEventSeqNr) {
                continue;
            }
            if (scanned++ >= maxEvents) {
                return new Collected(out, nextEvent, nextIndex, false, lastArrival);
            }
            int start = e.eventSeqNr() == fromEventSeqNr ? fromIndex : 0;
            lastArrival = e.arrivalMillis();
            if (e.arrivalMillis() < minArrivalMillis) {
                nextEvent = e.eventSeqNr() + 1;
                nextIndex = 0;
                continue;
            }
            List<ShardEntity.StoredRecord> records = e.records();
            for (int i = start; i < records.size(); i++) {
                ShardEntity.StoredRecord r = records.get(i);
                if (out.size() >= maxRecords || (!out.isEmpty() && bytes + r.data().length > maxBytes)) {
                    return new Collected(out, e.eventSeqNr(), i, false, lastArrival);
                }
                byte[] key = r.keyIndex() >= 0 ? e.dataKeys().get(r.keyIndex()) : null;
                out.add(new ReadRecord(e.eventSeqNr(), i, e.arrivalMillis(), r.partitionKey(), r.data(), r.nonce(), key));
                bytes += r.data().length + r.partitionKey().length();
            }
            nextEvent = e.eventSeqNr() + 1;
            nextIndex = 0;
        }
        return new Collected(out, nextEvent, nextIndex, true, lastArrival);
    }
}
