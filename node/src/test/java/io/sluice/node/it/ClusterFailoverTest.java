package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Three node processes (started the way deploy/local/sluice starts them) on one Cassandra and one
 * KMS-encrypted stream: shards spread over all nodes; producers (with the SDK's default retries) write
 * through every endpoint while one node is killed with SIGKILL, and later while another stops
 * gracefully; the leaving node's shards are served by the others; each node comes back and rejoins.
 * Read back through every node's endpoint, every acknowledged record is present exactly once, encrypted,
 * with the data written, in acknowledged order per producer and shard. Meanwhile racers on every node race
 * for one lease item (a DynamoDB conditional update, see {@link LeaseRace}) in a table that lives on the
 * node that is killed: the table moves to a surviving node; racers whose node is gone move to the next
 * endpoint, as clients behind a load balancer do, so that rounds started after the kill are again decided
 * by every racer, each with exactly one winner; and no round has two acknowledged winners or loses one.
 */
class ClusterFailoverTest {
    static final int NODES = 3;
    static final String STREAM = "twelve";
    /** A put may take a few attempts: the service answers a timed-out append after its 10 s ask-timeout. */
    static final Duration PUT_TIMEOUT = Duration.ofSeconds(30);
    /** How long a stopped producer may take to return: its last put, with retries, is bounded by PUT_TIMEOUT. */
    static final Duration PRODUCER_EXIT = PUT_TIMEOUT.plusSeconds(30);
    static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    /** Lease-race rounds started after the kill that every racer must see decided, each with exactly one winner. */
    static final int DECIDED_ROUNDS_AFTER_KILL = 5;
    static LocalCluster cluster;

    @AfterAll
    static void stopAll() {
        if (cluster != null) cluster.close();
    }

    record Acked(String shardId, String sequenceNumber, String data, EncryptionType encryptionType) {}

    /**
     * One phase's producers: the flag that stops them, every payload they sent (acknowledged or not), what was
     * acknowledged to each, and how many puts failed even after the SDK's retries.
     */
    record Writes(AtomicBoolean stop, Set<String> sent, Map<String, List<Acked>> ackedByProducer, AtomicLong unacknowledged,
                  List<Thread> producers) {
        Writes() {
            this(new AtomicBoolean(), ConcurrentHashMap.newKeySet(), new ConcurrentHashMap<>(), new AtomicLong(), new ArrayList<>());
        }

        long acknowledged() {
            return ackedByProducer.values().stream().mapToLong(List::size).sum();
        }

        /** Stops the producers and waits until every one has returned, so that verification sees their last puts. */
        void finish() throws InterruptedException {
            stop.set(true);
            long deadline = System.nanoTime() + PRODUCER_EXIT.toNanos();
            for (Thread t : producers) {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                assertFalse(t.isAlive(), "producer " + t.getName() + " still running " + PRODUCER_EXIT + " after stop");
            }
        }
    }

    @Test
    void killingANodeLosesNoAcknowledgedRecord() throws Exception {
        // no warm-up (WarmupTest's subject): it held each start and restart 10 s, 40 s of this test's time;
        // instead the stream is created once every node sees all three Up, so that its shards spread over all
        cluster = LocalCluster.start(NODES, Map.of("SLUICE_WARMUP", "0s"));
        for (int i = 0; i < NODES; i++) awaitAllUp(i, System.nanoTime());

        KinesisClient admin = cluster.client(0, Duration.ofSeconds(20));
        admin.createStream(b -> b.streamName(STREAM).shardCount(12));
        awaitActive(admin);
        admin.startStreamEncryption(b -> b.streamName(STREAM).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        assertEquals(EncryptionType.KMS, awaitActive(admin).encryptionType());
        // front ends cache stream metadata for up to a second; after that every put through any node is encrypted
        Thread.sleep(1200);
        // one partition key per shard, and one put each so that every shard entity exists
        Map<String, String> keyOfShard = new HashMap<>();
        for (int i = 0; keyOfShard.size() < 12 && i < 5000; i++) {
            String pk = "k" + i;
            keyOfShard.putIfAbsent(admin.putRecord(b -> b.streamName(STREAM).partitionKey(pk).data(SdkBytes.fromUtf8String("warm")))
                    .shardId(), pk);
        }
        assertEquals(12, keyOfShard.size());
        Set<String> hostingNodes = new HashSet<>();
        for (int i = 0; i < NODES; i++) {
            if (cluster.view(i).get("hostedStreamShards").size() > 0) hostingNodes.add("node" + (i + 1));
            assertEquals(NODES, cluster.view(i).get("members").size());
        }
        assertEquals(NODES, hostingNodes.size(), "shards spread over every node");
        List<String> killedShards = new ArrayList<>();
        cluster.view(1).get("hostedStreamShards").forEach(e -> killedShards.add(e.asText()));

        // KCL-style workers on every node race for one lease (a DynamoDB conditional update) through the kill,
        // in a table that lives on the node to be killed, so that the table itself fails over mid-race
        String raceTable = tableHostedBy(1);
        LeaseRace race = LeaseRace.start(cluster.endpoints(), cluster.accessKey, cluster.secret, 2, raceTable);

        // producers: one per (endpoint, shard) pair, each writes sequentially and remembers what was acknowledged
        Writes killPhase = new Writes();
        for (int n = 0; n < NODES; n++) {
            for (Map.Entry<String, String> shard : keyOfShard.entrySet()) {
                producer("n" + n + "-" + shard.getKey(), new int[] {n}, shard.getValue(), 0, killPhase);
            }
        }
        Thread.sleep(3000);
        long beforeKill = killPhase.acknowledged();
        assertTrue(hostedTables(1).contains(raceTable), raceTable + " moved off node 2 before the kill");
        Process killed = cluster.process(1).destroyForcibly(); // SIGKILL
        long killedAt = System.nanoTime();
        assertTrue(killed.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "node 2 still running after SIGKILL");
        long roundAtKill = race.roundsStarted(); // rounds numbered higher started with node 2 dead

        // the killed node's shards accept writes again through the surviving nodes
        double recoverySeconds = untilServed(killedShards, keyOfShard, killedAt);
        // and the race table, on a surviving node, decides rounds that started after the kill
        double tableSeconds = (race.awaitWinAfter(roundAtKill, Duration.ofSeconds(90)) - killedAt) / 1e9;
        String tableHost = awaitHostedElsewhere(raceTable, 1);
        // the racers that were on node 2 have moved on, so every racer gets a definite answer again
        race.awaitDecidedRoundsAfter(roundAtKill, DECIDED_ROUNDS_AFTER_KILL, Duration.ofSeconds(60));
        Thread.sleep(2000);
        killPhase.finish();
        long winsAfterKill = race.winsAfter(roundAtKill);
        String raced = race.stopAndVerify(roundAtKill, DECIDED_ROUNDS_AFTER_KILL) + String.format("; %s lived on node 2 and after its SIGKILL on %s, "
                + "first acknowledged win %.1f s after the kill, %d acknowledged wins in the %d rounds started after it (round %d)",
                raceTable, tableHost, tableSeconds, winsAfterKill, race.roundsStarted() - roundAtKill, roundAtKill);

        long acknowledged = killPhase.acknowledged();
        assertTrue(acknowledged > beforeKill, "writes continued after the kill");
        long killRetryDuplicates = verifyAcknowledged(List.of(killPhase), keyOfShard, 0, 2)[0]; // node 2 is down

        // the killed node comes back, rejoins, and reads the same
        double rejoinSeconds = rejoin(1);
        killRetryDuplicates = Math.max(killRetryDuplicates, verifyAcknowledged(List.of(killPhase), keyOfShard, 1)[0]);

        // a graceful stop (SIGTERM: leave the cluster, hand the shards off) under writes loses nothing either;
        // one producer per shard, each going round all three endpoints, a little throttled so that the
        // remaining nodes are not saturated while they take over
        List<String> leavingShards = new ArrayList<>();
        cluster.view(2).get("hostedStreamShards").forEach(e -> leavingShards.add(e.asText()));
        Writes stopPhase = new Writes();
        for (Map.Entry<String, String> shard : keyOfShard.entrySet()) {
            producer("all-" + shard.getKey(), new int[] {0, 1, 2}, shard.getValue(), 10, stopPhase);
        }
        Thread.sleep(3000);
        long beforeStop = stopPhase.acknowledged();
        long stoppingAt = System.nanoTime();
        cluster.process(2).destroy(); // SIGTERM: coordinated shutdown, leaving the cluster
        double handoffSeconds = untilServed(leavingShards, keyOfShard, stoppingAt);
        assertTrue(cluster.process(2).waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "node 3 did not stop on SIGTERM");
        double stopSeconds = (System.nanoTime() - stoppingAt) / 1e9;
        Thread.sleep(3000);
        stopPhase.finish();
        long acknowledged2 = stopPhase.acknowledged();
        assertTrue(acknowledged2 > beforeStop, "writes continued during the graceful stop");

        // both phases' records, through the two remaining nodes and then through node 3 once it is back
        List<Writes> both = List.of(killPhase, stopPhase);
        long[] stopRetryDuplicates = verifyAcknowledged(both, keyOfShard, 0, 1);
        double rejoin3Seconds = rejoin(2);
        long[] afterRejoin = verifyAcknowledged(both, keyOfShard, 2);

        System.out.printf("cluster failover (KMS-encrypted stream, every record read back through all %d nodes): "
                        + "shards served again %.1f s after SIGKILL; acknowledged=%d lost=0 "
                        + "unacknowledged (errors seen by producers)=%d retry duplicates (unacknowledged copies)=%d; "
                        + "node rejoined %.1f s after restart; "
                        + "graceful stop of node 3: its shards served by the others %.1f s after SIGTERM, process exited after %.1f s, "
                        + "acknowledged=%d lost=0 unacknowledged=%d retry duplicates=%d; node 3 rejoined %.1f s after restart%n",
                NODES, recoverySeconds, acknowledged, killPhase.unacknowledged().get(),
                Math.max(killRetryDuplicates, Math.max(stopRetryDuplicates[0], afterRejoin[0])), rejoinSeconds,
                handoffSeconds, stopSeconds, acknowledged2, stopPhase.unacknowledged().get(),
                Math.max(stopRetryDuplicates[1], afterRejoin[1]), rejoin3Seconds);
        System.out.println(raced);
        admin.close();
    }

    /** The DynamoDB tables node {@code i} hosts, from its cluster view. */
    static Set<String> hostedTables(int i) throws Exception {
        Set<String> tables = new HashSet<>();
        cluster.view(i).get("hostedTables").forEach(t -> tables.add(t.asText()));
        return tables;
    }

    /**
     * Creates lease tables {@code lease-race-0}, {@code lease-race-1}, ... until one lives on node {@code i}
     * (Cluster Sharding places a table's entity when CreateTable starts it) and returns its name; the others
     * stay, unused. Fails after 30 tables.
     */
    static String tableHostedBy(int i) throws Exception {
        try (var dynamo = LeaseRace.client(cluster.endpoint(0), cluster.accessKey, cluster.secret)) {
            for (int candidate = 0; candidate < 30; candidate++) {
                String table = "lease-race-" + candidate;
                LeaseRace.createTable(dynamo, table);
                if (hostedTables(i).contains(table)) return table;
            }
        }
        throw new AssertionError("none of 30 tables placed on node " + (i + 1));
    }

    /** Waits until a node other than {@code gone} hosts {@code table} and returns its name ("node3"); fails after 60 s. */
    static String awaitHostedElsewhere(String table, int gone) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            for (int i = 0; i < NODES; i++) {
                try {
                    if (i != gone && hostedTables(i).contains(table)) return "node" + (i + 1);
                } catch (Exception notAnswering) {
                    // a node still taking over may not answer its view in time
                }
            }
            assertTrue(System.nanoTime() < deadline, table + " hosted by no surviving node");
            Thread.sleep(250);
        }
    }

    /** Waits until the stream is ACTIVE (after creation or an encryption change) and returns its summary; fails after 30 s. */
    static StreamDescriptionSummary awaitActive(KinesisClient admin) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            StreamDescriptionSummary summary = admin.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary();
            if (summary.streamStatus() == StreamStatus.ACTIVE) return summary;
            assertTrue(System.nanoTime() < deadline, STREAM + " not ACTIVE: " + summary.streamStatus());
            Thread.sleep(100);
        }
    }

    /** Starts node {@code i} again and returns the seconds until it sees itself and every other node Up; fails after 60 s of that. */
    static double rejoin(int i) throws Exception {
        long restartAt = System.nanoTime();
        cluster.start(i);
        return awaitAllUp(i, restartAt);
    }

    /** Waits until node {@code i} sees itself and every other node Up and returns the seconds since {@code since}; fails after 60 s. */
    static double awaitAllUp(int i, long since) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode view = cluster.view(i);
            long up = 0;
            for (JsonNode m : view.get("members")) if (m.get("status").asText().equals("Up")) up++;
            if (up == NODES && view.get("selfStatus").asText().equals("Up")) break;
            assertTrue(System.nanoTime() < deadline, "node " + (i + 1) + " did not rejoin: " + view);
            Thread.sleep(250);
        }
        return (System.nanoTime() - since) / 1e9;
    }

    /**
     * Seconds from {@code since} until each of the given shard entities took a probe write through node 1;
     * fails after 90 s.
     */
    static double untilServed(List<String> shardEntities, Map<String, String> keyOfShard, long since) {
        Set<String> pending = new HashSet<>();
        for (String entity : shardEntities) pending.add("shardId-" + String.format("%012d", Integer.parseInt(entity.substring(entity.lastIndexOf('~') + 1))));
        try (KinesisClient survivor = cluster.client(0, Duration.ofSeconds(5))) {
            while (!pending.isEmpty() && System.nanoTime() - since < Duration.ofSeconds(90).toNanos()) {
                for (String shardId : new ArrayList<>(pending)) {
                    try {
                        survivor.putRecord(b -> b.streamName(STREAM).partitionKey(keyOfShard.get(shardId)).data(SdkBytes.fromUtf8String("probe")));
                        pending.remove(shardId);
                    } catch (RuntimeException notYet) {
                        // still failing over
                    }
                }
            }
        }
        assertTrue(pending.isEmpty(), "shards not served again: " + pending);
        return (System.nanoTime() - since) / 1e9;
    }

    /**
     * Starts a producer thread writing {@code <name>#<i>} to one partition key, sequentially (each put waits for its
     * answer, the SDK retrying as it does by default), going round the given nodes' endpoints, pausing
     * {@code pauseMillis} between puts; puts that fail even after the retries count as unacknowledged.
     */
    static void producer(String name, int[] nodes, String partitionKey, long pauseMillis, Writes writes) {
        List<Acked> acked = new ArrayList<>();
        writes.ackedByProducer().put(name, acked);
        Thread t = new Thread(() -> {
            List<KinesisClient> clients = new ArrayList<>();
            for (int node : nodes) clients.add(cluster.client(node, PUT_TIMEOUT));
            try {
                for (int i = 0; !writes.stop().get() && i < 100_000; i++) {
                    String data = name + "#" + i;
                    writes.sent().add(data);
                    try {
                        PutRecordResponse r = clients.get(i % clients.size()).putRecord(b -> b.streamName(STREAM)
                                .partitionKey(partitionKey).data(SdkBytes.fromUtf8String(data)));
                        synchronized (acked) {
                            acked.add(new Acked(r.shardId(), r.sequenceNumber(), data, r.encryptionType()));
                        }
                        if (pauseMillis > 0) Thread.sleep(pauseMillis);
                    } catch (RuntimeException e) {
                        writes.unacknowledged().incrementAndGet();
                        Thread.sleep(100);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                clients.forEach(KinesisClient::close);
            }
        }, name);
        writes.producers().add(t);
        t.start();
    }

    /** Every record of one shard, from TRIM_HORIZON up to the tip, read through one endpoint. */
    static List<Record> readShard(KinesisClient reader, String shardId) {
        return TestNode.readShard(reader, STREAM, shardId, null);
    }

    /**
     * Reads every shard from TRIM_HORIZON through each given node's endpoint and checks what each node returns on
     * its own: every record is KMS-encrypted and carries data that was sent (a producer's payload, a warm-up or a
     * probe); sequence numbers strictly increase, so none comes back twice; every acknowledged record of the given
     * phases is there at its acknowledged sequence number, with its data, in each producer's acknowledged order.
     * A payload read at several sequence numbers is a put the SDK retried after its first attempt was stored but
     * not answered: a payload goes out in one put, so at most one copy was acknowledged, and an acknowledged record
     * read twice would repeat its sequence number. Those copies are allowed and counted: returns, per phase, the
     * most extra copies any node returned.
     */
    static long[] verifyAcknowledged(List<Writes> phases, Map<String, String> keyOfShard, int... readers) {
        Map<String, Integer> phaseOfProducer = new HashMap<>();
        Set<String> ackedSequenceNumbers = new HashSet<>();
        for (int p = 0; p < phases.size(); p++) {
            for (Map.Entry<String, List<Acked>> producer : phases.get(p).ackedByProducer().entrySet()) {
                phaseOfProducer.put(producer.getKey(), p);
                for (Acked a : producer.getValue()) {
                    assertTrue(ackedSequenceNumbers.add(a.shardId() + "/" + a.sequenceNumber()), "sequence number acknowledged twice: " + a);
                    assertEquals(EncryptionType.KMS, a.encryptionType(), "acknowledged without encryption: " + a);
                }
            }
        }
        long[] retryDuplicates = new long[phases.size()];
        for (int node : readers) {
            long[] extraCopies = new long[phases.size()];
            Map<String, Map<String, Integer>> positionByShard = new HashMap<>();
            try (KinesisClient reader = cluster.client(node, READ_TIMEOUT)) {
                for (String shardId : keyOfShard.keySet()) {
                    Map<String, Integer> position = new HashMap<>();
                    Map<String, Integer> copies = new HashMap<>();
                    BigInteger previous = BigInteger.valueOf(-1);
                    List<Record> records = readShard(reader, shardId);
                    for (int i = 0; i < records.size(); i++) {
                        Record r = records.get(i);
                        String where = "node " + (node + 1) + ", " + shardId + " at " + r.sequenceNumber();
                        String data = r.data().asUtf8String();
                        assertEquals(EncryptionType.KMS, r.encryptionType(), where + ": not encrypted");
                        assertTrue(data.equals("warm") || data.equals("probe") || phases.stream().anyMatch(w -> w.sent().contains(data)),
                                where + ": data nobody sent: " + data);
                        BigInteger sequenceNumber = new BigInteger(r.sequenceNumber());
                        assertTrue(sequenceNumber.compareTo(previous) > 0, where + ": sequence number repeated or out of order");
                        previous = sequenceNumber;
                        position.put(r.sequenceNumber() + "=" + data, i);
                        copies.merge(data, 1, Integer::sum);
                    }
                    positionByShard.put(shardId, position);
                    copies.forEach((data, count) -> {
                        Integer phase = phaseOfProducer.get(data.substring(0, Math.max(0, data.lastIndexOf('#'))));
                        if (count > 1 && phase != null) extraCopies[phase] += count - 1;
                    });
                }
            }
            for (int p = 0; p < phases.size(); p++) {
                for (Map.Entry<String, List<Acked>> producer : phases.get(p).ackedByProducer().entrySet()) {
                    List<Acked> acked = producer.getValue();
                    if (acked.isEmpty()) continue;
                    Map<String, Integer> position = positionByShard.get(acked.get(0).shardId());
                    int last = -1;
                    for (Acked a : acked) {
                        Integer at = position.get(a.sequenceNumber() + "=" + a.data());
                        assertNotNull(at, "acknowledged record lost (read through node " + (node + 1) + "): " + a);
                        assertTrue(at > last, "acknowledged order broken for " + producer.getKey() + " (read through node " + (node + 1) + ")");
                        last = at;
                    }
                }
                retryDuplicates[p] = Math.max(retryDuplicates[p], extraCopies[p]);
            }
        }
        return retryDuplicates;
    }
}
