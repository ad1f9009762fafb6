package io.sluice.node.traffic;

import io.sluice.node.MutableClock;
import io.sluice.node.traffic.TrafficCounters.ShardSeries;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.sluice.node.traffic.TrafficCounters.MINUTES;
import static io.sluice.node.traffic.TrafficCounters.NO_READS;
import static io.sluice.node.traffic.TrafficCounters.minuteOf;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The node's minute buckets: what a generated mix of puts and reads over several hours of a moving
 * clock adds up to, minute by minute and shard by shard; what the sweep keeps (the last hour's
 * traffic, nothing else); and that a count landing while the sweep drops its counters is not lost.
 */
class TrafficCountersTest {
    static final long CREATED = 1_700_000_000_000L;

    static long seed() {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("TrafficCountersTest seed: " + seed + " (rerun with -Dsluice.seed=" + seed + ")");
        return seed;
    }

    /** The expected counts: per (stream, shard), per epoch minute, {records, bytes, read, max age}. */
    static final class Model {
        final Map<String, Map<Long, long[]>> minutes = new HashMap<>();

        long[] at(String stream, int shard, long minute) {
            return minutes.computeIfAbsent(stream + "/" + shard, k -> new HashMap<>())
                    .computeIfAbsent(minute, m -> new long[] {0, 0, 0, NO_READS});
        }

        void assertWindow(TrafficCounters counters, String stream, int shards, long lastMinute, long seed) {
            List<ShardSeries> got = counters.series(stream, CREATED, lastMinute);
            for (int shard = 0; shard < shards; shard++) {
                int index = shard;
                ShardSeries series = got.stream().filter(s -> s.shardIndex() == index).findFirst().orElse(null);
                boolean any = false;
                for (int k = 0; k < MINUTES; k++) {
                    long minute = lastMinute - MINUTES + 1 + k;
                    long[] want = minutes.getOrDefault(stream + "/" + shard, Map.of()).getOrDefault(minute, new long[] {0, 0, 0, NO_READS});
                    any |= want[0] != 0 || want[1] != 0 || want[2] != 0 || want[3] != NO_READS;
                    if (series == null) continue;
                    String at = stream + " shard " + shard + " minute " + k + " of the window ending " + lastMinute + " (seed " + seed + ")";
                    assertEquals(want[0], series.incomingRecords()[k], "records, " + at);
                    assertEquals(want[1], series.incomingBytes()[k], "bytes, " + at);
                    assertEquals(want[2], series.getRecordsRecords()[k], "read, " + at);
                    assertEquals(want[3], series.iteratorAgeMillis()[k], "age, " + at);
                }
                assertEquals(any, series != null, stream + " shard " + shard + " has series exactly when it had traffic (seed " + seed + ")");
            }
        }
    }

    @Test
    void generatedTrafficAddsUpMinuteByMinuteAcrossHours() {
        long seed = seed();
        Random random = new Random(seed);
        MutableClock clock = new MutableClock();
        TrafficCounters counters = new TrafficCounters();
        Model model = new Model();
        String[] streams = {"orders", "clicks"};
        int shards = 4;
        long end = clock.millis() + Duration.ofMinutes(200).toMillis(); // past three hour boundaries
        while (clock.millis() < end) {
            clock.advance(Duration.ofMillis(random.nextInt(20_000)));
            long now = clock.millis();
            String stream = streams[random.nextInt(streams.length)];
            int shard = random.nextInt(shards);
            long[] want = model.at(stream, shard, minuteOf(now));
            if (random.nextBoolean()) {
                long records = 1 + random.nextInt(500);
                long bytes = records * (1 + random.nextInt(1000));
                counters.incoming(stream, CREATED, shard, records, bytes, now);
                want[0] += records;
                want[1] += bytes;
            } else {
                long records = random.nextInt(100);
                long age = random.nextInt(4) == 0 ? 0 : random.nextInt(86_400_000);
                counters.read(stream, CREATED, shard, records, age, now);
                want[2] += records;
                want[3] = Math.max(want[3], age);
            }
            if (random.nextInt(50) == 0) {
                counters.sweep(now);
                for (String s : streams) model.assertWindow(counters, s, shards, minuteOf(now), seed);
            }
        }
        long now = clock.millis();
        for (String s : streams) model.assertWindow(counters, s, shards, minuteOf(now), seed);
        // a window ending later shows the same minutes shifted: those that left it are gone
        for (String s : streams) model.assertWindow(counters, s, shards, minuteOf(now) + 17, seed);
    }

    @Test
    void theLastEntryIsTheCurrentMinuteAndTheFirstFiftyNineBefore() {
        TrafficCounters counters = new TrafficCounters();
        long t = 1_764_730_000_000L;
        long minute = minuteOf(t);
        counters.incoming("s", CREATED, 0, 3, 30, t);
        counters.incoming("s", CREATED, 0, 5, 50, t - 59 * 60_000L);
        counters.incoming("s", CREATED, 0, 7, 70, t - 60 * 60_000L); // the minute just before the window
        ShardSeries series = counters.series("s", CREATED, minute).get(0);
        assertEquals(3, series.incomingRecords()[MINUTES - 1]);
        assertEquals(30, series.incomingBytes()[MINUTES - 1]);
        assertEquals(5, series.incomingRecords()[0]);
        assertEquals(8, Arrays.stream(series.incomingRecords()).sum());
        assertEquals(NO_READS, series.iteratorAgeMillis()[MINUTES - 1], "no GetRecords in the minute");
    }

    @Test
    void aMinuteKeepsTheLargestIteratorAgeAndZeroIsAnAnswer() {
        TrafficCounters counters = new TrafficCounters();
        long t = 1_764_730_000_000L;
        counters.read("s", CREATED, 2, 10, 500, t);
        counters.read("s", CREATED, 2, 0, 9_000, t + 1);
        counters.read("s", CREATED, 2, 4, 0, t + 2);
        counters.read("s", CREATED, 2, 0, 0, t + 60_000);
        ShardSeries series = counters.series("s", CREATED, minuteOf(t + 60_000)).get(0);
        assertEquals(2, series.shardIndex());
        assertEquals(9_000, series.iteratorAgeMillis()[MINUTES - 2]);
        assertEquals(14, series.getRecordsRecords()[MINUTES - 2]);
        assertEquals(0, series.iteratorAgeMillis()[MINUTES - 1], "caught up is 0, not no reads");
    }

    @Test
    void theSweepKeepsOnlyShardsAndStreamsWithTrafficInTheLastHour() {
        MutableClock clock = new MutableClock();
        TrafficCounters counters = new TrafficCounters();
        for (int shard = 0; shard < 3; shard++) counters.incoming("a", CREATED, shard, 1, 1, clock.millis());
        counters.read("b", CREATED, 0, 1, 0, clock.millis());
        assertEquals(4, counters.shardCount());
        clock.advance(Duration.ofMinutes(30));
        counters.incoming("a", CREATED, 1, 1, 1, clock.millis());
        clock.advance(Duration.ofMinutes(31));
        counters.sweep(clock.millis());
        assertEquals(1, counters.shardCount(), "only a's shard 1 had traffic in the last hour");
        assertEquals(1, counters.streamCount());
        assertEquals(List.of(1), counters.series("a", CREATED, minuteOf(clock.millis())).stream().map(ShardSeries::shardIndex).toList());
        assertEquals(List.of(), counters.series("b", CREATED, minuteOf(clock.millis())));
        clock.advance(Duration.ofMinutes(30));
        counters.sweep(clock.millis());
        assertEquals(0, counters.shardCount());
        assertEquals(0, counters.streamCount());
        // and counting starts again from nothing
        counters.incoming("a", CREATED, 1, 2, 2, clock.millis());
        assertEquals(2, counters.series("a", CREATED, minuteOf(clock.millis())).get(0).incomingRecords()[MINUTES - 1]);
    }

    @Test
    void memoryFollowsTheLastHoursTrafficNotAllTraffic() {
        long seed = seed();
        Random random = new Random(seed);
        MutableClock clock = new MutableClock();
        TrafficCounters counters = new TrafficCounters();
        // 10 hours of streams that come and go: each minute, traffic on a few of 1000 streams' shards
        Map<String, Long> lastSeen = new HashMap<>();
        for (int minute = 0; minute < 600; minute++) {
            clock.advance(Duration.ofMinutes(1));
            for (int i = 0; i < 5; i++) {
                String key = "s" + random.nextInt(1000) + "/" + random.nextInt(8);
                String[] parts = key.split("/");
                counters.incoming(parts[0], CREATED, Integer.parseInt(parts[1]), 1, 1, clock.millis());
                lastSeen.put(key, clock.millis());
            }
            counters.sweep(clock.millis());
            long oldestKept = minuteOf(clock.millis()) - MINUTES + 1;
            long live = lastSeen.values().stream().filter(t -> minuteOf(t) >= oldestKept).count();
            assertEquals(live, counters.shardCount(), "minute " + minute + " (seed " + seed + ")");
            assertTrue(counters.shardCount() <= 5 * MINUTES);
        }
    }

    @Test
    void aStreamCreatedAgainStartsFromNothingAndDeletedStreamsAreForgotten() {
        TrafficCounters counters = new TrafficCounters();
        long t = 1_764_730_000_000L;
        counters.incoming("s", CREATED, 0, 5, 5, t);
        counters.incoming("s", CREATED + 1, 0, 1, 1, t);
        counters.incoming("s", CREATED, 0, 7, 7, t); // a late put of the deleted stream
        assertEquals(List.of(), counters.series("s", CREATED, minuteOf(t)));
        assertEquals(1, counters.series("s", CREATED + 1, minuteOf(t)).get(0).incomingRecords()[MINUTES - 1]);
        counters.forget("s");
        assertEquals(0, counters.streamCount());
        assertEquals(List.of(), counters.series("s", CREATED + 1, minuteOf(t)));
    }

    /**
     * Writers count into shards whose only earlier bucket is over an hour old while a sweeper drops
     * idle counters as fast as it can: every count must still be there when its writer looks.
     */
    @Test
    void aCountLandingWhileTheSweepDropsItsCountersIsKept() throws Exception {
        TrafficCounters counters = new TrafficCounters();
        int writers = 2;
        int rounds = 20_000;
        AtomicLong now = new AtomicLong(1_764_730_000_000L);
        // each round is an hour and a minute after the last: everything counted before is idle
        Phaser phaser = new Phaser(writers) {
            @Override
            protected boolean onAdvance(int phase, int parties) {
                now.addAndGet(61 * 60_000L);
                return false;
            }
        };
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong sweeps = new AtomicLong();
        Thread sweeper = new Thread(() -> {
            while (!done.get()) {
                counters.sweep(now.get());
                sweeps.incrementAndGet();
            }
        }, "sweeper");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[writers];
        for (int w = 0; w < writers; w++) {
            String stream = "s" + w;
            threads[w] = new Thread(() -> {
                try {
                    for (int k = 0; k < rounds; k++) {
                        phaser.arriveAndAwaitAdvance();
                        long t = now.get();
                        int shard = k % 5;
                        counters.incoming(stream, CREATED, shard, 1, 10, t);
                        List<ShardSeries> series = counters.series(stream, CREATED, minuteOf(t));
                        if (series.size() != 1 || series.get(0).shardIndex() != shard
                                || series.get(0).incomingRecords()[MINUTES - 1] != 1) {
                            throw new AssertionError("round " + k + ": the count is gone: " + series.size() + " series");
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    phaser.forceTermination();
                }
            }, "writer-" + w);
        }
        sweeper.start();
        for (Thread t : threads) t.start();
        for (Thread t : threads) t.join();
        done.set(true);
        sweeper.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
        assertTrue(sweeps.get() > 0);
        System.out.println("TrafficCountersTest: " + sweeps.get() + " sweeps during " + rounds + " rounds");
    }
}
