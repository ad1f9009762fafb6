package io.sluice.loadtest.gatling;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.loadtest.GatlingSummary;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * What the run's producers had acknowledged and what each tail reader read, compared once the readers have
 * stopped (after the drain). The consumer and end-to-end simulations share it through {@link KinesisLoad}.
 *
 * <p>An acknowledged record is one the server answered with a shard id and a sequence number; it is kept
 * with a fingerprint of what was sent (CRC32C of its data and partition key, and the data's length), the
 * time its request was sent and the time its answer was read. A reader keeps, per sequence number it read,
 * the fingerprint of what it got. The verdict:
 * <ul>
 * <li>{@code missing}: acknowledged records of a reader's shard that the reader was due to read and never
 *     did. A reader starting at LATEST is due every record whose put was sent after its GetShardIterator
 *     answer arrived, and every record after the first one it read (sequence order is shard order), as
 *     long as the record was acknowledged before the reader's last GetRecords was sent. Records put while
 *     the reader's LATEST position was being fixed are due only in the second way; no reader being due at
 *     all they count as {@code unchecked} (reported, never a failure).</li>
 * <li>{@code duplicates}: reads of a sequence number the same reader had already read.</li>
 * <li>{@code misordered}: reads of a sequence number lower than one the same reader had read before.</li>
 * <li>{@code corrupt}: reads whose data or partition key differ from what was acknowledged at that sequence
 *     number, and sequence numbers the server acknowledged twice.</li>
 * <li>{@code unacknowledged}: reads of sequence numbers no put of this run was acknowledged with (a failed
 *     put the server wrote anyway, or another writer on the same stream).</li>
 * </ul>
 * Any of those above 0 fails the run ({@link GatlingSummary#READ_CHECKS}).
 */
final class Ledger {

    /** One acknowledged record: what was sent, when the request was sent and when its answer was read (nanoTime). */
    private record Ack(long fingerprint, long sentAt, long ackedAt) {
    }

    /** Where the server put the {@code index}-th record of a put. */
    record Placed(int index, String shardId, BigInteger sequenceNumber) {
    }

    /** One record a reader got: its sequence number and the fingerprint of its data and partition key. */
    record Read(BigInteger sequenceNumber, long fingerprint) {
    }

    private final Map<String, NavigableMap<BigInteger, Ack>> acked = new ConcurrentHashMap<>();
    private final List<Reader> readers = new CopyOnWriteArrayList<>();
    private final AtomicLong conflicting = new AtomicLong();
    private volatile boolean used;

    /** Marks this run as one whose reads are checked (it has tail readers): the verdict goes into its summary. */
    void use() {
        used = true;
    }

    boolean used() {
        return used;
    }

    // ---------------------------------------------------------------- fingerprints

    /** The fingerprint of a record: CRC32C of its data, then its partition key (UTF-8), and the data's length. */
    static long fingerprint(byte[] data, String partitionKey) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        crc.update(partitionKey.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() << 32 | (data.length & 0xffffffffL);
    }

    // ---------------------------------------------------------------- the producers' side

    /**
     * Where a PutRecord or PutRecords answer put its records (a PutRecords result with an ErrorCode is left
     * out); nothing from an answer that is not one of those (an error), so this never fails a check itself.
     */
    static List<Placed> placed(byte[] answer) {
        List<Placed> placed = new ArrayList<>();
        try {
            JsonNode root = KinesisLoad.JSON.readTree(answer);
            if (root == null) {
                return placed;
            }
            JsonNode records = root.get("Records");
            if (records != null && records.isArray()) {
                for (int i = 0; i < records.size(); i++) {
                    place(placed, i, records.get(i));
                }
            } else {
                place(placed, 0, root);
            }
        } catch (IOException | RuntimeException e) {
            // not JSON of the kind expected: the other checks of the request say what went wrong
        }
        return placed;
    }

    private static void place(List<Placed> placed, int index, JsonNode result) {
        JsonNode shard = result.get("ShardId");
        JsonNode seq = result.get("SequenceNumber");
        if (shard != null && shard.isTextual() && seq != null && seq.isTextual()) {
            placed.add(new Placed(index, shard.asText(), new BigInteger(seq.asText())));
        }
    }

    /**
     * Records what one put's answer acknowledged: {@code fingerprints} are those of the request's records in
     * request order, {@code sentAt} when the request was built, {@code ackedAt} when its answer was read.
     */
    void acknowledged(List<Placed> placed, long[] fingerprints, long sentAt, long ackedAt) {
        for (Placed p : placed) {
            if (p.index() >= fingerprints.length) {
                continue;   // an answer with more results than records sent: its own check fails it
            }
            Ack previous = acked.computeIfAbsent(p.shardId(), s -> new ConcurrentSkipListMap<>())
                    .putIfAbsent(p.sequenceNumber(), new Ack(fingerprints[p.index()], sentAt, ackedAt));
            if (previous != null) {
                conflicting.incrementAndGet();
                System.err.println("Ledger: sequence number " + p.sequenceNumber() + " of " + p.shardId()
                        + " acknowledged twice");
            }
        }
    }

    // ---------------------------------------------------------------- the readers' side

    /** A reader of {@code shardId} whose GetShardIterator answer arrived at {@code startedAt} (nanoTime). */
    Reader reader(String shardId, long startedAt) {
        Reader r = new Reader(shardId, startedAt);
        readers.add(r);
        return r;
    }

    /** What one tail reader read. A Gatling user runs one step at a time, but not always on the same thread. */
    static final class Reader {
        final String shardId;
        final long startedAt;
        private final Map<BigInteger, Long> seen = new HashMap<>();
        private BigInteger first;
        private BigInteger highest;
        private long duplicates;
        private long misordered;
        /** nanoTime the last GetRecords whose answer was read had been sent; startedAt before the first. */
        private long lastPollAt;

        private Reader(String shardId, long startedAt) {
            this.shardId = shardId;
            this.startedAt = startedAt;
            this.lastPollAt = startedAt;
        }

        /** The records of one GetRecords answer, in the order of the answer; {@code polledAt}: when it was sent. */
        synchronized void read(List<Read> records, long polledAt) {
            for (Read r : records) {
                BigInteger seq = r.sequenceNumber();
                if (seen.putIfAbsent(seq, r.fingerprint()) != null) {
                    duplicates++;
                    continue;
                }
                if (first == null) {
                    first = seq;
                }
                if (highest != null && seq.compareTo(highest) < 0) {
                    misordered++;
                } else {
                    highest = seq;
                }
            }
            lastPollAt = Math.max(lastPollAt, polledAt);
        }

        /** Whether this reader had to read {@code ack} at {@code seq}: see {@link Ledger}. */
        private boolean due(BigInteger seq, Ack ack) {
            boolean started = ack.sentAt() > startedAt || (first != null && seq.compareTo(first) > 0);
            return started && ack.ackedAt() < lastPollAt;
        }
    }

    // ---------------------------------------------------------------- the verdict

    /** Compares, once every reader has stopped: the {@link GatlingSummary#READ_CHECKS} counters, then {@code unchecked}. */
    Map<String, Long> verdict() {
        long missing = 0;
        long duplicates = 0;
        long misordered = 0;
        long corrupt = conflicting.get();
        long unacknowledged = 0;
        long verified = 0;
        Map<String, Map<BigInteger, Boolean>> checked = new HashMap<>();
        for (Reader r : readers) {
            synchronized (r) {
                NavigableMap<BigInteger, Ack> shard = acked.getOrDefault(r.shardId, new ConcurrentSkipListMap<>());
                duplicates += r.duplicates;
                misordered += r.misordered;
                for (Map.Entry<BigInteger, Long> read : r.seen.entrySet()) {
                    Ack ack = shard.get(read.getKey());
                    if (ack == null) {
                        unacknowledged++;
                    } else if (ack.fingerprint() != read.getValue()) {
                        corrupt++;
                    }
                }
                Map<BigInteger, Boolean> due = checked.computeIfAbsent(r.shardId, s -> new HashMap<>());
                for (Map.Entry<BigInteger, Ack> a : shard.entrySet()) {
                    if (r.due(a.getKey(), a.getValue())) {
                        due.put(a.getKey(), Boolean.TRUE);
                        if (!r.seen.containsKey(a.getKey())) {
                            missing++;
                        }
                    }
                }
            }
        }
        long total = acked.values().stream().mapToLong(Map::size).sum();
        for (Map<BigInteger, Boolean> due : checked.values()) {
            verified += due.size();
        }
        Map<String, Long> v = new LinkedHashMap<>();
        v.put("missing", missing);
        v.put("duplicates", duplicates);
        v.put("misordered", misordered);
        v.put("corrupt", corrupt);
        v.put("unacknowledged", unacknowledged);
        v.put("unchecked", total - verified);
        if (GatlingSummary.READ_CHECKS.stream().anyMatch(k -> v.get(k) > 0)) {
            System.err.println("Ledger: reads do not match the acknowledged records: " + v);
        }
        return v;
    }
}
