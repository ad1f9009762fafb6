package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

import java.io.File;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
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
 * Three node processes (started the way deploy/local/sluice starts them) on one Cassandra: shards
 * spread over all nodes; producers write through every endpoint while one node is killed with
 * SIGKILL; afterwards every acknowledged record is present exactly once, in acknowledged order per
 * producer and shard; the killed node's shards are served by the others; the node rejoins.
 */
class ClusterFailoverTest {
    static final int NODES = 3;
    static final String STREAM = "twelve";
    static final ObjectMapper json = new ObjectMapper();
    static final HttpClient http = HttpClient.newHttpClient();
    static final List<Process> processes = new ArrayList<>(List.of());
    static final String accessKey = "AKIA" + random(12).replaceAll("[^A-Z2-7]", "A").substring(0, 16).toUpperCase();
    static final String secret = random(30);
    static int[] httpPorts = new int[NODES];
    static int[] clusterPorts = new int[NODES];
    static Path dataDir;
    static Map<String, String> env;

    static String random(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    @AfterAll
    static void stopAll() {
        for (Process p : processes) if (p != null) p.destroyForcibly();
    }

    static Process startNode(int i) throws Exception {
        Path node = Path.of(System.getProperty("user.dir"));
        String classpath = node.resolve("target/classes") + File.pathSeparator
                + Files.readString(node.resolve("target/runtime.classpath")).trim();
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx384m", "-cp", classpath, "io.sluice.node.SluiceNode");
        pb.environment().putAll(env);
        pb.environment().put("SLUICE_HTTP_PORT", Integer.toString(httpPorts[i]));
        pb.environment().put("SLUICE_CLUSTER_PORT", Integer.toString(clusterPorts[i]));
        pb.environment().put("SLUICE_DATA_DIR", dataDir.resolve("node" + (i + 1)).toString());
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("node" + (i + 1) + ".log").toFile()));
        Process p = pb.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            assertTrue(p.isAlive(), () -> "node " + (i + 1) + " exited: " + tail(i));
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts[i] + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) return p;
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        fail("node " + (i + 1) + " not healthy: " + tail(i));
        return p;
    }

    static String tail(int i) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("node" + (i + 1) + ".log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (Exception e) {
            return "(no log)";
        }
    }

    static JsonNode cluster(int i) throws Exception {
        return json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts[i] + "/admin/cluster")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    static KinesisClient client(int i, Duration timeout) {
        return KinesisClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + httpPorts[i])).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secret)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(timeout).connectionTimeout(Duration.ofSeconds(2)).build())
                .overrideConfiguration(c -> c.retryPolicy(RetryPolicy.none()).apiCallTimeout(timeout))
                .build();
    }

    record Acked(String shardId, String sequenceNumber, String data) {}

    @Test
    void killingANodeLosesNoAcknowledgedRecord() throws Exception {
        dataDir = Files.createTempDirectory("sluice-cluster");
        for (int i = 0; i < NODES; i++) {
            httpPorts[i] = CassandraForTests.freePort();
            clusterPorts[i] = CassandraForTests.freePort();
        }
        env = new HashMap<>(Map.of(
                "SLUICE_CASSANDRA", CassandraForTests.contactPoint(),
                "SLUICE_CASSANDRA_KEYSPACE", "sluice_cluster_" + System.nanoTime() % 1_000_000,
                "SLUICE_SEED_NODES", "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1],
                "SLUICE_ROOT_ACCESS_KEY_ID", accessKey,
                "SLUICE_ROOT_SECRET_ACCESS_KEY", secret,
                "SLUICE_ITERATOR_SECRET", random(32),
                "SLUICE_ROOT_KEY", random(32)));
        // node 1 first (it applies the schema and forms the cluster), then the others together
        processes.add(startNode(0));
        processes.add(null);
        processes.add(null);
        Thread t2 = new Thread(() -> {
            try { processes.set(1, startNode(1)); } catch (Exception e) { throw new RuntimeException(e); }
        });
        t2.start();
        processes.set(2, startNode(2));
        t2.join();
        assertNotNull(processes.get(1), "node 2 did not start");

        KinesisClient admin = client(0, Duration.ofSeconds(20));
        admin.createStream(b -> b.streamName(STREAM).shardCount(12));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (admin.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary().streamStatus() != StreamStatus.ACTIVE) {
            assertTrue(System.nanoTime() < deadline);
            Thread.sleep(100);
        }
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
            if (cluster(i).get("hostedStreamShards").size() > 0) hostingNodes.add("node" + (i + 1));
            assertEquals(NODES, cluster(i).get("members").size());
        }
        assertEquals(NODES, hostingNodes.size(), "shards spread over every node");
        List<String> killedShards = new ArrayList<>();
        cluster(1).get("hostedStreamShards").forEach(e -> killedShards.add(e.asText()));

        // producers: one per (endpoint, shard) pair, each writes sequentially and remembers what was acknowledged
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong unacknowledged = new AtomicLong();
        Map<String, List<Acked>> ackedByProducer = new ConcurrentHashMap<>();
        List<Thread> producers = new ArrayList<>();
        for (int n = 0; n < NODES; n++) {
            for (Map.Entry<String, String> shard : keyOfShard.entrySet()) {
                producers.add(producer("n" + n + "-" + shard.getKey(), new int[] {n}, shard.getValue(), 0,
                        stop, unacknowledged, ackedByProducer));
            }
        }
        Thread.sleep(3000);
        long beforeKill = ackedByProducer.values().stream().mapToLong(List::size).sum();
        processes.get(1).destroyForcibly(); // SIGKILL
        long killedAt = System.nanoTime();

        // the killed node's shards accept writes again through the surviving nodes
        double recoverySeconds = untilServed(killedShards, keyOfShard, killedAt);
        Thread.sleep(2000);
        stop.set(true);
        for (Thread t : producers) t.join(30_000);

        long acknowledged = verifyAcknowledged(keyOfShard, ackedByProducer);
        assertTrue(acknowledged > beforeKill, "writes continued after the kill");

        // the killed node comes back and rejoins
        long restartAt = System.nanoTime();
        processes.set(1, startNode(1));
        deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            JsonNode view = cluster(1);
            long up = 0;
            for (JsonNode m : view.get("members")) if (m.get("status").asText().equals("Up")) up++;
            if (up == NODES && view.get("selfStatus").asText().equals("Up")) break;
            assertTrue(System.nanoTime() < deadline, "node 2 did not rejoin: " + view);
            Thread.sleep(250);
        }
        double rejoinSeconds = (System.nanoTime() - restartAt) / 1e9;

        // a graceful stop (SIGTERM: leave the cluster, hand the shards off) under writes loses nothing either;
        // one producer per shard, each going round all three endpoints, a little throttled so that the
        // remaining nodes are not saturated while they take over
        List<String> leavingShards = new ArrayList<>();
        cluster(2).get("hostedStreamShards").forEach(e -> leavingShards.add(e.asText()));
        AtomicBoolean stop2 = new AtomicBoolean();
        AtomicLong unacknowledged2 = new AtomicLong();
        Map<String, List<Acked>> ackedByProducer2 = new ConcurrentHashMap<>();
        List<Thread> producers2 = new ArrayList<>();
        for (Map.Entry<String, String> shard : keyOfShard.entrySet()) {
            producers2.add(producer("all-" + shard.getKey(), new int[] {0, 1, 2}, shard.getValue(), 10,
                    stop2, unacknowledged2, ackedByProducer2));
        }
        Thread.sleep(3000);
        long beforeStop = ackedByProducer2.values().stream().mapToLong(List::size).sum();
        long stoppingAt = System.nanoTime();
        processes.get(2).destroy(); // SIGTERM: coordinated shutdown, leaving the cluster
        double handoffSeconds = untilServed(leavingShards, keyOfShard, stoppingAt);
        assertTrue(processes.get(2).waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "node 3 did not stop on SIGTERM");
        double stopSeconds = (System.nanoTime() - stoppingAt) / 1e9;
        Thread.sleep(3000);
        stop2.set(true);
        for (Thread t : producers2) t.join(30_000);
        long acknowledged2 = verifyAcknowledged(keyOfShard, ackedByProducer2);
        assertTrue(acknowledged2 > beforeStop, "writes continued during the graceful stop");

        System.out.printf("cluster failover: shards served again %.1f s after SIGKILL; acknowledged=%d lost=0 "
                        + "unacknowledged (errors seen by producers)=%d; node rejoined %.1f s after restart; "
                        + "graceful stop of node 3: its shards served by the others %.1f s after SIGTERM, process exited after %.1f s, "
                        + "acknowledged=%d lost=0 unacknowledged=%d%n",
                recoverySeconds, acknowledged, unacknowledged.get(), rejoinSeconds, handoffSeconds, stopSeconds, acknowledged2,
                unacknowledged2.get());
        admin.close();
    }

    /**
     * Seconds from {@code since} until each of the given shard entities took a probe write through node 1;
     * fails after 90 s.
     */
    static double untilServed(List<String> shardEntities, Map<String, String> keyOfShard, long since) {
        Set<String> pending = new HashSet<>();
        for (String entity : shardEntities) pending.add("shardId-" + String.format("%012d", Integer.parseInt(entity.substring(entity.lastIndexOf('~') + 1))));
        try (KinesisClient survivor = client(0, Duration.ofSeconds(5))) {
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
     * A producer thread writing {@code <name>#<i>} to one partition key, sequentially (each put waits for its
     * answer), going round the given nodes' endpoints, pausing {@code pauseMillis} between puts; failed puts
     * count as unacknowledged.
     */
    static Thread producer(String name, int[] nodes, String partitionKey, long pauseMillis, AtomicBoolean stop,
                           AtomicLong unacknowledged, Map<String, List<Acked>> ackedByProducer) {
        List<Acked> acked = new ArrayList<>();
        ackedByProducer.put(name, acked);
        Thread t = new Thread(() -> {
            List<KinesisClient> clients = new ArrayList<>();
            for (int node : nodes) clients.add(client(node, Duration.ofSeconds(15)));
            try {
                for (int i = 0; !stop.get() && i < 100_000; i++) {
                    String data = name + "#" + i;
                    try {
                        PutRecordResponse r = clients.get(i % clients.size()).putRecord(b -> b.streamName(STREAM)
                                .partitionKey(partitionKey).data(SdkBytes.fromUtf8String(data)));
                        synchronized (acked) {
                            acked.add(new Acked(r.shardId(), r.sequenceNumber(), data));
                        }
                        if (pauseMillis > 0) Thread.sleep(pauseMillis);
                    } catch (RuntimeException e) {
                        unacknowledged.incrementAndGet();
                        Thread.sleep(100);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                clients.forEach(KinesisClient::close);
            }
        });
        t.start();
        return t;
    }

    /**
     * Reads every shard from TRIM_HORIZON (through node 1) and checks that every acknowledged record is there
     * exactly once, in each producer's acknowledged order, with sequence numbers increasing; returns how many
     * records were acknowledged.
     */
    static long verifyAcknowledged(Map<String, String> keyOfShard, Map<String, List<Acked>> ackedByProducer) throws Exception {
        Map<String, List<String>> stored = new HashMap<>();
        try (KinesisClient reader = client(0, Duration.ofSeconds(20))) {
            for (String shardId : keyOfShard.keySet()) {
                String it = reader.getShardIterator(b -> b.streamName(STREAM).shardId(shardId)
                        .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
                List<String> seqs = new ArrayList<>();
                Map<String, Integer> seen = new HashMap<>();
                for (int i = 0; i < 10_000; i++) {
                    String current = it;
                    GetRecordsResponse r = reader.getRecords(b -> b.shardIterator(current));
                    r.records().forEach(rec -> {
                        seqs.add(rec.sequenceNumber() + "=" + rec.data().asUtf8String());
                        seen.merge(rec.data().asUtf8String(), 1, Integer::sum);
                    });
                    it = r.nextShardIterator();
                    if (r.records().isEmpty() && r.millisBehindLatest() == 0) break;
                }
                for (int i = 1; i < seqs.size(); i++) {
                    assertTrue(new BigInteger(seqs.get(i - 1).split("=")[0]).compareTo(new BigInteger(seqs.get(i).split("=")[0])) < 0,
                            "sequence numbers increase in " + shardId);
                }
                stored.put(shardId, seqs);
                seen.forEach((data, count) -> {
                    if (!data.equals("warm") && !data.equals("probe")) assertEquals(1, count, data + " stored more than once");
                });
            }
        }
        long acknowledged = 0;
        for (Map.Entry<String, List<Acked>> p : ackedByProducer.entrySet()) {
            List<Acked> acked = p.getValue();
            acknowledged += acked.size();
            if (acked.isEmpty()) continue;
            List<String> shardRecords = stored.get(acked.get(0).shardId());
            Map<String, Integer> position = new HashMap<>();
            for (int i = 0; i < shardRecords.size(); i++) position.put(shardRecords.get(i), i);
            int last = -1;
            for (Acked a : acked) {
                Integer at = position.get(a.sequenceNumber() + "=" + a.data());
                assertNotNull(at, "acknowledged record lost: " + a);
                assertTrue(at > last, "acknowledged order broken for " + p.getKey());
                last = at;
            }
        }
        return acknowledged;
    }
}
