package io.sluice.node.it;

import io.sluice.node.kcl.ProcessedLog;
import io.sluice.node.kcl.ProcessedLog.Event;
import io.sluice.node.kcl.ProcessedLog.Initialized;
import io.sluice.node.kcl.ProcessedLog.Processed;
import io.sluice.node.kcl.WorkerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.kinesis.common.KinesisClientUtil;

import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real Kinesis Client Library (3.1.3) against one Sluice node and nothing else: its Kinesis calls over
 * HTTP/2, its lease, coordinator-state and worker-metrics tables on Sluice's DynamoDB API. Two worker
 * processes share a KMS-encrypted stream of four shards: every record is processed at least once and in
 * order per shard, the leader splits the leases two and two (under traffic that makes this the KCL's balance,
 * see {@link #SKEW}), a SIGKILLed worker's leases move to the survivor, which resumes from the dead worker's
 * checkpoints, and the checkpoints outlive a restart of the node: a worker started afterwards begins every
 * shard at its checkpoint.
 *
 * <p>To try one half before the other is served, the run takes the worker's switches ({@code KclWorker.Settings}):
 * {@code -Dkcl.kinesis-http1=true} (Kinesis over HTTP/1.1), {@code -Dkcl.dynamodb-endpoint=http://…} (the KCL's
 * tables, and this test's reads of them, on another DynamoDB), {@code -Dkcl.provisioned-tables=true} and
 * {@code -Dkcl.precreate-lease-table=true} (for a DynamoDB without on-demand indexes or UpdateTable's index
 * creation, such as dynalite).
 */
class KclTest {
    static final String STREAM = "kcl-orders";
    /** Unique per run: the KCL's tables are named after it, and a DynamoDB given with -Dkcl.dynamodb-endpoint may outlive the run. */
    static final String APPLICATION = "kcl-orders-" + Long.toHexString(System.nanoTime());
    static final int SHARDS = 4;
    /**
     * Records per shard (in hash-key order) in each write of the test's producer while the workers run. The KCL 3.x
     * leader ({@code LeaseAssignmentManager}, deciding with {@code VarianceBasedLeaseAssignmentDecider}) balances the
     * leases' measured throughput, not their count: with worker metrics off each worker's load is the sum of its
     * leases' {@code throughputKBps}; a worker more than {@code reBalanceThresholdPercentage} (10) off the fleet's
     * average gives up leases worth {@code dampeningPercentage} (60) of its excess (or its lightest lease, as
     * {@code allowThroughputOvershoot} is on), and a lease moves only if its receiver stays at or below the average.
     * An idle stream is never rebalanced (no throughput, no average). Under even traffic a 3/1 split is at rest
     * whenever the lone lease and the lightest of the other three measure more than half the stream, which
     * measurement noise decides, so two and two is not guaranteed. At 3:3:3:1 it is the only split at rest: a
     * lone lease plus the lightest other is 4 of 10 units (the move is made), and from two and two the receiver of a
     * third lease would hold 7 (it is refused). So the leader reaches it in at most two moves from any split; a
     * moved lease measures high for some seconds (its new owner catches up on what was written during the
     * hand-over), which may cost a balancing round (every third assignment run). With traffic on two shards only,
     * by contrast, the leader passes through two and two and rests at three and one.
     */
    static final int[] SKEW = {3, 3, 3, 1};

    private TestNode node;
    private KinesisClient kinesis;
    private DynamoDbClient dynamo;
    private final List<WorkerProcess> workers = new ArrayList<>();
    private final List<Acked> acked = new CopyOnWriteArrayList<>();
    /** The stream's shards in hash-key order. */
    private List<Shard> shards;
    private Producer producer;

    record Acked(String shardId, String sequenceNumber, String partitionKey, String data) {}

    /** One row of the KCL's lease table, as the test reads it. */
    record LeaseRow(String leaseKey, String owner, String checkpoint) {}

    @AfterEach
    void stop() throws Exception {
        if (producer != null) producer.producing.set(false);
        for (WorkerProcess w : workers) w.close();
        if (kinesis != null) kinesis.close();
        if (dynamo != null) dynamo.close();
        if (node != null) node.close();
    }

    @Test
    void workersShareAnEncryptedStreamAndResumeFromTheCheckpointsOfAKilledWorker() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        connect();
        TestNode.createActive(kinesis, STREAM, SHARDS);
        kinesis.startStreamEncryption(b -> b.streamName(STREAM).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        TestNode.awaitActive(kinesis, STREAM);
        assertEquals(EncryptionType.KMS,
                kinesis.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary().encryptionType());
        shards = kinesis.listShards(b -> b.streamName(STREAM)).shards().stream()
                .sorted(Comparator.comparing(s -> new BigInteger(s.hashKeyRange().startingHashKey()))).toList();
        put("before", 200);

        if (Boolean.getBoolean("kcl.precreate-lease-table")) precreateLeaseTable();
        Path dir = Files.createTempDirectory("sluice-kcl");
        WorkerProcess a = startWorker(dir, "worker-a");
        WorkerProcess b = startWorker(dir, "worker-b");

        double firstPass = await(Duration.ofSeconds(120), "both workers process every record written before they started",
                () -> missing(acked, events(a, b)).isEmpty());
        producer = new Producer("during");
        double balanced = await(Duration.ofSeconds(90), "the leader splits the four leases two and two, and each worker processes its two",
                () -> twoLeasesEach(a, b));

        // a dead leader is only replaced after its 2-minute lock expires: kill the other one, whose leases
        // the leader's assignment manager hands over within a few failover periods
        String leader = leader();
        WorkerProcess victim = leader.equals("worker-a") ? b : a;
        WorkerProcess survivor = victim == a ? b : a;
        // the victim is mid-stream: some batches processed, the last perhaps not yet checkpointed
        await(Duration.ofSeconds(30), "the victim processes records written while it runs",
                () -> victim.events().stream().anyMatch(e -> e instanceof Processed p
                        && new String(p.data(), StandardCharsets.UTF_8).startsWith("during-")));
        kill(victim);
        // the shards the victim was processing; a lease it owned but had not started (a hand-over from the
        // survivor in progress) is still checkpointed by the survivor, so its stored checkpoint may move on
        Set<String> victimShards = runningProcessors(victim.events());
        assertFalse(victimShards.isEmpty(), "the victim was processing shards");
        sleep(500); // a write the victim had on the wire has landed or never will
        Map<String, String> checkpointsAtKill = checkpoints();
        int survivorLinesAtKill = survivor.events().size();

        double takeover = await(Duration.ofSeconds(60), "the survivor owns every lease",
                () -> owners().size() == SHARDS && owners().values().stream().allMatch(survivor.workerId::equals));
        sleep(2000);
        producer.stop();
        await(Duration.ofSeconds(60), "every record, including those written after the kill, is processed",
                () -> missing(acked, events(a, b)).isEmpty());

        for (WorkerProcess w : List.of(a, b)) assertInOrderPerShard(w.workerId, w.events());
        assertEveryRecordAsWritten(events(a, b));
        List<Event> survivorEvents = survivor.events();
        assertResumedFromCheckpoints(victimShards, checkpointsAtKill,
                survivorEvents.subList(survivorLinesAtKill, survivorEvents.size()), victim.events());

        // the checkpoints are the lease table's, stored by Sluice: they outlive the node, and a worker started
        // after its restart resumes from them. The survivor is stopped as an application is, with SIGTERM: a
        // SIGKILLed leader's lock would keep the next worker from leading (and from being given leases) for 2 minutes
        stopGracefully(survivor);
        assertNull(leaderLock(), "the stopped leader released its lock");
        Map<String, String> beforeRestart = checkpoints();
        assertEquals(SHARDS, beforeRestart.size());
        node.stop();
        node.start();
        connect();
        assertEquals(beforeRestart, checkpoints(), "lease checkpoints after a restart of the node");
        List<Acked> afterRestart = putToEachShard("after", new int[] {5, 5, 5, 5});
        WorkerProcess c = startWorker(dir, "worker-c");
        double resumed = await(Duration.ofSeconds(60), "a worker started after the restart processes the records written after it",
                () -> missing(afterRestart, c.events()).isEmpty());
        assertInOrderPerShard(c.workerId, c.events());
        assertResumedFromRestoredCheckpoints(beforeRestart, c.events());
        System.out.printf("KCL 3.1.3, two workers, %d encrypted shards: the first %d records processed %.1f s after the workers "
                        + "started; leases split two and two %.1f s later; the killed worker's leases taken over %.1f s after SIGKILL; "
                        + "%d records processed in all, none missing, in order per shard; checkpoints unchanged across a node "
                        + "restart, and a new worker processed the records written after it from them %.1f s after it started%n",
                SHARDS, 200, firstPass, balanced, takeover, events(a, b).stream().filter(e -> e instanceof Processed).count(),
                resumed);
    }

    /** The client the KCL documents ({@code KinesisClientUtil}): Netty, HTTP/2 over cleartext (h2c) to Sluice's endpoint. */
    @Test
    void theKclsHttp2KinesisClientReadsAShard() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        connect();
        TestNode.createActive(kinesis, STREAM, SHARDS);
        put("h2", 8);
        try (KinesisAsyncClient h2 = KinesisClientUtil.createKinesisAsyncClient(KinesisAsyncClient.builder()
                .endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .overrideConfiguration(c -> c.apiCallTimeout(Duration.ofSeconds(20))))) {
            List<String> shards = h2.listShards(b -> b.streamName(STREAM)).get(30, TimeUnit.SECONDS).shards().stream()
                    .map(Shard::shardId).toList();
            assertEquals(SHARDS, shards.size());
            Acked first = acked.get(0);
            String iterator = h2.getShardIterator(b -> b.streamName(STREAM).shardId(first.shardId())
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).get(30, TimeUnit.SECONDS).shardIterator();
            List<Record> records = h2.getRecords(b -> b.shardIterator(iterator)).get(30, TimeUnit.SECONDS).records();
            assertTrue(records.stream().anyMatch(r -> r.sequenceNumber().equals(first.sequenceNumber())),
                    "GetRecords over HTTP/2 returns " + first);
        }
    }

    // --- the stream --------------------------------------------------------------------------------------

    private void connect() {
        if (kinesis != null) kinesis.close();
        if (dynamo != null) dynamo.close();
        kinesis = node.kinesisClient();
        dynamo = DynamoDbClient.builder()
                .endpointOverride(URI.create(System.getProperty("kcl.dynamodb-endpoint", node.endpoint().toString())))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(30)).build())
                .build();
    }

    /** Writes {@code count} records (data {@code prefix-i}, spread over the shards by partition key) and keeps what was acknowledged. */
    private void put(String prefix, int count) {
        List<PutRecordsRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            entries.add(PutRecordsRequestEntry.builder().partitionKey("pk-" + prefix + "-" + i)
                    .data(SdkBytes.fromUtf8String(prefix + "-" + i)).build());
        }
        PutRecordsResponse r = kinesis.putRecords(b -> b.streamName(STREAM).records(entries));
        assertEquals(0, r.failedRecordCount(), "failed puts");
        for (int i = 0; i < count; i++) {
            acked.add(new Acked(r.records().get(i).shardId(), r.records().get(i).sequenceNumber(),
                    entries.get(i).partitionKey(), entries.get(i).data().asUtf8String()));
        }
    }

    /**
     * Writes {@code counts[i]} records to the i-th shard (by an explicit hash key in its range), data
     * {@code prefix-n}; keeps and returns what was acknowledged.
     */
    private List<Acked> putToEachShard(String prefix, int[] counts) {
        List<PutRecordsRequestEntry> entries = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < SHARDS; i++) {
            for (int k = 0; k < counts[i]; k++) {
                String name = prefix + "-" + sequence.getAndIncrement();
                entries.add(PutRecordsRequestEntry.builder().partitionKey("pk-" + name)
                        .explicitHashKey(shards.get(i).hashKeyRange().startingHashKey())
                        .data(SdkBytes.fromUtf8String(name)).build());
                targets.add(shards.get(i).shardId());
            }
        }
        PutRecordsResponse r = kinesis.putRecords(b -> b.streamName(STREAM).records(entries));
        assertEquals(0, r.failedRecordCount(), "failed puts");
        List<Acked> written = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            assertEquals(targets.get(i), r.records().get(i).shardId(), "the shard of an explicit hash key");
            written.add(new Acked(r.records().get(i).shardId(), r.records().get(i).sequenceNumber(),
                    entries.get(i).partitionKey(), entries.get(i).data().asUtf8String()));
        }
        acked.addAll(written);
        return written;
    }

    private final AtomicInteger sequence = new AtomicInteger();

    /** Writes {@link #SKEW} every 200 ms until stopped: the traffic the KCL balances leases by. */
    private final class Producer {
        private final AtomicBoolean producing = new AtomicBoolean(true);
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread thread;

        Producer(String prefix) {
            thread = new Thread(() -> {
                try {
                    while (producing.get()) {
                        putToEachShard(prefix, SKEW);
                        sleep(200);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "kcl-test-producer");
            thread.start();
        }

        void stop() throws InterruptedException {
            producing.set(false);
            thread.join(30_000);
            assertFalse(thread.isAlive(), "the producer stopped");
            if (failure.get() != null) throw new AssertionError("the producer failed", failure.get());
        }
    }

    // --- the workers -------------------------------------------------------------------------------------

    private WorkerProcess startWorker(Path dir, String workerId) throws Exception {
        WorkerProcess w = WorkerProcess.start(dir, workerId, node.endpoint(), STREAM, APPLICATION, node.accessKeyId, node.secretKey);
        workers.add(w);
        return w;
    }

    private static List<Event> events(WorkerProcess... ws) {
        List<Event> all = new ArrayList<>();
        for (WorkerProcess w : ws) all.addAll(w.events());
        return all;
    }

    /** Each worker owns two of the four leases and runs a processor on both. */
    private boolean twoLeasesEach(WorkerProcess a, WorkerProcess b) {
        Map<String, String> owners = owners();
        Map<String, Long> perWorker = owners.values().stream().collect(Collectors.groupingBy(o -> o, Collectors.counting()));
        return owners.size() == SHARDS && perWorker.equals(Map.of(a.workerId, 2L, b.workerId, 2L))
                && processesItsLeases(owners, a) && processesItsLeases(owners, b);
    }

    /** The worker runs a processor on each lease it owns. */
    private static boolean processesItsLeases(Map<String, String> owners, WorkerProcess w) {
        Set<String> owned = owners.entrySet().stream().filter(e -> e.getValue().equals(w.workerId))
                .map(Map.Entry::getKey).collect(Collectors.toSet());
        return runningProcessors(w.events()).containsAll(owned);
    }

    /** Shards whose last processor was initialized and has not lost its lease or ended since. */
    private static Set<String> runningProcessors(List<Event> events) {
        Set<String> running = new HashSet<>();
        for (Event e : events) {
            if (e instanceof Initialized) running.add(e.shardId());
            else if (!(e instanceof Processed) && !(e instanceof ProcessedLog.Checkpointed)) running.remove(e.shardId());
        }
        return running;
    }

    /** Those of the records that no event shows processed. */
    private static List<Acked> missing(List<Acked> records, List<Event> events) {
        Set<String> seen = new HashSet<>();
        for (Event e : events) {
            if (e instanceof Processed p) seen.add(p.shardId() + "/" + p.sequenceNumber());
        }
        return records.stream().filter(r -> !seen.contains(r.shardId() + "/" + r.sequenceNumber())).toList();
    }

    // --- the KCL's tables, read with the SDK ---------------------------------------------------------------

    private List<LeaseRow> leases() {
        return dynamo.scanPaginator(b -> b.tableName(APPLICATION).consistentRead(true)).items().stream()
                .map(item -> new LeaseRow(item.get("leaseKey").s(), text(item.get("leaseOwner")), text(item.get("checkpoint"))))
                .toList();
    }

    private static String text(AttributeValue v) {
        return v == null ? null : v.s();
    }

    /**
     * The lease table as the KCL would make it, index included: for a DynamoDB given with -Dkcl.dynamodb-endpoint
     * whose UpdateTable cannot add an index (dynalite's answer lacks it, and the KCL fails on that).
     */
    private void precreateLeaseTable() {
        KeySchemaElement byLeaseKey = KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build();
        dynamo.createTable(t -> t.tableName(APPLICATION).keySchema(byLeaseKey)
                .attributeDefinitions(
                        AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName("leaseOwner").attributeType(ScalarAttributeType.S).build())
                .provisionedThroughput(p -> p.readCapacityUnits(10L).writeCapacityUnits(10L))
                .globalSecondaryIndexes(g -> g.indexName("LeaseOwnerToLeaseKeyIndex")
                        .keySchema(KeySchemaElement.builder().attributeName("leaseOwner").keyType(KeyType.HASH).build(),
                                KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.RANGE).build())
                        .projection(p -> p.projectionType(ProjectionType.KEYS_ONLY))
                        .provisionedThroughput(p -> p.readCapacityUnits(10L).writeCapacityUnits(10L))));
        dynamo.waiter().waitUntilTableExists(b -> b.tableName(APPLICATION));
    }

    /** Lease key to owner, for the owned leases. */
    private Map<String, String> owners() {
        return leases().stream().filter(l -> l.owner() != null).collect(Collectors.toMap(LeaseRow::leaseKey, LeaseRow::owner));
    }

    private Map<String, String> checkpoints() {
        return leases().stream().collect(Collectors.toMap(LeaseRow::leaseKey, LeaseRow::checkpoint, (x, y) -> x, TreeMap::new));
    }

    /** The worker holding the leader lock. */
    private String leader() {
        Map<String, AttributeValue> item = leaderLock();
        assertTrue(item != null && item.containsKey("ownerName"), "a leader holds the lock: " + item);
        return item.get("ownerName").s();
    }

    /**
     * The dynamodb-lock-client's item "Leader" in the coordinator-state table, or null if there is none or it is
     * released (the KCL's lock is deleted on release; a lock client may instead mark it released).
     */
    private Map<String, AttributeValue> leaderLock() {
        GetItemResponse r = dynamo.getItem(b -> b.tableName(APPLICATION + "-CoordinatorState")
                .key(Map.of("key", AttributeValue.fromS("Leader"))).consistentRead(true));
        if (!r.hasItem() || r.item().isEmpty()) return null;
        AttributeValue released = r.item().get("isReleased");
        return released != null && Boolean.TRUE.equals(released.bool()) ? null : r.item();
    }

    // --- what the workers did ------------------------------------------------------------------------------

    /**
     * Within one processor's life on a shard (from its INITIALIZED line to the next), records come in strictly
     * increasing sequence order and after the checkpoint it started from.
     */
    static void assertInOrderPerShard(String workerId, List<Event> events) {
        Map<String, BigInteger> last = new HashMap<>();
        for (Event e : events) {
            if (e instanceof Initialized i) {
                last.put(i.shardId(), isSequenceNumber(i.checkpoint()) ? new BigInteger(i.checkpoint()) : BigInteger.valueOf(-1));
            } else if (e instanceof Processed p) {
                BigInteger seq = new BigInteger(p.sequenceNumber());
                BigInteger previous = last.get(p.shardId());
                assertNotNull(previous, workerId + " processed " + p.shardId() + " before initializing it");
                assertTrue(seq.compareTo(previous) > 0, workerId + " on " + p.shardId() + ": " + seq + " after " + previous);
                last.put(p.shardId(), seq);
            }
        }
    }

    /** Every acknowledged record reached a processor with its partition key and data, decrypted, marked KMS. */
    private void assertEveryRecordAsWritten(List<Event> events) {
        Map<String, Processed> bySequence = new HashMap<>();
        for (Event e : events) {
            if (e instanceof Processed p) bySequence.put(p.shardId() + "/" + p.sequenceNumber(), p);
        }
        assertEquals(List.of(), missing(acked, events), "records never processed");
        for (Acked r : acked) {
            Processed p = bySequence.get(r.shardId() + "/" + r.sequenceNumber());
            assertEquals(r.partitionKey(), p.partitionKey());
            assertEquals(r.data(), new String(p.data(), StandardCharsets.UTF_8));
            assertEquals("KMS", p.encryptionType(), "encryption type of " + r);
        }
    }

    /**
     * On each shard the victim owned, the survivor started from the checkpoint stored at the kill and processed
     * everything after it; what both processed is only the victim's un-checkpointed tail.
     */
    private void assertResumedFromCheckpoints(Set<String> victimShards, Map<String, String> checkpointsAtKill,
                                              List<Event> survivorAfterKill, List<Event> victimEvents) {
        for (String shard : victimShards) {
            String checkpoint = checkpointsAtKill.get(shard);
            BigInteger from = isSequenceNumber(checkpoint) ? new BigInteger(checkpoint) : BigInteger.valueOf(-1);
            Set<String> survivorProcessed = assertResumedAt("the survivor", shard, checkpoint, from, survivorAfterKill);
            long reprocessed = victimEvents.stream()
                    .filter(e -> e instanceof Processed && e.shardId().equals(shard))
                    .filter(e -> survivorProcessed.contains(((Processed) e).sequenceNumber())).count();
            assertTrue(reprocessed <= 25, shard + ": " + reprocessed + " records processed twice, more than one batch");
        }
    }

    /**
     * A worker started after the node's restart began each shard at its stored checkpoint, not at TRIM_HORIZON:
     * it processed every record after the checkpoint and none at or before it (and there were such records).
     */
    private void assertResumedFromRestoredCheckpoints(Map<String, String> checkpoints, List<Event> events) {
        for (Shard s : shards) {
            String shard = s.shardId();
            String checkpoint = checkpoints.get(shard);
            assertTrue(isSequenceNumber(checkpoint), shard + " has a checkpoint: " + checkpoint);
            BigInteger from = new BigInteger(checkpoint);
            assertTrue(acked.stream().anyMatch(r -> r.shardId().equals(shard) && new BigInteger(r.sequenceNumber()).compareTo(from) <= 0),
                    shard + " has records up to its checkpoint");

            assertResumedAt("the new worker", shard, checkpoint, from, events);
        }
    }

    /**
     * A worker's events for one shard: it started the shard at {@code checkpoint}, processed every acknowledged
     * record after it ({@code from}) and none at or before it. Returns the sequence numbers it processed there.
     */
    private Set<String> assertResumedAt(String worker, String shard, String checkpoint, BigInteger from, List<Event> events) {
        List<Initialized> starts = events.stream().filter(e -> e instanceof Initialized && e.shardId().equals(shard))
                .map(e -> (Initialized) e).toList();
        assertFalse(starts.isEmpty(), worker + " took " + shard);
        assertEquals(checkpoint, starts.get(0).checkpoint(), worker + " starts " + shard + " from the stored checkpoint");
        Set<String> processed = events.stream().filter(e -> e instanceof Processed && e.shardId().equals(shard))
                .map(e -> ((Processed) e).sequenceNumber()).collect(Collectors.toSet());
        for (String seq : processed) {
            assertTrue(new BigInteger(seq).compareTo(from) > 0, shard + ": " + worker + " re-processed " + seq
                    + ", at or before the checkpoint " + checkpoint);
        }
        for (Acked r : acked) {
            if (r.shardId().equals(shard) && new BigInteger(r.sequenceNumber()).compareTo(from) > 0) {
                assertTrue(processed.contains(r.sequenceNumber()),
                        shard + ": " + r + " after the checkpoint was not processed by " + worker);
            }
        }
        return processed;
    }

    private static boolean isSequenceNumber(String checkpoint) {
        return checkpoint != null && !checkpoint.isEmpty() && checkpoint.chars().allMatch(Character::isDigit);
    }

    // --- waiting -------------------------------------------------------------------------------------------

    /** Polls until the condition holds; fails with the workers' logs if the deadline passes or a worker dies. */
    /** @return the seconds it took */
    private double await(Duration timeout, String what, BooleanSupplier condition) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (holds(condition)) return (System.nanoTime() - start) / 1e9;
            for (WorkerProcess w : workers) {
                if (!w.isAlive() && !stoppedOnPurpose(w)) fail(what + ": " + w.workerId + " died\n" + w.tail(60));
            }
            sleep(500);
        }
        fail(what + ": not within " + timeout + "\n" + diagnostics().get());
        return -1;
    }

    /** A condition that reads the KCL's tables fails with an SDK error while they do not exist yet: not yet. */
    private static boolean holds(BooleanSupplier condition) {
        try {
            return condition.getAsBoolean();
        } catch (RuntimeException notYet) {
            return false;
        }
    }

    private final Set<WorkerProcess> stoppedOnPurpose = new HashSet<>();

    private void kill(WorkerProcess w) throws InterruptedException {
        stoppedOnPurpose.add(w);
        w.kill();
    }

    private void stopGracefully(WorkerProcess w) throws InterruptedException {
        stoppedOnPurpose.add(w);
        w.stop(Duration.ofSeconds(40));
    }

    private boolean stoppedOnPurpose(WorkerProcess w) {
        return stoppedOnPurpose.contains(w);
    }

    private Supplier<String> diagnostics() {
        return () -> {
            StringBuilder s = new StringBuilder();
            try {
                s.append("leases: ").append(leases()).append('\n');
            } catch (RuntimeException e) {
                s.append("leases: unreadable: ").append(e).append('\n');
            }
            s.append("missing: ").append(missing(acked, events(workers.toArray(WorkerProcess[]::new))).size()).append(" of ")
                    .append(acked.size()).append('\n');
            for (WorkerProcess w : workers) s.append(w.tail(40)).append('\n');
            return s.toString();
        };
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
