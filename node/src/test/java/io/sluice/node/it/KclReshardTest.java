package io.sluice.node.it;

import io.sluice.node.kcl.ProcessedLog.Checkpointed;
import io.sluice.node.kcl.ProcessedLog.Event;
import io.sluice.node.kcl.ProcessedLog.Initialized;
import io.sluice.node.kcl.ProcessedLog.Processed;
import io.sluice.node.kcl.ProcessedLog.ShardEnded;
import io.sluice.node.kcl.WorkerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.ScalingType;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.kinesis.retrieval.kpl.ExtendedSequenceNumber;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real Kinesis Client Library (3.1.3) through a reshard, its Kinesis calls and its lease table both on one
 * Sluice node: one worker reads a KMS-encrypted stream while a producer writes numbered records under fixed
 * partition keys before, during and after UpdateShardCount 2 to 4 and back to 2. Every acknowledged record is
 * processed, each key's records in the order they were written across parent and child shards, no shard is
 * started before its parents' ends are checkpointed, every closed shard ends with a SHARD_END checkpoint, and
 * the lease table keeps each child's parents.
 */
class KclReshardTest {
    static final String STREAM = "kcl-reshard";
    /** Unique per run: the KCL's tables are named after it. */
    static final String APPLICATION = "kcl-reshard-" + Long.toHexString(System.nanoTime());
    /** Enough fixed keys that every shard of every generation gets some (asserted, as the hashes are fixed). */
    static final int KEYS = 24;
    static final String SHARD_END = ExtendedSequenceNumber.SHARD_END.sequenceNumber();

    private TestNode node;
    private KinesisClient kinesis;
    private DynamoDbClient dynamo;
    private WorkerProcess worker;
    private final List<Acked> acked = new CopyOnWriteArrayList<>();
    private final AtomicInteger failedPuts = new AtomicInteger();
    private final AtomicBoolean producing = new AtomicBoolean();
    private Thread producer;

    /**
     * A record the stream acknowledged, sent and acknowledged at these {@code System.nanoTime()}s: data {@code key#n}
     * is the n-th record written under the key.
     */
    record Acked(String shardId, String sequenceNumber, String partitionKey, String data, long sentNanos, long ackedNanos) {}

    /** One row of the KCL's lease table, as the test reads it. */
    record LeaseRow(String leaseKey, String checkpoint, Set<String> parentShardIds, Set<String> childShardIds) {}

    @AfterEach
    void stop() throws Exception {
        producing.set(false);
        if (producer != null) producer.join(30_000);
        if (worker != null) worker.close();
        if (kinesis != null) kinesis.close();
        if (dynamo != null) dynamo.close();
        if (node != null) node.close();
    }

    @Test
    void aWorkerReadsEveryRecordInKeyOrderThroughAScaleUpAndBackDown() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        connect();
        TestNode.createActive(kinesis, STREAM, 2);
        kinesis.startStreamEncryption(b -> b.streamName(STREAM).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        TestNode.awaitActive(kinesis, STREAM);

        // a first round before the worker starts; the rest while it reads, which it does in step: it is not
        // still catching up when the stream is resharded
        int[] next = new int[KEYS];
        writeRound(next);
        worker = WorkerProcess.start(Files.createTempDirectory("sluice-kcl-reshard"), "worker-r", node.endpoint(), STREAM,
                APPLICATION, node.accessKeyId, node.secretKey);
        Set<String> first = Set.of("shardId-000000000000", "shardId-000000000001");
        await(Duration.ofSeconds(120), "the worker processes the first round, on both shards",
                () -> missing(worker.events()).isEmpty() && processedShards().containsAll(first));
        producing.set(true);
        AtomicReference<Throwable> producerFailure = new AtomicReference<>();
        producer = new Thread(() -> {
            try {
                while (producing.get()) {
                    sleep(250);
                    writeRound(next);
                }
            } catch (Throwable t) {
                producerFailure.set(t);
            }
        }, "kcl-reshard-producer");
        producer.start();
        sleep(1000);

        Scaling up = scale(4, first);
        Set<String> second = openShards();
        Scaling down = scale(2, second); // which waits until the third generation is read: records written after it
        producing.set(false);
        producer.join(30_000);
        assertNull(producerFailure.get(), () -> "the producer failed: " + producerFailure.get());

        List<Shard> shards = shards();
        Set<String> closed = shards.stream().filter(s -> s.sequenceNumberRange().endingSequenceNumber() != null)
                .map(Shard::shardId).collect(Collectors.toSet());
        assertEquals(Stream.concat(first.stream(), second.stream()).collect(Collectors.toSet()), closed,
                "the shards of the first two generations are closed");
        await(Duration.ofSeconds(60), "every record is processed and every closed shard's end checkpointed",
                () -> missing(worker.events()).isEmpty() && endsCheckpointed(worker.events()).containsAll(closed));

        List<Event> events = worker.events();
        assertEquals(Set.of(), shards.stream().map(Shard::shardId).filter(id -> acked.stream().noneMatch(r -> r.shardId().equals(id)))
                .collect(Collectors.toSet()), "shards no key was written to: the test would not cover them");
        assertEveryRecordAsWritten(events);
        KclTest.assertInOrderPerShard(worker.workerId, events);
        assertInOrderPerKey(events);
        assertChildrenStartAfterTheirParentsEnded(shards, events);
        assertEveryClosedShardEndedWithACheckpoint(closed, events);
        int closedLeases = assertLeasesKeepTheLineage(shards, closed);

        System.out.printf("KCL 3.1.3, one worker, encrypted stream: UpdateShardCount 2->4 %s; 4->2 %s; %d records "
                        + "acknowledged (%d entries failed and were written again), %d processed, none missing, in order per "
                        + "key; %d of %d closed shards' leases kept at SHARD_END%n",
                up, down, acked.size(), failedPuts.get(), events.stream().filter(e -> e instanceof Processed).count(),
                closedLeases, closed.size());
    }

    /**
     * How one UpdateShardCount went: seconds from the call to ACTIVE and to a child's first processed record, and
     * the records sent in between the call and ACTIVE (the slowest acknowledged how long after it was sent).
     */
    record Scaling(double toActive, double toFirstChildRecord, long sentWhileUpdating, double slowestPut) {
        @Override
        public String toString() {
            return String.format("ACTIVE after %.2f s (%d records sent meanwhile, the slowest acknowledged after %.2f s), "
                    + "first record of a child processed %.1f s after the call",
                    toActive, sentWhileUpdating, slowestPut, toFirstChildRecord);
        }
    }

    /** UpdateShardCount to {@code target} while the producer writes; waits for ACTIVE and for a child's first processed record. */
    private Scaling scale(int target, Set<String> parents) {
        long start = System.nanoTime();
        kinesis.updateShardCount(b -> b.streamName(STREAM).targetShardCount(target).scalingType(ScalingType.UNIFORM_SCALING));
        TestNode.awaitActive(kinesis, STREAM);
        long active = System.nanoTime();
        double toActive = (active - start) / 1e9;
        Set<String> children = openShards();
        assertEquals(target, children.size(), "open shards after scaling to " + target);
        assertTrue(children.stream().noneMatch(parents::contains), "every shard was replaced: " + children);
        await(Duration.ofSeconds(60), "the worker processes a record of a child shard of " + parents,
                () -> processedShards().stream().anyMatch(children::contains));
        double toFirstChildRecord = (System.nanoTime() - start) / 1e9;
        // by now the puts sent before ACTIVE have long been answered
        List<Acked> sentWhileUpdating = acked.stream().filter(r -> r.sentNanos() > start && r.sentNanos() < active).toList();
        return new Scaling(toActive, toFirstChildRecord, sentWhileUpdating.size(),
                sentWhileUpdating.stream().mapToLong(r -> r.ackedNanos() - r.sentNanos()).max().orElse(0) / 1e9);
    }

    // --- the stream --------------------------------------------------------------------------------------

    private void connect() {
        kinesis = node.kinesisClient();
        // as KclTest: -Dkcl.dynamodb-endpoint moves the worker's tables, and so this test's reads of them
        dynamo = DynamoDbClient.builder()
                .endpointOverride(URI.create(System.getProperty("kcl.dynamodb-endpoint", node.endpoint().toString())))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(30)).build())
                .build();
    }

    private static String key(int k) {
        return String.format("key-%02d", k);
    }

    /**
     * One record per key, numbered per key ({@code next}). A key's next record is only written once its previous
     * one was acknowledged: a failed entry, or a call that failed as a whole, is written again in the next round,
     * so each key's records are numbered in the order the stream took them. A round every 250 ms is about 100
     * records a second, well within what the worker's 25-record polls drain.
     */
    private void writeRound(int[] next) {
        List<PutRecordsRequestEntry> entries = new ArrayList<>(KEYS);
        for (int k = 0; k < KEYS; k++) {
            entries.add(PutRecordsRequestEntry.builder().partitionKey(key(k))
                    .data(SdkBytes.fromUtf8String(key(k) + "#" + next[k])).build());
        }
        PutRecordsResponse r;
        long sent = System.nanoTime();
        try {
            r = kinesis.putRecords(b -> b.streamName(STREAM).records(entries));
        } catch (SdkException e) {
            failedPuts.addAndGet(KEYS);
            return;
        }
        long acknowledged = System.nanoTime();
        for (int k = 0; k < KEYS; k++) {
            PutRecordsResultEntry result = r.records().get(k);
            if (result.errorCode() != null) {
                failedPuts.incrementAndGet();
                continue;
            }
            acked.add(new Acked(result.shardId(), result.sequenceNumber(), key(k), entries.get(k).data().asUtf8String(),
                    sent, acknowledged));
            next[k]++;
        }
    }

    /** Every shard of the stream, closed ones included: one page, as there are at most eight. */
    private List<Shard> shards() {
        ListShardsResponse page = kinesis.listShards(b -> b.streamName(STREAM));
        assertNull(page.nextToken(), "more than one page of shards");
        return page.shards();
    }

    private Set<String> openShards() {
        return shards().stream()
                .filter(s -> s.sequenceNumberRange().endingSequenceNumber() == null)
                .map(Shard::shardId).collect(Collectors.toSet());
    }

    // --- what the worker did -------------------------------------------------------------------------------

    private Set<String> processedShards() {
        return worker.events().stream().filter(e -> e instanceof Processed).map(Event::shardId).collect(Collectors.toSet());
    }

    private List<Acked> missing(List<Event> events) {
        Set<String> seen = events.stream().filter(e -> e instanceof Processed)
                .map(e -> e.shardId() + "/" + ((Processed) e).sequenceNumber()).collect(Collectors.toSet());
        return acked.stream().filter(r -> !seen.contains(r.shardId() + "/" + r.sequenceNumber())).toList();
    }

    private static Set<String> endsCheckpointed(List<Event> events) {
        return events.stream().filter(e -> e instanceof Checkpointed c && c.sequenceNumber().equals(SHARD_END))
                .map(Event::shardId).collect(Collectors.toSet());
    }

    /** Every acknowledged record reached the processor with its partition key and data, decrypted, marked KMS. */
    private void assertEveryRecordAsWritten(List<Event> events) {
        assertEquals(List.of(), missing(events), "records never processed");
        Map<String, Processed> bySequence = new HashMap<>();
        for (Event e : events) {
            if (e instanceof Processed p) bySequence.put(p.shardId() + "/" + p.sequenceNumber(), p);
        }
        for (Acked r : acked) {
            Processed p = bySequence.get(r.shardId() + "/" + r.sequenceNumber());
            assertEquals(r.partitionKey(), p.partitionKey());
            assertEquals(r.data(), new String(p.data(), StandardCharsets.UTF_8));
            assertEquals("KMS", p.encryptionType(), "encryption type of " + r);
        }
    }

    /**
     * Each key's records were first processed in the order they were written, whichever shard held them: a key's
     * records in a child come after all of its records in the parent. Records processed again (at least once) are
     * judged by their first processing.
     */
    private static void assertInOrderPerKey(List<Event> events) {
        Map<String, Integer> lastNumber = new HashMap<>();
        Set<String> seen = new HashSet<>();
        for (Event e : events) {
            if (!(e instanceof Processed p)) continue;
            String data = new String(p.data(), StandardCharsets.UTF_8);
            if (!seen.add(data)) continue;
            int n = Integer.parseInt(data.substring(data.indexOf('#') + 1));
            int previous = lastNumber.getOrDefault(p.partitionKey(), -1);
            assertEquals(previous + 1, n, p.partitionKey() + ": " + data + " on " + p.shardId() + " first processed after #" + previous);
            lastNumber.put(p.partitionKey(), n);
        }
    }

    /** A shard's processor is initialized only after each parent's SHARD_END checkpoint is in the log (one worker: one order). */
    private static void assertChildrenStartAfterTheirParentsEnded(List<Shard> shards, List<Event> events) {
        for (Shard s : shards) {
            int started = indexOf(events, e -> e instanceof Initialized && e.shardId().equals(s.shardId()));
            assertTrue(started >= 0, s.shardId() + " was never started");
            for (String parent : parents(s)) {
                int ended = indexOf(events, e -> e instanceof Checkpointed c && c.shardId().equals(parent)
                        && c.sequenceNumber().equals(SHARD_END));
                assertTrue(ended >= 0 && ended < started, s.shardId() + " started at line " + started
                        + ", its parent " + parent + "'s end checkpointed at line " + ended);
            }
        }
    }

    /** shardEnded was called on each closed shard, and its SHARD_END checkpoint stored, after its last record. */
    private static void assertEveryClosedShardEndedWithACheckpoint(Set<String> closed, List<Event> events) {
        for (String shard : closed) {
            int ended = indexOf(events, e -> e instanceof ShardEnded && e.shardId().equals(shard));
            int checkpointed = indexOf(events, e -> e instanceof Checkpointed c && c.shardId().equals(shard)
                    && c.sequenceNumber().equals(SHARD_END));
            int lastRecord = lastIndexOf(events, e -> e instanceof Processed && e.shardId().equals(shard));
            assertTrue(lastRecord >= 0 && lastRecord < ended && ended < checkpointed, shard + ": last record at line "
                    + lastRecord + ", shardEnded at " + ended + ", SHARD_END checkpoint at " + checkpointed);
        }
    }

    private static List<String> parents(Shard s) {
        return Stream.of(s.parentShardId(), s.adjacentParentShardId()).filter(p -> p != null).toList();
    }

    private static int indexOf(List<Event> events, Predicate<Event> which) {
        for (int i = 0; i < events.size(); i++) {
            if (which.test(events.get(i))) return i;
        }
        return -1;
    }

    private static int lastIndexOf(List<Event> events, Predicate<Event> which) {
        for (int i = events.size() - 1; i >= 0; i--) {
            if (which.test(events.get(i))) return i;
        }
        return -1;
    }

    // --- the KCL's lease table, read with the SDK ------------------------------------------------------------

    /**
     * A lease per shard: a closed shard's at SHARD_END and naming its children (or deleted, once the KCL's cleanup
     * saw them progress: not before five minutes, which LeaseCleanupConfig fixes), a child's naming its parents,
     * an open shard's at a sequence number.
     *
     * @return how many closed shards' leases are still there
     */
    private int assertLeasesKeepTheLineage(List<Shard> shards, Set<String> closed) {
        int closedLeases = 0;
        Map<String, LeaseRow> leases = dynamo.scanPaginator(b -> b.tableName(APPLICATION).consistentRead(true)).items().stream()
                .map(item -> new LeaseRow(item.get("leaseKey").s(), item.get("checkpoint").s(), strings(item.get("parentShardId")),
                        strings(item.get("childShardIds"))))
                .collect(Collectors.toMap(LeaseRow::leaseKey, l -> l, (x, y) -> x, TreeMap::new));
        for (Shard s : shards) {
            LeaseRow lease = leases.get(s.shardId());
            if (lease == null) {
                assertTrue(closed.contains(s.shardId()), "no lease for the open shard " + s.shardId() + ": " + leases);
                continue;
            }
            assertEquals(Set.copyOf(parents(s)), lease.parentShardIds(), "parents in the lease of " + s.shardId());
            if (closed.contains(s.shardId())) {
                assertEquals(SHARD_END, lease.checkpoint(), "checkpoint of the closed shard " + s.shardId());
                assertEquals(children(shards, s.shardId()), lease.childShardIds(), "children in the lease of " + s.shardId());
                closedLeases++;
            } else {
                assertTrue(lease.checkpoint().chars().allMatch(Character::isDigit),
                        "the open shard " + s.shardId() + " is checkpointed at a record: " + lease.checkpoint());
            }
        }
        assertTrue(shards.stream().map(Shard::shardId).collect(Collectors.toSet()).containsAll(leases.keySet()),
                "leases only for the stream's shards: " + leases.keySet());
        return closedLeases;
    }

    private static Set<String> children(List<Shard> shards, String parent) {
        return shards.stream().filter(s -> parents(s).contains(parent)).map(Shard::shardId).collect(Collectors.toSet());
    }

    private static Set<String> strings(AttributeValue v) {
        return v == null ? Set.of() : Set.copyOf(v.ss());
    }

    // --- waiting -------------------------------------------------------------------------------------------

    /** Polls until the condition holds; fails with the worker's log if the deadline passes or the worker dies. */
    private void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return;
            if (!worker.isAlive()) fail(what + ": the worker died\n" + worker.tail(60));
            sleep(200);
        }
        fail(what + ": not within " + timeout + "; " + missing(worker.events()).size() + " of " + acked.size()
                + " records missing\n" + worker.tail(60));
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
