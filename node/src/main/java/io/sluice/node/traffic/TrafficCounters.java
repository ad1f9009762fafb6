package io.sluice.node.traffic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One node's traffic per stream and shard, in minute buckets over the last hour: records and bytes
 * of acknowledged puts, records returned by GetRecords and the largest MillisBehindLatest answered
 * in the minute. Written on the request path by every thread that serves a put or a read, read
 * once in a while by {@link NodeTraffic}.
 *
 * <p>Counting takes no lock and allocates nothing per call: a map look-up by stream name, an array
 * read for the shard, and atomic additions into the shard's bucket of the minute (a bucket is
 * allocated once per shard and minute). Streams and shards with no traffic in the last hour are
 * dropped by {@link #sweep}, and a deleted stream's by {@link #forget}, so memory follows the
 * traffic of the last hour. Dropping is safe against a count that lands at the same moment: the
 * sweeper marks a counter removed before it looks whether it is idle, a writer looks at that mark
 * after it counted, and when it finds its counter dropped it counts again in a live one (the rare
 * slow path takes the stream's lock).
 */
public final class TrafficCounters {
    /** Minutes kept per shard; the last is the current, partial one. */
    public static final int MINUTES = 60;
    /** The iterator age of a minute in which no GetRecords was answered. */
    public static final long NO_READS = -1;

    private final ConcurrentHashMap<String, StreamCounts> streams = new ConcurrentHashMap<>();

    public static long minuteOf(long epochMillis) {
        return Math.floorDiv(epochMillis, 60_000L);
    }

    /**
     * A put acknowledged: {@code records} records of {@code bytes} bytes (data plus partition key, as
     * Kinesis counts IncomingBytes) stored in one shard of a stream.
     *
     * @param createdAtMillis the stream's creation time: a stream deleted and created again under the same name starts
     *                        from nothing, and a late put of the old one counts nowhere
     */
    public void incoming(String stream, long createdAtMillis, int shardIndex, long records, long bytes, long nowMillis) {
        count(stream, createdAtMillis, shardIndex, minuteOf(nowMillis), records, bytes, 0, NO_READS);
    }

    /** A GetRecords answered: {@code records} records returned, {@code millisBehindLatest} as the answer said. */
    public void read(String stream, long createdAtMillis, int shardIndex, long records, long millisBehindLatest, long nowMillis) {
        count(stream, createdAtMillis, shardIndex, minuteOf(nowMillis), 0, 0, records, Math.max(0, millisBehindLatest));
    }

    private void count(String stream, long createdAt, int shardIndex, long minute, long records, long bytes, long read,
                       long age) {
        while (true) {
            StreamCounts s = live(stream, createdAt);
            if (s == null) return; // a put or read of an older stream of that name
            ShardCounts t = s.shard(shardIndex);
            if (t == null) continue; // the stream's counters were dropped meanwhile: look again
            t.add(minute, records, bytes, read, age);
            if (!t.removed && !s.removed) return;
            // a sweep or a forget looked at these counters as we counted: settle under the stream's lock
            if (s.holds(shardIndex, t) || s.forgotten) return;
        }
    }

    /** The stream's counters of that creation, made when it has none; null for an older stream of the name. */
    private StreamCounts live(String stream, long createdAt) {
        StreamCounts s = streams.get(stream);
        if (s != null && s.createdAt == createdAt && !s.removed) return s;
        if (s != null && s.createdAt > createdAt) return null;
        if (s != null) {
            s.drop(streams, stream, s.createdAt != createdAt);
        }
        return streams.computeIfAbsent(stream, k -> new StreamCounts(createdAt));
    }

    /**
     * The stream's counts per shard for the {@link #MINUTES} minutes ending with {@code lastMinute}
     * (an epoch minute), of the shards that had traffic in them.
     */
    public List<ShardSeries> series(String stream, long createdAtMillis, long lastMinute) {
        StreamCounts s = streams.get(stream);
        List<ShardSeries> out = new ArrayList<>();
        if (s == null || s.createdAt != createdAtMillis) return out;
        ShardCounts[] shards = s.shards;
        for (int i = 0; i < shards.length; i++) {
            if (shards[i] != null) {
                ShardSeries series = shards[i].series(i, lastMinute);
                if (series != null) out.add(series);
            }
        }
        return out;
    }

    /** Drops every counter of the stream (it was deleted). */
    public void forget(String stream) {
        StreamCounts s = streams.get(stream);
        if (s != null) s.drop(streams, stream, true);
    }

    /** Drops shards with no traffic in the hour before {@code nowMillis}, and streams left without shards. */
    public void sweep(long nowMillis) {
        long oldestKept = minuteOf(nowMillis) - MINUTES + 1;
        streams.forEach((name, s) -> s.sweep(streams, name, oldestKept));
    }

    /** How many shards have counters: what memory the counters hold is about this times a few hundred bytes. */
    public int shardCount() {
        int n = 0;
        for (StreamCounts s : streams.values()) {
            for (ShardCounts t : s.shards) if (t != null) n++;
        }
        return n;
    }

    public int streamCount() {
        return streams.size();
    }

    /**
     * One shard's minutes, oldest first, of the {@link #MINUTES} minutes asked; {@code iteratorAgeMillis} holds
     * {@link #NO_READS} for a minute without GetRecords.
     */
    public record ShardSeries(int shardIndex, long[] incomingRecords, long[] incomingBytes, long[] getRecordsRecords,
                              long[] iteratorAgeMillis) {
        static ShardSeries empty(int shardIndex) {
            long[] age = new long[MINUTES];
            Arrays.fill(age, NO_READS);
            return new ShardSeries(shardIndex, new long[MINUTES], new long[MINUTES], new long[MINUTES], age);
        }
    }

    /** A stream's shards by index; the array is replaced (copy on write) under the stream's lock, never changed. */
    private static final class StreamCounts {
        final long createdAt;
        volatile ShardCounts[] shards = new ShardCounts[0];
        /** Set (under the lock) when these counters are dropped, for good. */
        volatile boolean removed;
        /** Dropped because the stream was deleted (or created again): late counts of it go nowhere. */
        volatile boolean forgotten;

        StreamCounts(long createdAt) {
            this.createdAt = createdAt;
        }

        /** The shard's counters, made when missing; null when these stream counters were dropped. */
        ShardCounts shard(int index) {
            ShardCounts[] a = shards;
            ShardCounts t = index < a.length ? a[index] : null;
            return t != null ? t : add(index);
        }

        private synchronized ShardCounts add(int index) {
            if (removed) return null;
            ShardCounts[] a = shards;
            if (index < a.length && a[index] != null) return a[index];
            ShardCounts[] next = Arrays.copyOf(a, Math.max(a.length, index + 1));
            ShardCounts t = new ShardCounts();
            next[index] = t;
            shards = next;
            return t;
        }

        /** Whether {@code t} still counts for this shard: taken once a sweep deciding about it has decided. */
        synchronized boolean holds(int index, ShardCounts t) {
            ShardCounts[] a = shards;
            return !removed && index < a.length && a[index] == t;
        }

        synchronized void drop(ConcurrentHashMap<String, StreamCounts> map, String name, boolean forget) {
            if (forget) forgotten = true;
            removed = true;
            map.remove(name, this);
        }

        synchronized void sweep(ConcurrentHashMap<String, StreamCounts> map, String name, long oldestKept) {
            if (removed) return;
            ShardCounts[] a = shards;
            ShardCounts[] next = a;
            boolean any = false;
            for (int i = 0; i < a.length; i++) {
                ShardCounts t = a[i];
                if (t == null) continue;
                // marked first, looked at second: a count landing meanwhile is either seen here or sees the mark
                t.removed = true;
                if (t.activeSince(oldestKept)) {
                    t.removed = false;
                    any = true;
                } else {
                    if (next == a) next = a.clone();
                    next[i] = null;
                }
            }
            if (next != a) shards = trimmed(next);
            if (!any) {
                removed = true;
                map.remove(name, this);
            }
        }

        private static ShardCounts[] trimmed(ShardCounts[] a) {
            int n = a.length;
            while (n > 0 && a[n - 1] == null) n--;
            return n == a.length ? a : Arrays.copyOf(a, n);
        }
    }

    /** A shard's minutes in a ring of {@link #MINUTES} buckets, each replaced when its minute comes round again. */
    private static final class ShardCounts {
        private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Minute[].class);
        final Minute[] slots = new Minute[MINUTES];
        volatile boolean removed;

        void add(long minute, long records, long bytes, long read, long age) {
            Minute m = bucket(minute);
            if (m == null) return; // a minute already out of the window
            if (records != 0) Minute.RECORDS.getAndAdd(m, records);
            if (bytes != 0) Minute.BYTES.getAndAdd(m, bytes);
            if (read != 0) Minute.READ.getAndAdd(m, read);
            if (age != NO_READS) {
                long seen = (long) Minute.AGE.getVolatile(m);
                while (age > seen) {
                    long witness = (long) Minute.AGE.compareAndExchange(m, seen, age);
                    if (witness == seen) break;
                    seen = witness;
                }
            }
        }

        private Minute bucket(long minute) {
            int i = (int) Math.floorMod(minute, (long) MINUTES);
            while (true) {
                Minute m = (Minute) SLOTS.getVolatile(slots, i);
                if (m != null && m.minute == minute) return m;
                if (m != null && m.minute > minute) return null;
                Minute fresh = new Minute(minute);
                if (SLOTS.compareAndSet(slots, i, m, fresh)) return fresh;
            }
        }

        boolean activeSince(long oldestKept) {
            for (int i = 0; i < MINUTES; i++) {
                Minute m = (Minute) SLOTS.getVolatile(slots, i);
                if (m != null && m.minute >= oldestKept) return true;
            }
            return false;
        }

        /** The window's counts, or null when the shard had no traffic in it. */
        ShardSeries series(int index, long lastMinute) {
            ShardSeries out = null;
            long first = lastMinute - MINUTES + 1;
            for (int k = 0; k < MINUTES; k++) {
                Minute m = (Minute) SLOTS.getVolatile(slots, (int) Math.floorMod(first + k, (long) MINUTES));
                if (m == null || m.minute != first + k) continue;
                if (out == null) out = ShardSeries.empty(index);
                out.incomingRecords()[k] = (long) Minute.RECORDS.getVolatile(m);
                out.incomingBytes()[k] = (long) Minute.BYTES.getVolatile(m);
                out.getRecordsRecords()[k] = (long) Minute.READ.getVolatile(m);
                out.iteratorAgeMillis()[k] = (long) Minute.AGE.getVolatile(m);
            }
            return out;
        }
    }

    /** One shard's counts in one minute. */
    private static final class Minute {
        static final VarHandle RECORDS;
        static final VarHandle BYTES;
        static final VarHandle READ;
        static final VarHandle AGE;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                RECORDS = lookup.findVarHandle(Minute.class, "records", long.class);
                BYTES = lookup.findVarHandle(Minute.class, "bytes", long.class);
                READ = lookup.findVarHandle(Minute.class, "read", long.class);
                AGE = lookup.findVarHandle(Minute.class, "age", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final long minute;
        @SuppressWarnings("unused") private volatile long records;
        @SuppressWarnings("unused") private volatile long bytes;
        @SuppressWarnings("unused") private volatile long read;
        @SuppressWarnings("unused") private volatile long age = NO_READS;

        Minute(long minute) {
            this.minute = minute;
        }
    }
}
