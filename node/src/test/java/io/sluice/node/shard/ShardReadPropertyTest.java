package io.sluice.node.shard;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.MutableClock;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.TestConfigs;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.testkit.query.javadsl.PersistenceTestKitReadJournal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The read path as a property, on Pekko's in-memory journal: for generated workloads (concurrent
 * writers, record sizes from 1 byte to 1 MiB, batch sizes, tail sizes from tiny to large, scan
 * limits, snapshots, entity restarts between reads, journal write failures, retention trims), a
 * reader that follows the contract from any starting point gets every acknowledged record once, in
 * order, with its data; nothing it was never given; and {@code millisBehindLatest} 0 only when no
 * record acknowledged before its call is left unread.
 *
 * <p>Each trial is derived from one seed, printed on failure; {@code -Dsluice.readSeed=N} replays
 * one trial, {@code -Dsluice.readTrials=N} runs more.
 */
class ShardReadPropertyTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
    private static final PersistenceTestKitReadJournal query = PersistenceQuery.get(testKit.system())
            .getReadJournalFor(PersistenceTestKitReadJournal.class, PersistenceTestKitReadJournal.Identifier());
    private static final long RETENTION_MILLIS = Duration.ofHours(24).toMillis();
    private static final int MAX_GET_RECORDS_BYTES = 10 << 20;
    /**
     * How long a writer waits for an append's acknowledgement. An append hit by an injected journal
     * failure is never answered (the entity restarts), so each failure costs its writer this long; an
     * append on the in-memory journal is answered in milliseconds, and one answered later still counts
     * (as unacknowledged: it may be read, never required), so a short wait loses no check.
     */
    private static final Duration APPEND_TIMEOUT = Duration.ofSeconds(1);

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @Test
    void aReaderFollowingTheContractGetsEveryAcknowledgedRecordOnceInOrder() throws Exception {
        String replay = System.getProperty("sluice.readSeed");
        if (replay != null) {
            new Trial(Long.parseLong(replay)).run();
            return;
        }
        int trials = Integer.getInteger("sluice.readTrials", 24);
        long base = new Random().nextLong();
        long acknowledged = 0, unacknowledged = 0, failures = 0;
        for (int i = 0; i < trials; i++) {
            Trial trial = new Trial(base + i);
            trial.run();
            acknowledged += trial.ackLog.size();
            unacknowledged += trial.unacknowledged.size();
            failures += trial.failures;
        }
        System.out.printf("%d trials from seed %d: %d records acknowledged, %d not (%d journal failures injected)%n",
                trials, base, acknowledged, unacknowledged, failures);
    }

    /** A record the shard acknowledged: where it is, when it arrived, what it holds. */
    record Acked(long event, int index, long arrival, String partitionKey, byte[] data) {
        long key() {
            return key(event, index);
        }

        static long key(long event, int index) {
            return (event << 24) | index;
        }
    }

    /** One generated workload and its reads. */
    private static final class Trial {
        final long seed;
        final Random rnd;
        final MutableClock clock = new MutableClock();
        final String entityId;
        final NodeSettings settings;
        final ShardReader reader;
        final String description;
        volatile ActorRef<ShardEntity.Command> shard;
        /** In the order acknowledgements arrived; the reader's "acknowledged before my call" is a prefix. */
        final List<Acked> ackLog = new ArrayList<>();
        final Map<String, Acked> ackedByTag = new ConcurrentHashMap<>();
        final Set<String> unacknowledged = ConcurrentHashMap.newKeySet();
        final boolean smallByteLimit;
        int restarts, failures, trims;

        Trial(long seed) {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.entityId = "prop~" + seed + "~0";
            long tailBytes = pick(200L, 4096L, 65_536L, 1L << 20, 64L << 20);
            int snapshotEvery = pick(2, 7, 1000);
            int maxScan = pick(1, 3, 2000);
            this.smallByteLimit = rnd.nextInt(4) == 0;
            Config c = ConfigFactory.parseString("sluice.shard.tail-bytes = " + tailBytes
                    + "\nsluice.shard.snapshot-every = " + snapshotEvery
                    + "\nsluice.shard.max-scan-events = " + maxScan
                    + "\nsluice.ask-timeout = 3s").withFallback(CONFIG);
            this.settings = TestConfigs.settings(c);
            // generous: a busy CI machine must not turn a slow answer into a failed property
            this.reader = new ShardReader(testKit.system(), query, Duration.ofSeconds(20), maxScan);
            this.description = "seed " + seed + " (tail " + tailBytes + " B, snapshot every " + snapshotEvery
                    + ", scan " + maxScan + ", small byte limit " + smallByteLimit + ")";
            spawn();
        }

        @SafeVarargs
        private <T> T pick(T... options) {
            return options[rnd.nextInt(options.length)];
        }

        void spawn() {
            shard = testKit.spawn(ShardEntity.create(entityId, settings, clock,
                    (pid, to) -> CompletableFuture.completedFuture(Done.getInstance())));
        }

        void run() throws Exception {
            try {
                int phases = 2 + rnd.nextInt(4);
                for (int phase = 0; phase < phases; phase++) {
                    if (rnd.nextInt(3) == 0) {
                        clock.advance(Duration.ofHours(rnd.nextInt(3) == 0 ? 25 : 1));
                        trim();
                    }
                    boolean concurrentReader = rnd.nextBoolean();
                    ExecutorService writers = Executors.newFixedThreadPool(4);
                    List<Future<?>> running = new ArrayList<>();
                    int writerCount = 1 + rnd.nextInt(4);
                    for (int w = 0; w < writerCount; w++) {
                        long writerSeed = rnd.nextLong();
                        String name = "p" + phase + "w" + w;
                        running.add(writers.submit(() -> write(name, new Random(writerSeed))));
                    }
                    if (rnd.nextInt(3) == 0) {
                        journal.failNextPersisted();
                        failures++;
                    }
                    if (concurrentReader) {
                        readAndCheck(1, 0, 0, () -> running.stream().allMatch(Future::isDone));
                    }
                    for (Future<?> f : running) f.get(120, TimeUnit.SECONDS);
                    writers.shutdown();
                    journal.resetPolicy();
                    if (rnd.nextBoolean()) {
                        testKit.stop(shard, Duration.ofSeconds(20));
                        spawn();
                        restarts++;
                    }
                    // from the trim horizon, and from random points as the other iterator types start
                    readAndCheck(1, 0, 0, () -> true);
                    for (int k = 0; k < 3 && !ackLog.isEmpty(); k++) {
                        Acked at = ackLog.get(rnd.nextInt(ackLog.size()));
                        switch (rnd.nextInt(3)) {
                            case 0 -> readAndCheck(at.event(), at.index(), 0, () -> true);        // AT_SEQUENCE_NUMBER
                            case 1 -> readAndCheck(at.event(), at.index() + 1, 0, () -> true);    // AFTER_SEQUENCE_NUMBER
                            default -> readAndCheck(1, 0, at.arrival(), () -> true);              // AT_TIMESTAMP
                        }
                    }
                }
            } catch (Throwable t) {
                throw new AssertionError(description + ": " + t.getMessage(), t);
            } finally {
                testKit.stop(shard, Duration.ofSeconds(20));
            }
        }

        void trim() {
            long cutoff = clock.millis() - RETENTION_MILLIS;
            StatusReply<Done> done = AskPattern.<ShardEntity.Command, StatusReply<Done>>ask(shard,
                    replyTo -> new ShardEntity.Trim(cutoff, replyTo), Duration.ofSeconds(20), testKit.scheduler())
                    .toCompletableFuture().join();
            assertTrue(done.isSuccess());
            trims++;
        }

        /** One writer: appends of generated batches, each waited for, as a producer does. */
        void write(String name, Random r) {
            int appends = 1 + r.nextInt(12);
            for (int a = 0; a < appends; a++) {
                int batch = r.nextInt(10) == 0 ? 1 + r.nextInt(500) : 1 + r.nextInt(20);
                List<ShardEntity.StoredRecord> records = new ArrayList<>();
                List<String> tags = new ArrayList<>();
                long bytes = 0;
                for (int i = 0; i < batch && bytes < (3 << 20); i++) {
                    String tag = name + "-" + a + "-" + i;
                    byte[] data = data(r, tag);
                    bytes += data.length;
                    records.add(ShardEntity.StoredRecord.plain("pk-" + r.nextInt(1000), data));
                    tags.add(tag);
                }
                try {
                    StatusReply<ShardEntity.AppendAck> reply = AskPattern.<ShardEntity.Command, StatusReply<ShardEntity.AppendAck>>ask(
                                    shard, replyTo -> new ShardEntity.Append(records, List.of(), replyTo),
                                    APPEND_TIMEOUT, testKit.scheduler())
                            .toCompletableFuture().get(10, TimeUnit.SECONDS);
                    assertTrue(reply.isSuccess(), () -> "append refused: " + reply.getError());
                    ShardEntity.AppendAck ack = reply.getValue();
                    synchronized (ackLog) {
                        for (int i = 0; i < records.size(); i++) {
                            Acked acked = new Acked(ack.eventSeqNr(), i, ack.arrivalMillis(),
                                    records.get(i).partitionKey(), records.get(i).data());
                            ackLog.add(acked);
                            ackedByTag.put(tags.get(i), acked);
                        }
                    }
                } catch (Exception failed) {
                    // not acknowledged (a journal failure): may or may not be readable, never required
                    unacknowledged.addAll(tags);
                }
            }
        }

        static byte[] data(Random r, String tag) {
            int roll = r.nextInt(100);
            int size = roll < 70 ? 1 + r.nextInt(100) : roll < 97 ? 100 + r.nextInt(4000) : 4096 + r.nextInt((1 << 20) - 4096);
            byte[] tagBytes = (tag + "|").getBytes(StandardCharsets.UTF_8);
            byte[] data = new byte[Math.max(size, tagBytes.length)];
            r.nextBytes(data);
            System.arraycopy(tagBytes, 0, data, 0, tagBytes.length);
            return data;
        }

        static String tagOf(byte[] data) {
            String s = new String(data, 0, Math.min(data.length, 64), StandardCharsets.ISO_8859_1);
            return s.substring(0, s.indexOf('|'));
        }

        /**
         * Reads from a position as a contract-following reader does (each call from the position the
         * last one returned, random Limits) until {@code done} holds and a call reports it has
         * caught up; checks every answer as it comes, then the whole.
         */
        void readAndCheck(long fromEvent, int fromIndex, long minArrival, java.util.function.BooleanSupplier done) {
            long startKey = Acked.key(fromEvent, fromIndex);
            long event = fromEvent;
            int index = fromIndex;
            long lastKey = -1;
            Set<Long> received = new HashSet<>();
            List<ShardReads.ReadRecord> readBack = new ArrayList<>();
            java.util.ArrayDeque<String> trail = new java.util.ArrayDeque<>();
            int verifiedUpTo = 0;
            for (int call = 0; ; call++) {
                assertTrue(call < 200_000, "reader never caught up");
                int limit = switch (rnd.nextInt(4)) {
                    case 0 -> 1 + rnd.nextInt(5);
                    case 1 -> 1 + rnd.nextInt(200);
                    case 2 -> 1 + rnd.nextInt(10_000);
                    default -> 10_000;
                };
                long maxBytes = smallByteLimit ? 1 + rnd.nextInt(65_536) : MAX_GET_RECORDS_BYTES;
                long cutoff = Math.max(minArrival, clock.millis() - RETENTION_MILLIS);
                boolean writersDone = done.getAsBoolean();
                int ackedBefore;
                synchronized (ackLog) {
                    ackedBefore = ackLog.size();
                }
                if (writersDone && rnd.nextInt(40) == 0) {
                    testKit.stop(shard, Duration.ofSeconds(20)); // passivation between reads
                    spawn();
                    restarts++;
                }
                ShardReader.Outcome got = reader.read(shard, entityId, event, index, limit, maxBytes, cutoff)
                        .toCompletableFuture().join();
                trail.addLast("call " + call + ": from " + event + "/" + index + " limit " + limit + " -> "
                        + got.records().size() + " records " + (got.records().isEmpty() ? "" : got.records().get(0).eventSeqNr()
                        + "/" + got.records().get(0).index() + ".." + got.records().get(got.records().size() - 1).eventSeqNr()
                        + "/" + got.records().get(got.records().size() - 1).index()) + ", next " + got.nextEventSeqNr() + "/"
                        + got.nextIndex() + ", behind " + got.millisBehindLatest() + ", acked " + ackedBefore);
                if (trail.size() > 8) trail.removeFirst();
                assertTrue(got.records().size() <= limit, "more records than the Limit");
                long bytes = 0;
                for (ShardReads.ReadRecord rec : got.records()) {
                    long key = Acked.key(rec.eventSeqNr(), rec.index());
                    assertTrue(key > lastKey && key >= startKey, "out of order or repeated at " + rec.eventSeqNr() + "/" + rec.index());
                    assertTrue(rec.arrivalMillis() >= cutoff, "a record older than the read's start time or retention");
                    readBack.add(rec); // checked against what writers were told once they are done
                    lastKey = key;
                    received.add(key);
                    bytes += rec.data().length + rec.partitionKey().length();
                }
                assertTrue(got.records().size() <= 1 || bytes <= maxBytes, "more bytes than allowed");
                long nextKey = Acked.key(got.nextEventSeqNr(), got.nextIndex());
                assertTrue(nextKey > lastKey && nextKey >= Acked.key(event, index), "the next position goes back");
                if (got.millisBehindLatest() == 0) {
                    // caught up: everything acknowledged before this call and due to this reader is read
                    List<Acked> due;
                    synchronized (ackLog) {
                        due = new ArrayList<>(ackLog.subList(verifiedUpTo, ackedBefore));
                    }
                    for (Acked a : due) {
                        if (a.key() >= startKey && a.arrival() >= cutoff) {
                            assertTrue(received.contains(a.key()), "caught up (MillisBehindLatest 0) but acknowledged record at "
                                    + a.event() + "/" + a.index() + " was never returned; the last calls:\n" + String.join("\n", trail));
                        }
                    }
                    verifiedUpTo = Math.max(verifiedUpTo, ackedBefore);
                    if (writersDone && got.records().isEmpty()) {
                        break;
                    }
                }
                event = got.nextEventSeqNr();
                index = got.nextIndex();
            }
            // each record read is one that was written, where its writer was told, with its data
            for (ShardReads.ReadRecord rec : readBack) {
                String tag = tagOf(rec.data());
                Acked acked = ackedByTag.get(tag);
                if (acked != null) {
                    assertEquals(acked.key(), Acked.key(rec.eventSeqNr(), rec.index()), "record " + tag + " read at another position than acknowledged");
                    assertArrayEquals(acked.data(), rec.data(), "data of " + tag);
                    assertEquals(acked.partitionKey(), rec.partitionKey());
                } else {
                    assertTrue(unacknowledged.contains(tag), "a record nobody wrote: " + tag);
                }
            }
            // the whole: exactly the acknowledged records due to this reader, nothing missing
            long cutoff = Math.max(minArrival, clock.millis() - RETENTION_MILLIS);
            long missing;
            synchronized (ackLog) {
                missing = ackLog.stream().filter(a -> a.key() >= startKey && a.arrival() >= cutoff)
                        .filter(a -> !received.contains(a.key())).count();
            }
            assertEquals(0, missing, "acknowledged records never returned");
        }
    }

    @Test
    void aRecordWhoseWriteFailedIsNeverReadAndTheNextAppendUnderItsNumberIs() throws Exception {
        Trial t = new Trial(7);
        ShardEntity.AppendAck first = appendText(t, "stored", Duration.ofSeconds(3)).get(5, TimeUnit.SECONDS);
        journal.failNextPersisted();
        CompletableFuture<ShardEntity.AppendAck> failed = appendText(t, "never-stored", Duration.ofMillis(500));
        assertThrows(Exception.class, () -> failed.get(5, TimeUnit.SECONDS));
        // the entity restarts after its back-off; the next append takes the failed event's number
        ShardEntity.AppendAck next = appendText(t, "stored-after", Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
        assertEquals(first.eventSeqNr() + 1, next.eventSeqNr());
        ShardReader.Outcome got = t.reader.read(t.shard, t.entityId, 1, 0, 10_000, MAX_GET_RECORDS_BYTES, 0)
                .toCompletableFuture().join();
        List<String> texts = got.records().stream().map(r -> new String(r.data(), StandardCharsets.UTF_8)).toList();
        assertTrue(texts.size() >= 2 && texts.get(0).equals("stored") && texts.get(texts.size() - 1).equals("stored-after")
                && !texts.contains("never-stored"), "read " + texts);
        testKit.stop(t.shard, Duration.ofSeconds(20));
    }

    private static CompletableFuture<ShardEntity.AppendAck> appendText(Trial t, String text, Duration timeout) {
        return AskPattern.<ShardEntity.Command, StatusReply<ShardEntity.AppendAck>>ask(t.shard,
                        replyTo -> new ShardEntity.Append(List.of(ShardEntity.StoredRecord.plain("k",
                                text.getBytes(StandardCharsets.UTF_8))), List.of(), replyTo), timeout, testKit.scheduler())
                .thenApply(StatusReply::getValue).toCompletableFuture();
    }

    @Test
    void aPositionHeldInsideAnEventContinuesThereWhenTheByteLimitCutsTheRead() {
        Trial t = new Trial(42);
        byte[] big = new byte[600];
        Arrays.fill(big, (byte) 'x');
        List<ShardEntity.StoredRecord> records = new ArrayList<>();
        for (int i = 0; i < 10; i++) records.add(ShardEntity.StoredRecord.plain("k", big));
        AskPattern.<ShardEntity.Command, StatusReply<ShardEntity.AppendAck>>ask(t.shard,
                replyTo -> new ShardEntity.Append(records, List.of(), replyTo), Duration.ofSeconds(3), testKit.scheduler())
                .toCompletableFuture().join();
        ShardReader.Outcome first = t.reader.read(t.shard, t.entityId, 1, 0, 10_000, 2_000, 0).toCompletableFuture().join();
        assertEquals(3, first.records().size());
        assertEquals(1, first.nextEventSeqNr());
        assertEquals(3, first.nextIndex());
        assertTrue(first.millisBehindLatest() > 0, "not caught up while 7 records are left");
        testKit.stop(t.shard, Duration.ofSeconds(20));
    }
}
