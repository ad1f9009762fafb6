package io.sluice.node.it;

import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The read contract against a real node on the real Cassandra journal, through the AWS SDK: every
 * acknowledged record reaches every reader that follows the contract (GetShardIterator, then
 * GetRecords on {@code NextShardIterator}), once, in order, with its data, from TRIM_HORIZON,
 * AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP; and {@code MillisBehindLatest} is 0
 * only when nothing acknowledged before the call is left unread. The in-memory tail is kept small,
 * so most reads go to Cassandra.
 */
class ReadPathPropertyTest {
    private final MutableClock clock = new MutableClock();
    private TestNode node;
    private KinesisClient kinesis;

    @AfterEach
    void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    private void start(String config) throws Exception {
        node = new TestNode(clock, config).start();
        connect();
    }

    private void connect() {
        if (kinesis != null) kinesis.close();
        kinesis = node.kinesisClient();
    }

    private void createActive(String stream, int shards, boolean encrypted) {
        TestNode.createActive(kinesis, stream, shards);
        if (encrypted) {
            kinesis.startStreamEncryption(b -> b.streamName(stream).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
            TestNode.awaitActive(kinesis, stream);
        }
    }

    /** The case: 4 writers × PutRecords of 500 × 1 KiB into one shard, read back with Limit 10000. */
    @Test
    void concurrentBulkWritesReadBackWhollyWithTheLargestLimit() throws Exception {
        start("");
        createActive("bulk", 1, true);
        Model model = new Model("bulk", 1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            writers.add(pool.submit(() -> {
                Random r = new Random(writer);
                for (int batch = 0; batch < 25; batch++) {
                    List<Written> entries = new ArrayList<>();
                    for (int i = 0; i < 500; i++) entries.add(Written.of("w" + writer + "-" + batch + "-" + i, 1024, r));
                    model.put(kinesis, entries);
                }
                return null;
            }));
        }
        for (Future<?> f : writers) f.get(5, TimeUnit.MINUTES);
        pool.shutdown();
        assertEquals(50_000, model.acknowledgedCount());
        Reader reader = new Reader(model, "shardId-000000000000", new Random(1), true, null);
        reader.readFrom(kinesis, b -> b.shardIteratorType(ShardIteratorType.TRIM_HORIZON), () -> true);
        reader.assertGotEverythingDue(null);
    }

    /**
     * Generated workloads: concurrent writers with record sizes from 1 byte to 1 MiB and batches of 1
     * to 500, random Limits, readers concurrent with the writers, node restarts and retention trims
     * between phases, on an encrypted and a plain stream.
     */
    @Test
    void generatedWorkloadsReachEveryReaderOnceInOrder() throws Exception {
        long seed = Long.getLong("sluice.readSeed", new Random().nextLong());
        Random rnd = new Random(seed);
        start("sluice.shard.tail-bytes = " + (rnd.nextBoolean() ? "16 KiB" : "512 KiB")
                + "\nsluice.retention.sweep-interval = 500ms\nsluice.shard.max-scan-events = " + (rnd.nextBoolean() ? 5 : 2000));
        try {
            List<Model> models = List.of(new Model("plain", 2), new Model("sealed", 2));
            createActive("plain", 2, false);
            createActive("sealed", 2, true);
            Instant lastAdvance = Instant.EPOCH;
            for (int phase = 0; phase < 3; phase++) {
                if (phase > 0 && rnd.nextInt(3) == 0) {
                    clock.advance(Duration.ofHours(25)); // everything so far expires; the sweeper deletes it
                    for (Model m : models) m.expireAll();
                }
                Model model = models.get(rnd.nextInt(2));
                ExecutorService pool = Executors.newFixedThreadPool(4);
                List<Future<?>> writers = new ArrayList<>();
                for (int w = 0; w < 1 + rnd.nextInt(3); w++) {
                    long writerSeed = rnd.nextLong();
                    String name = "p" + phase + "w" + w;
                    writers.add(pool.submit(() -> {
                        Random r = new Random(writerSeed);
                        for (int call = 0; call < 2 + r.nextInt(4); call++) {
                            int batch = r.nextInt(4) == 0 ? 1 + r.nextInt(500) : 1 + r.nextInt(30);
                            List<Written> entries = new ArrayList<>();
                            long bytes = 0;
                            for (int i = 0; i < batch; i++) {
                                int roll = r.nextInt(100);
                                int size = roll < 60 ? 1 + r.nextInt(64) : roll < 98 ? 64 + r.nextInt(8192) : (64 << 10) + r.nextInt(959 << 10);
                                if (bytes + size > (4 << 20)) break;
                                bytes += size;
                                entries.add(Written.of(name + "-" + call + "-" + i, size, r));
                            }
                            model.put(kinesis, entries);
                        }
                        return null;
                    }));
                }
                BooleanSupplier writersDone = () -> writers.stream().allMatch(Future::isDone);
                Reader tailing = new Reader(model, "shardId-00000000000" + rnd.nextInt(2), new Random(rnd.nextLong()), false, null);
                tailing.readFrom(kinesis, b -> b.shardIteratorType(ShardIteratorType.TRIM_HORIZON), writersDone);
                for (Future<?> f : writers) f.get(5, TimeUnit.MINUTES);
                pool.shutdown();
                tailing.assertGotEverythingDue(null);

                if (rnd.nextBoolean()) {
                    node.stop(); // every shard entity recovers from Cassandra
                    node.start();
                    connect();
                }
                for (Model m : models) {
                    for (int shard = 0; shard < 2; shard++) {
                        String shardId = "shardId-00000000000" + shard;
                        Reader all = new Reader(m, shardId, new Random(rnd.nextLong()), false, null);
                        all.readFrom(kinesis, b -> b.shardIteratorType(ShardIteratorType.TRIM_HORIZON), () -> true);
                        all.assertGotEverythingDue(null);
                        List<Record> seen = all.records;
                        if (seen.isEmpty()) continue;
                        BigInteger at = new BigInteger(seen.get(rnd.nextInt(seen.size())).sequenceNumber());
                        Reader fromSeq = new Reader(m, shardId, new Random(rnd.nextLong()), false, at);
                        fromSeq.readFrom(kinesis, b -> b.shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER)
                                .startingSequenceNumber(at.toString()), () -> true);
                        fromSeq.assertGotEverythingDue(null);
                        Reader afterSeq = new Reader(m, shardId, new Random(rnd.nextLong()), false, at.add(BigInteger.ONE));
                        afterSeq.readFrom(kinesis, b -> b.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER)
                                .startingSequenceNumber(at.toString()), () -> true);
                        afterSeq.assertGotEverythingDue(null);
                        // arrival times never go back within a shard: AT_TIMESTAMP starts at the first record that
                        // arrived at or after the time
                        Instant ts = seen.get(rnd.nextInt(seen.size())).approximateArrivalTimestamp();
                        Record first = seen.stream().filter(r -> !r.approximateArrivalTimestamp().isBefore(ts)).findFirst().orElseThrow();
                        Reader atTime = new Reader(m, shardId, new Random(rnd.nextLong()), false, new BigInteger(first.sequenceNumber()));
                        atTime.readFrom(kinesis, b -> b.shardIteratorType(ShardIteratorType.AT_TIMESTAMP).timestamp(ts), () -> true);
                        atTime.assertGotEverythingDue(ts);
                    }
                }
            }
        } catch (Throwable t) {
            throw new AssertionError("seed " + seed + " (-Dsluice.readSeed=" + seed + " replays it): " + t.getMessage(), t);
        }
    }

    /** A record as a producer sends it: a tag to know it by, then random bytes. */
    record Written(String tag, String partitionKey, byte[] data) {
        static Written of(String tag, int size, Random r) {
            byte[] prefix = (tag + "|").getBytes(StandardCharsets.UTF_8);
            byte[] data = new byte[Math.max(size, prefix.length)];
            r.nextBytes(data);
            System.arraycopy(prefix, 0, data, 0, prefix.length);
            return new Written(tag, "pk-" + r.nextInt(10_000), data);
        }

        static String tagOf(byte[] data) {
            String s = new String(data, 0, Math.min(64, data.length), StandardCharsets.ISO_8859_1);
            int bar = s.indexOf('|');
            return bar < 0 ? s : s.substring(0, bar);
        }
    }

    /** A record the service acknowledged, and where. */
    record Acked(String shardId, BigInteger sequenceNumber, Written written, long order, boolean expired) {}

    /** What producers were told, in the order they were told it. */
    static final class Model {
        final String stream;
        final Map<String, Acked> byTag = new ConcurrentHashMap<>();
        final List<Acked> log = Collections.synchronizedList(new ArrayList<>());
        final Set<String> unacknowledged = ConcurrentHashMap.newKeySet();

        Model(String stream, int shards) {
            this.stream = stream;
        }

        void put(KinesisClient kinesis, List<Written> entries) {
            if (entries.isEmpty()) return;
            List<PutRecordsRequestEntry> request = entries.stream().map(w -> PutRecordsRequestEntry.builder()
                    .partitionKey(w.partitionKey()).data(SdkBytes.fromByteArray(w.data())).build()).toList();
            PutRecordsResponse response;
            try {
                response = kinesis.putRecords(b -> b.streamName(stream).records(request));
            } catch (RuntimeException failed) {
                entries.forEach(w -> unacknowledged.add(w.tag()));
                return;
            }
            for (int i = 0; i < entries.size(); i++) {
                PutRecordsResultEntry e = response.records().get(i);
                Written w = entries.get(i);
                if (e.errorCode() != null) {
                    unacknowledged.add(w.tag());
                    continue;
                }
                synchronized (log) {
                    Acked a = new Acked(e.shardId(), new BigInteger(e.sequenceNumber()), w, log.size(), false);
                    log.add(a);
                    byTag.put(w.tag(), a);
                }
            }
        }

        int acknowledgedCount() {
            return log.size();
        }

        void expireAll() {
            synchronized (log) {
                for (int i = 0; i < log.size(); i++) {
                    Acked a = log.get(i);
                    Acked expired = new Acked(a.shardId(), a.sequenceNumber(), a.written(), a.order(), true);
                    log.set(i, expired);
                    byTag.put(a.written().tag(), expired);
                }
            }
        }
    }

    /** A consumer that follows the contract, checking every answer. */
    static final class Reader {
        final Model model;
        final String shardId;
        final Random rnd;
        final boolean largestLimit;
        /** The first sequence number due to this reader; null: from the trim horizon. */
        final BigInteger from;
        final List<Record> records = new ArrayList<>();
        final Set<BigInteger> received = new HashSet<>();
        int extras;

        Reader(Model model, String shardId, Random rnd, boolean largestLimit, BigInteger from) {
            this.model = model;
            this.from = from;
            this.shardId = shardId;
            this.rnd = rnd;
            this.largestLimit = largestLimit;
        }

        void readFrom(KinesisClient kinesis, java.util.function.Consumer<GetShardIteratorRequest.Builder> start,
                      BooleanSupplier done) {
            String iterator = kinesis.getShardIterator(b -> {
                b.streamName(model.stream).shardId(shardId);
                start.accept(b);
            }).shardIterator();
            BigInteger last = BigInteger.valueOf(-1);
            int verifiedUpTo = 0;
            for (int call = 0; ; call++) {
                assertTrue(call < 100_000, "never caught up");
                int limit = largestLimit ? 10_000 : switch (rnd.nextInt(4)) {
                    case 0 -> 1 + rnd.nextInt(5);
                    case 1 -> 1 + rnd.nextInt(300);
                    default -> 1 + rnd.nextInt(10_000);
                };
                boolean finished = done.getAsBoolean();
                int ackedBefore = model.log.size();
                String current = iterator;
                GetRecordsResponse got = kinesis.getRecords(b -> b.shardIterator(current).limit(limit));
                assertTrue(got.records().size() <= limit);
                for (Record r : got.records()) {
                    BigInteger seq = new BigInteger(r.sequenceNumber());
                    assertTrue(seq.compareTo(last) > 0, "out of order or repeated: " + seq);
                    last = seq;
                    received.add(seq);
                    records.add(r);
                }
                if (got.millisBehindLatest() == 0) {
                    List<Acked> due;
                    synchronized (model.log) {
                        due = new ArrayList<>(model.log.subList(verifiedUpTo, ackedBefore));
                    }
                    for (Acked a : due) {
                        if (due(a) && !received.contains(a.sequenceNumber())) {
                            fail("MillisBehindLatest 0 at call " + call + " (Limit " + limit + ") but acknowledged record "
                                    + a.sequenceNumber() + " was never returned");
                        }
                    }
                    verifiedUpTo = Math.max(verifiedUpTo, ackedBefore);
                    if (finished && got.records().isEmpty()) {
                        break;
                    }
                }
                assertNotNull(got.nextShardIterator(), "an open shard always has a next iterator");
                iterator = got.nextShardIterator();
            }
        }

        boolean due(Acked a) {
            return a.shardId().equals(shardId) && !a.expired() && (from == null || a.sequenceNumber().compareTo(from) >= 0);
        }

        /** Exactly the live acknowledged records of this shard from the start: none missing, each as written. */
        void assertGotEverythingDue(Instant atTime) {
            for (Record r : records) {
                byte[] data = r.data().asByteArray();
                String tag = Written.tagOf(data);
                Acked a = model.byTag.get(tag);
                BigInteger seq = new BigInteger(r.sequenceNumber());
                if (a != null && a.sequenceNumber().equals(seq)) {
                    assertEquals(shardId, a.shardId());
                    assertArrayEquals(a.written().data(), data, "data of " + tag);
                    assertEquals(a.written().partitionKey(), r.partitionKey());
                    assertFalse(a.expired(), "an expired record was returned: " + tag);
                } else {
                    // written by a request the producer saw fail (or an SDK retry of one): may be there, never required
                    assertTrue(a != null || model.unacknowledged.contains(tag), "a record nobody wrote: " + tag);
                    extras++;
                }
                if (from != null) assertTrue(seq.compareTo(from) >= 0, "before the starting sequence number");
                if (atTime != null) assertFalse(r.approximateArrivalTimestamp().isBefore(atTime), "before the timestamp");
            }
            List<BigInteger> missing = new ArrayList<>();
            synchronized (model.log) {
                for (Acked a : model.log) {
                    if (due(a) && !received.contains(a.sequenceNumber())) {
                        missing.add(a.sequenceNumber());
                    }
                }
            }
            assertEquals(List.of(), missing.subList(0, Math.min(5, missing.size())),
                    missing.size() + " acknowledged records never returned to the reader of " + model.stream + "/" + shardId);
        }
    }
}
