package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ScalingType;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardFilterType;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Three node processes; UpdateShardCount 4 → 8 under writes through every node, and the node whose
 * stream entity drives the reshard killed with SIGKILL as soon as the reshard is accepted. The stream
 * entity recovers on another node, finds the same wave again and finishes it. Read back following
 * the lineage (parents to their end, then their children), every acknowledged record is there once
 * (a put the client tried again after a failure may be there more often) and in acknowledged order
 * per partition key; the open shards are the eight asked for, and every parent ended. The output says
 * whether the kill came before the wave was persisted (its children opened after the kill), as it does
 * when it beats the parents' closes and the wave's write to Cassandra.
 */
class ClusterReshardTest {
    static final int NODES = 3;
    static final String STREAM = "resharded";
    /** Above the service's 10 s ask-timeout, so that a put the service gives up on is answered, not cut. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(15);
    static LocalCluster cluster;

    @AfterAll
    static void stopAll() {
        if (cluster != null) cluster.close();
    }

    @Test
    void killingTheNodeDrivingAReshardLosesNoAcknowledgedRecordAndKeepsOrderPerKey() throws Exception {
        cluster = LocalCluster.start(NODES, Map.of("SLUICE_WARMUP", "0s"));
        KinesisClient admin = cluster.client(0, CALL_TIMEOUT);
        admin.createStream(b -> b.streamName(STREAM).shardCount(4));
        awaitActive(List.of(admin), 4, Duration.ofSeconds(30));

        Producers producers = new Producers();
        for (int p = 0; p < 2 * NODES; p++) producers.start(p);
        Thread.sleep(2000);

        int host = -1;
        for (int i = 0; i < NODES; i++) {
            for (JsonNode name : cluster.view(i).get("hostedStreams")) if (name.asText().equals(STREAM)) host = i;
        }
        assertTrue(host >= 0, "no node hosts the stream's entity");
        long acceptedAt;
        try (KinesisClient front = cluster.client(host, CALL_TIMEOUT)) {
            assertEquals(8, front.updateShardCount(b -> b.streamName(STREAM).targetShardCount(8)
                    .scalingType(ScalingType.UNIFORM_SCALING)).targetShardCount());
            acceptedAt = System.nanoTime();
            cluster.process(host).destroyForcibly(); // SIGKILL
        }
        long killedAt = System.currentTimeMillis();
        long ackedBeforeKill = producers.acknowledged();

        List<KinesisClient> survivors = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            if (i != host) survivors.add(cluster.client(i, Duration.ofSeconds(5), c -> c.retryPolicy(RetryPolicy.none())));
        }
        awaitActive(survivors, 8, Duration.ofSeconds(90));
        double activeAfter = (System.nanoTime() - acceptedAt) / 1e9;
        long ackedWhenActive = producers.acknowledged();
        Thread.sleep(2000);
        producers.finish();
        assertTrue(producers.acknowledged() > ackedWhenActive, "writes go on after the reshard");

        KinesisClient reader = cluster.client(host == 0 ? 1 : 0, Duration.ofSeconds(30));
        // children opened after the kill: the wave was finished by the entity recovered elsewhere
        boolean finishedElsewhere = reader.listShards(b -> b.streamName(STREAM).shardFilter(f -> f
                        .type(ShardFilterType.AT_TIMESTAMP).timestamp(Instant.ofEpochMilli(killedAt))))
                .shards().stream().noneMatch(s -> index(s) >= 4);
        List<Shard> shards = reader.listShards(b -> b.streamName(STREAM)).shards();
        assertLineage(shards);
        long duplicates = verifyRead(reader, shards, producers);

        System.out.printf("reshard 4 -> 8 with its driving node %d SIGKILLed at once (wave finished by the recovered entity: %s): "
                        + "ACTIVE again %.1f s after; acknowledged=%d (%d before the kill) lost=0, failed attempts=%d, "
                        + "copies of retried puts=%d%n",
                host + 1, finishedElsewhere, activeAfter, producers.acknowledged(), ackedBeforeKill,
                producers.failures.get(), duplicates);
        survivors.forEach(KinesisClient::close);
        reader.close();
        admin.close();
    }

    /** Waits until some node answers that the stream is ACTIVE with {@code openShards} open shards. */
    static void awaitActive(List<KinesisClient> nodes, int openShards, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            for (KinesisClient node : nodes) {
                try {
                    StreamDescriptionSummary s = node.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary();
                    if (s.streamStatus() == StreamStatus.ACTIVE && s.openShardCount() == openShards) return;
                    last = s.streamStatus() + " with " + s.openShardCount() + " open shards";
                } catch (RuntimeException e) {
                    last = e.toString(); // still failing over
                }
            }
            Thread.sleep(200);
        }
        fail(STREAM + " not ACTIVE with " + openShards + " open shards within " + within + ": " + last);
    }

    /**
     * Eight open shards covering the hash key space once; each of the four first shards split into
     * two (so no wave ran twice) and ended with an EndingSequenceNumber; no other shard ended.
     */
    static void assertLineage(List<Shard> shards) {
        assertEquals(12, shards.size(), shards::toString);
        Set<String> parents = new TreeSet<>();
        for (Shard s : shards) {
            if (s.parentShardId() != null) parents.add(s.parentShardId());
            if (s.adjacentParentShardId() != null) parents.add(s.adjacentParentShardId());
        }
        List<Shard> open = new ArrayList<>();
        for (Shard s : shards) {
            boolean ended = s.sequenceNumberRange().endingSequenceNumber() != null;
            assertEquals(parents.contains(s.shardId()), ended, "a shard has ended if and only if it is a parent: " + s);
            if (!ended) open.add(s);
        }
        assertEquals(Set.of("shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"), parents);
        open.sort(Comparator.comparing(s -> new BigInteger(s.hashKeyRange().startingHashKey())));
        assertEquals(8, open.size());
        BigInteger next = BigInteger.ZERO;
        for (Shard s : open) {
            assertEquals(next, new BigInteger(s.hashKeyRange().startingHashKey()), "gap or overlap at " + s);
            next = new BigInteger(s.hashKeyRange().endingHashKey()).add(BigInteger.ONE);
        }
        assertEquals(BigInteger.ONE.shiftLeft(128), next, "the open shards end before 2^128 - 1");
    }

    /**
     * Reads every shard from TRIM_HORIZON, parents before children (a child's index is above its
     * parents'), a parent to its end, where GetRecords names its children. Every record read was sent;
     * every acknowledged record is at its acknowledged sequence number; per partition key, acknowledged
     * records are read in acknowledged order; only a put tried more than once may be read more than
     * once. Returns how many extra copies were read.
     */
    static long verifyRead(KinesisClient reader, List<Shard> shards, Producers producers) {
        Map<String, long[]> position = new HashMap<>(); // shardId/sequence number -> (shard index, offset)
        Map<String, String> dataAt = new HashMap<>();
        Map<String, Integer> copies = new HashMap<>();
        List<Shard> inLineageOrder = new ArrayList<>(shards);
        inLineageOrder.sort(Comparator.comparingInt(ClusterReshardTest::index));
        for (Shard shard : inLineageOrder) {
            List<ChildShard> children = new ArrayList<>();
            List<Record> records = readShard(reader, shard, children);
            Set<String> expectedChildren = new TreeSet<>();
            for (Shard s : shards) {
                if (shard.shardId().equals(s.parentShardId()) || shard.shardId().equals(s.adjacentParentShardId())) expectedChildren.add(s.shardId());
            }
            assertEquals(expectedChildren, new TreeSet<>(children.stream().map(ChildShard::shardId).toList()),
                    "children named at the end of " + shard.shardId());
            BigInteger previous = BigInteger.valueOf(-1);
            for (int i = 0; i < records.size(); i++) {
                Record r = records.get(i);
                String data = r.data().asUtf8String();
                assertTrue(producers.sent.contains(data), shard.shardId() + " at " + r.sequenceNumber() + ": data nobody sent: " + data);
                BigInteger sequenceNumber = new BigInteger(r.sequenceNumber());
                assertTrue(sequenceNumber.compareTo(previous) > 0, shard.shardId() + " at " + r.sequenceNumber() + ": out of order");
                previous = sequenceNumber;
                position.put(shard.shardId() + "/" + r.sequenceNumber(), new long[] {index(shard), i});
                dataAt.put(shard.shardId() + "/" + r.sequenceNumber(), data);
                copies.merge(data, 1, Integer::sum);
            }
        }
        for (Map.Entry<String, List<Acked>> key : producers.ackedByKey.entrySet()) {
            long[] last = {-1, -1};
            for (Acked a : key.getValue()) {
                long[] at = position.get(a.shardId() + "/" + a.sequenceNumber());
                assertNotNull(at, "acknowledged record lost: " + a);
                assertEquals(a.data(), dataAt.get(a.shardId() + "/" + a.sequenceNumber()), "other data at an acknowledged sequence number");
                assertTrue(at[0] > last[0] || (at[0] == last[0] && at[1] > last[1]),
                        "acknowledged order broken for key " + key.getKey() + " at " + a);
                last = at;
            }
        }
        long duplicates = 0;
        for (Map.Entry<String, Integer> c : copies.entrySet()) {
            if (c.getValue() > 1) {
                assertTrue(producers.retried.contains(c.getKey()), "read " + c.getValue() + " times, put once: " + c.getKey());
                duplicates += c.getValue() - 1;
            }
        }
        return duplicates;
    }

    /** Every record of a shard: a closed one to its end (and the children named there), an open one up to its tip. */
    static List<Record> readShard(KinesisClient reader, Shard shard, List<ChildShard> children) {
        boolean closed = shard.sequenceNumberRange().endingSequenceNumber() != null;
        String it = reader.getShardIterator(b -> b.streamName(STREAM).shardId(shard.shardId())
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        List<Record> records = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            String current = it;
            GetRecordsResponse r = reader.getRecords(b -> b.shardIterator(current));
            records.addAll(r.records());
            it = r.nextShardIterator();
            if (it == null) {
                assertTrue(closed, "an open shard ended: " + shard.shardId());
                children.addAll(r.childShards());
                return records;
            }
            if (!closed && r.records().isEmpty() && r.millisBehindLatest() == 0) return records;
        }
        throw new AssertionError("never reached the end of " + shard.shardId());
    }

    static int index(Shard s) {
        return Integer.parseInt(s.shardId().substring("shardId-".length()));
    }

    record Acked(String shardId, String sequenceNumber, String data) {}

    /**
     * Producers going round every node's endpoint, each writing its own partition keys in turn, one
     * put at a time with no SDK retries: a failed put is tried again (through the next endpoint) until
     * acknowledged, as a client would, and may then have been stored more than once.
     */
    static final class Producers {
        static final int KEYS_PER_PRODUCER = 8;
        final AtomicBoolean stop = new AtomicBoolean();
        final List<Thread> threads = new ArrayList<>();
        final Set<String> sent = ConcurrentHashMap.newKeySet();
        final Set<String> retried = ConcurrentHashMap.newKeySet();
        final Map<String, List<Acked>> ackedByKey = new ConcurrentHashMap<>();
        final AtomicLong failures = new AtomicLong();

        void start(int p) {
            for (int k = 0; k < KEYS_PER_PRODUCER; k++) ackedByKey.put("p" + p + "-k" + k, new ArrayList<>());
            Thread t = new Thread(() -> {
                List<KinesisClient> clients = new ArrayList<>();
                for (int i = 0; i < NODES; i++) clients.add(cluster.client((p + i) % NODES, CALL_TIMEOUT, c -> c.retryPolicy(RetryPolicy.none())));
                int attempt = 0;
                try {
                    for (int n = 0; !stop.get(); n++) {
                        String key = "p" + p + "-k" + n % KEYS_PER_PRODUCER;
                        String data = key + "#" + n / KEYS_PER_PRODUCER;
                        sent.add(data);
                        while (!stop.get()) {
                            try {
                                PutRecordResponse r = clients.get(attempt % NODES).putRecord(b -> b.streamName(STREAM)
                                        .partitionKey(key).data(SdkBytes.fromUtf8String(data)));
                                List<Acked> acked = ackedByKey.get(key);
                                synchronized (acked) {
                                    acked.add(new Acked(r.shardId(), r.sequenceNumber(), data));
                                }
                                break;
                            } catch (RuntimeException e) {
                                failures.incrementAndGet();
                                retried.add(data);
                                attempt++;
                                Thread.sleep(100);
                            }
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    clients.forEach(KinesisClient::close);
                }
            }, "producer-" + p);
            threads.add(t);
            t.start();
        }

        long acknowledged() {
            long n = 0;
            for (List<Acked> acked : ackedByKey.values()) {
                synchronized (acked) {
                    n += acked.size();
                }
            }
            return n;
        }

        /** Stops the producers and waits for their last puts, so that verification sees them. */
        void finish() throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) {
                t.join(CALL_TIMEOUT.plusSeconds(5).toMillis());
                assertFalse(t.isAlive(), t.getName() + " still running after stop");
            }
        }
    }
}
