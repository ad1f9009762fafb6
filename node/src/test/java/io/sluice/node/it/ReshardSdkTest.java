package io.sluice.node.it;

import io.sluice.node.stream.StreamEntity;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.*;
import software.amazon.awssdk.services.kinesis.model.Record;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Resharding through the AWS SDK for Java v2 against a real node: SplitShard, MergeShards,
 * UpdateShardCount and UpdateStreamMode, every refusal in AWS's words (and that a refusal changes
 * nothing), lineage in ListShards under every ShardFilter, the end of a closed shard in GetRecords,
 * resharding an encrypted stream, and a generated workload of puts racing random reshards.
 *
 * <p>The node runs with small limits so that they can be reached: two UpdateShardCount calls per
 * stream and day, five open shards per stream, an account limit of {@value #SHARD_LIMIT} shards,
 * and a 64 KiB in-memory tail per shard (so reads of a resharded stream go to the journal).
 */
class ReshardSdkTest {
    static final String ACCOUNT = "000000000000";
    static final int SHARD_LIMIT = 80;
    static final int MAX_SHARDS_PER_STREAM = 5;
    static final BigInteger MAX_HASH_KEY = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
    static TestNode node;
    static KinesisClient kinesis;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), """
                sluice.stream.reshard.scalings-per-day = 2
                sluice.stream.reshard.max-shards-per-stream = %d
                sluice.stream.shard-limit = %d
                sluice.shard.tail-bytes = 64 KiB
                """.formatted(MAX_SHARDS_PER_STREAM, SHARD_LIMIT)).start();
        kinesis = node.kinesisClient();
    }

    @AfterAll
    static void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    // ---- helpers

    static void awaitActive(String stream) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (status(stream) == StreamStatus.ACTIVE) {
                return;
            }
            sleep(50);
        }
        fail(stream + " did not become ACTIVE");
    }

    static StreamStatus status(String stream) {
        return kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus();
    }

    static int openShardCount(String stream) {
        return kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().openShardCount();
    }

    static void create(String stream, int shards) {
        kinesis.createStream(b -> b.streamName(stream).shardCount(shards));
        awaitActive(stream);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    static String text(SdkBytes b) {
        return b.asString(StandardCharsets.UTF_8);
    }

    static String shardId(int index) {
        return String.format("shardId-%012d", index);
    }

    static BigInteger start(Shard s) {
        return new BigInteger(s.hashKeyRange().startingHashKey());
    }

    static BigInteger end(Shard s) {
        return new BigInteger(s.hashKeyRange().endingHashKey());
    }

    static BigInteger seq(String sequenceNumber) {
        return new BigInteger(sequenceNumber);
    }

    /** Every shard ListShards lists, page by page (with a filter, or none). */
    static List<Shard> shards(String stream, ShardFilter filter) {
        List<Shard> all = new ArrayList<>();
        ListShardsResponse page = kinesis.listShards(b -> b.streamName(stream).shardFilter(filter));
        all.addAll(page.shards());
        while (page.nextToken() != null) {
            String token = page.nextToken();
            page = kinesis.listShards(b -> b.nextToken(token));
            all.addAll(page.shards());
        }
        return all;
    }

    static List<Shard> shards(String stream) {
        return shards(stream, null);
    }

    static List<String> ids(List<Shard> shards) {
        return shards.stream().map(Shard::shardId).toList();
    }

    static Shard shard(List<Shard> shards, String id) {
        return shards.stream().filter(s -> s.shardId().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " not in " + ids(shards)));
    }

    static ShardFilter filter(ShardFilterType type) {
        return ShardFilter.builder().type(type).build();
    }

    static ShardFilter filter(ShardFilterType type, Instant at) {
        return ShardFilter.builder().type(type).timestamp(at).build();
    }

    /** The open shards, lowest hash keys first. */
    static List<Shard> openShards(String stream) {
        return shards(stream, filter(ShardFilterType.AT_LATEST)).stream().sorted(Comparator.comparing(ReshardSdkTest::start)).toList();
    }

    static String putAt(String stream, BigInteger hashKey, String data) {
        return kinesis.putRecord(b -> b.streamName(stream).partitionKey("p").explicitHashKey(hashKey.toString())
                .data(SdkBytes.fromUtf8String(data))).shardId();
    }

    /**
     * A call the node must refuse with {@code type} and exactly {@code message}, leaving the stream as
     * it was: still ACTIVE (a reshard taken by mistake would be UPDATING or would have changed the
     * shards) and ListShards listing the same shards.
     */
    static <E extends KinesisException> E refused(String stream, Class<E> type, String message, Executable call) {
        List<Shard> before = shards(stream);
        StreamStatus statusBefore = status(stream);
        E e = assertThrows(type, call);
        assertEquals(message, e.awsErrorDetails().errorMessage());
        assertEquals(type.getSimpleName(), e.awsErrorDetails().errorCode());
        assertEquals(statusBefore, status(stream), "a refused call changed the stream's status");
        assertEquals(before, shards(stream), "a refused call changed the shards");
        return e;
    }

    /** What GetRecords returned from an iterator of a closed shard to its end. */
    record ShardEnd(List<Record> records, List<ChildShard> children, int responses) {}

    /**
     * Reads a closed shard from {@code iterator} to its end as the KCL checks each answer: children
     * never beside a next iterator, and a missing next iterator always with children, each naming its
     * parents.
     */
    static ShardEnd readFrom(String iterator, Integer limit) {
        List<Record> records = new ArrayList<>();
        String it = iterator;
        for (int i = 0; i < 1000; i++) {
            String at = it;
            GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(at).limit(limit));
            records.addAll(r.records());
            it = r.nextShardIterator();
            if (it == null) {
                assertFalse(r.childShards().isEmpty(), "a shard end without children: " + r);
                for (ChildShard c : r.childShards()) {
                    assertFalse(c.parentShards().isEmpty(), c.toString());
                    assertNotNull(c.hashKeyRange(), c.toString());
                }
                return new ShardEnd(records, r.childShards(), i + 1);
            }
            assertTrue(r.childShards().isEmpty(), "children beside a next iterator: " + r);
        }
        throw new AssertionError("the closed shard never ended");
    }

    static String iterator(String stream, String shardId, ShardIteratorType type, String sequenceNumber) {
        return kinesis.getShardIterator(b -> b.streamName(stream).shardId(shardId).shardIteratorType(type)
                .startingSequenceNumber(sequenceNumber)).shardIterator();
    }

    static ShardEnd readToEnd(String stream, String shardId) {
        return readFrom(iterator(stream, shardId, ShardIteratorType.TRIM_HORIZON, null), null);
    }

    /** Every record of an open shard up to its tip. */
    static List<Record> readOpen(String stream, String shardId, Integer limit) {
        String it = iterator(stream, shardId, ShardIteratorType.TRIM_HORIZON, null);
        List<Record> records = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            String at = it;
            GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(at).limit(limit));
            assertTrue(r.childShards().isEmpty(), "children of an open shard: " + r);
            assertNotNull(r.nextShardIterator(), "an open shard ended");
            records.addAll(r.records());
            it = r.nextShardIterator();
            if (r.records().isEmpty() && r.millisBehindLatest() == 0) {
                return records;
            }
        }
        throw new AssertionError("never caught up with " + shardId);
    }

    static List<String> texts(List<Record> records) {
        return records.stream().map(r -> text(r.data())).toList();
    }

    /** The children GetRecords names, as comparable values: id, parents, hash key range. */
    static List<String> describe(List<ChildShard> children) {
        return children.stream().map(c -> c.shardId() + " " + c.parentShards() + " "
                + c.hashKeyRange().startingHashKey() + ".." + c.hashKeyRange().endingHashKey()).sorted().toList();
    }

    /** The same, from ListShards' lineage: the shards that name {@code parent}. */
    static List<String> childrenInListing(List<Shard> shards, String parent) {
        return shards.stream().filter(s -> parent.equals(s.parentShardId()) || parent.equals(s.adjacentParentShardId()))
                .map(s -> s.shardId() + " " + (s.adjacentParentShardId() == null ? List.of(s.parentShardId())
                        : List.of(s.parentShardId(), s.adjacentParentShardId())) + " "
                        + s.hashKeyRange().startingHashKey() + ".." + s.hashKeyRange().endingHashKey()).sorted().toList();
    }

    // ---- SplitShard, MergeShards, UpdateShardCount, UpdateStreamMode

    @Test
    void updateShardCountSplitsEveryShardAndTheirEndsNameTheChildren() {
        String stream = "scale-up";
        kinesis.createStream(b -> b.streamName(stream).shardCount(2));
        awaitActive(stream);
        for (int i = 0; i < 20; i++) {
            int n = i;
            kinesis.putRecord(b -> b.streamName(stream).partitionKey("k" + n).data(SdkBytes.fromUtf8String("before-" + n)));
        }
        UpdateShardCountResponse answer = kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(4)
                .scalingType(ScalingType.UNIFORM_SCALING));
        assertEquals(2, answer.currentShardCount());
        assertEquals(4, answer.targetShardCount());
        awaitActive(stream);
        List<Shard> shards = kinesis.listShards(b -> b.streamName(stream)).shards();
        assertEquals(6, shards.size(), shards::toString);
        assertEquals(4, kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().openShardCount());
        for (int i = 0; i < 20; i++) {
            int n = i;
            PutRecordResponse put = kinesis.putRecord(b -> b.streamName(stream).partitionKey("k" + n)
                    .data(SdkBytes.fromUtf8String("after-" + n)));
            assertTrue(put.shardId().compareTo("shardId-000000000001") > 0, put.shardId());
        }
        List<ChildShard> children = new ArrayList<>();
        ShardEnd parent0 = readToEnd(stream, "shardId-000000000000");
        ShardEnd parent1 = readToEnd(stream, "shardId-000000000001");
        children.addAll(parent0.children());
        children.addAll(parent1.children());
        assertEquals(20, parent0.records().size() + parent1.records().size());
        assertEquals(4, children.size(), children::toString);
        for (ChildShard c : children) {
            assertEquals(1, c.parentShards().size());
        }
        // LATEST on a closed shard: its end at once
        String latest = kinesis.getShardIterator(b -> b.streamName(stream).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.LATEST)).shardIterator();
        GetRecordsResponse end = kinesis.getRecords(b -> b.shardIterator(latest));
        assertNull(end.nextShardIterator());
        assertEquals(2, end.childShards().size());
    }

    @Test
    void splitShardClosesTheParentAndOpensTwoChildrenThatPartitionItsRange() {
        String stream = "split";
        create(stream, 2);
        Shard parent = shard(shards(stream), shardId(0));
        BigInteger lo = start(parent);
        BigInteger hi = end(parent);
        BigInteger at = lo.add(hi.subtract(lo).divide(BigInteger.valueOf(3)));
        for (BigInteger key : List.of(lo, at.subtract(BigInteger.ONE), at, hi)) {
            assertEquals(shardId(0), putAt(stream, key, "before-" + key));
        }

        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey(at.toString()));
        awaitActive(stream);

        List<Shard> shards = shards(stream);
        assertEquals(List.of(shardId(0), shardId(1), shardId(2), shardId(3)), ids(shards), "the numbering goes on");
        Shard closed = shard(shards, shardId(0));
        Shard lower = shard(shards, shardId(2));
        Shard upper = shard(shards, shardId(3));
        assertEquals(parent.hashKeyRange(), closed.hashKeyRange());
        assertEquals(lo, start(lower));
        assertEquals(at.subtract(BigInteger.ONE), end(lower));
        assertEquals(at, start(upper));
        assertEquals(hi, end(upper));
        for (Shard child : List.of(lower, upper)) {
            assertEquals(shardId(0), child.parentShardId());
            assertNull(child.adjacentParentShardId());
            assertNull(child.sequenceNumberRange().endingSequenceNumber(), "an open child has no end");
            BigInteger childStart = seq(child.sequenceNumberRange().startingSequenceNumber());
            assertTrue(childStart.compareTo(seq(closed.sequenceNumberRange().startingSequenceNumber())) > 0);
            assertTrue(childStart.compareTo(seq(closed.sequenceNumberRange().endingSequenceNumber())) > 0,
                    "a child's numbers come after its parent's");
        }
        assertNotNull(closed.sequenceNumberRange().endingSequenceNumber(), "the parent has an end");
        assertNull(shard(shards, shardId(1)).sequenceNumberRange().endingSequenceNumber(), "the other shard stays open");
        assertEquals(3, openShardCount(stream));
        assertEquals(shards, kinesis.describeStream(b -> b.streamName(stream)).streamDescription().shards(),
                "DescribeStream lists what ListShards lists");

        // new records go where their hash key now lives
        assertEquals(shardId(2), putAt(stream, lo, "after-lo"));
        assertEquals(shardId(2), putAt(stream, at.subtract(BigInteger.ONE), "after-below"));
        assertEquals(shardId(3), putAt(stream, at, "after-at"));
        assertEquals(shardId(3), putAt(stream, hi, "after-hi"));
        assertEquals(shardId(1), putAt(stream, hi.add(BigInteger.ONE), "after-other"));

        ShardEnd end = readToEnd(stream, shardId(0));
        assertEquals(List.of("before-" + lo, "before-" + at.subtract(BigInteger.ONE), "before-" + at, "before-" + hi),
                texts(end.records()));
        BigInteger ending = seq(closed.sequenceNumberRange().endingSequenceNumber());
        for (Record r : end.records()) {
            assertTrue(seq(r.sequenceNumber()).compareTo(ending) < 0, "a record after its shard's end");
        }
        assertEquals(childrenInListing(shards, shardId(0)), describe(end.children()));
        assertEquals(List.of("after-lo", "after-below"), texts(readOpen(stream, shardId(2), null)));
        assertEquals(List.of("after-at", "after-hi"), texts(readOpen(stream, shardId(3), null)));
    }

    @Test
    void splitShardAcceptsTheExtremeStartingHashKeys() {
        String stream = "split-extremes";
        create(stream, 1);
        // greater than one plus the start, and less than the end: the smallest and largest allowed
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey("2"));
        awaitActive(stream);
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(2))
                .newStartingHashKey(MAX_HASH_KEY.subtract(BigInteger.ONE).toString()));
        awaitActive(stream);
        List<Shard> open = openShards(stream);
        assertEquals(List.of(shardId(1), shardId(3), shardId(4)), ids(open));
        assertEquals(List.of("0", "1"), List.of(open.get(0).hashKeyRange().startingHashKey(), open.get(0).hashKeyRange().endingHashKey()));
        assertEquals(MAX_HASH_KEY.subtract(BigInteger.ONE), start(open.get(2)));
        assertEquals(MAX_HASH_KEY, end(open.get(2)));
        assertEquals(shardId(1), putAt(stream, BigInteger.ONE, "one"));
        assertEquals(shardId(4), putAt(stream, MAX_HASH_KEY, "max"));
    }

    @Test
    void mergeShardsClosesBothAndOpensOneChildCoveringTheirUnion() {
        String stream = "merge";
        create(stream, 3);
        List<Shard> before = shards(stream);
        Shard a = shard(before, shardId(1));
        Shard b = shard(before, shardId(2));
        putAt(stream, start(a), "a");
        putAt(stream, start(b), "b");

        kinesis.mergeShards(r -> r.streamName(stream).shardToMerge(shardId(1)).adjacentShardToMerge(shardId(2)));
        awaitActive(stream);

        List<Shard> shards = shards(stream);
        assertEquals(List.of(shardId(0), shardId(1), shardId(2), shardId(3)), ids(shards));
        Shard child = shard(shards, shardId(3));
        assertEquals(shardId(1), child.parentShardId(), "ShardToMerge is the parent");
        assertEquals(shardId(2), child.adjacentParentShardId());
        assertEquals(start(a), start(child));
        assertEquals(end(b), end(child));
        for (String id : List.of(shardId(1), shardId(2))) {
            Shard parent = shard(shards, id);
            assertNotNull(parent.sequenceNumberRange().endingSequenceNumber());
            assertTrue(seq(child.sequenceNumberRange().startingSequenceNumber())
                    .compareTo(seq(parent.sequenceNumberRange().endingSequenceNumber())) > 0);
        }
        assertEquals(2, openShardCount(stream));
        assertEquals(shardId(3), putAt(stream, start(a), "a2"));
        assertEquals(shardId(3), putAt(stream, end(b), "b2"));

        // both parents end in the same child, which names both
        for (String parent : List.of(shardId(1), shardId(2))) {
            ShardEnd end = readToEnd(stream, parent);
            assertEquals(List.of(parent.equals(shardId(1)) ? "a" : "b"), texts(end.records()));
            assertEquals(List.of(shardId(3) + " " + List.of(shardId(1), shardId(2)) + " " + start(a) + ".." + end(b)),
                    describe(end.children()));
        }
        assertEquals(List.of("a2", "b2"), texts(readOpen(stream, shardId(3), null)));
    }

    @Test
    void updateShardCountGoesFromTwoToFourAndBackToTwoByExactSplitsAndMerges() {
        String stream = "two-four-two";
        create(stream, 2);
        List<Shard> original = shards(stream);

        UpdateShardCountResponse up = kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(4)
                .scalingType(ScalingType.UNIFORM_SCALING));
        assertEquals(2, up.currentShardCount());
        assertEquals(4, up.targetShardCount());
        assertEquals(stream, up.streamName());
        assertEquals("arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + stream, up.streamARN());
        awaitActive(stream);
        assertEquals(4, openShardCount(stream));
        List<Shard> four = openShards(stream);
        assertEquals(List.of(shardId(2), shardId(3), shardId(4), shardId(5)), ids(four));
        for (int i = 0; i < 4; i++) {
            Shard s = four.get(i);
            Shard parent = original.get(i / 2);
            assertEquals(parent.shardId(), s.parentShardId(), "each half comes from the shard it halves");
            assertNull(s.adjacentParentShardId());
            // a uniform layout: each a quarter of the key space
            assertEquals(BigInteger.ONE.shiftLeft(126).multiply(BigInteger.valueOf(i)), start(s));
        }
        assertEquals(MAX_HASH_KEY, end(four.get(3)));

        UpdateShardCountResponse down = kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(2)
                .scalingType(ScalingType.UNIFORM_SCALING));
        assertEquals(4, down.currentShardCount());
        assertEquals(2, down.targetShardCount());
        awaitActive(stream);
        assertEquals(2, openShardCount(stream));
        List<Shard> two = openShards(stream);
        assertEquals(List.of(shardId(6), shardId(7)), ids(two));
        for (int i = 0; i < 2; i++) {
            Shard merged = two.get(i);
            assertEquals(four.get(2 * i).shardId(), merged.parentShardId(), "4 -> 2 merges neighbours");
            assertEquals(four.get(2 * i + 1).shardId(), merged.adjacentParentShardId());
            assertEquals(original.get(i).hashKeyRange(), merged.hashKeyRange(), "back to the original layout");
        }
        assertEquals(8, shards(stream).size());
        assertEquals(8, kinesis.describeStream(b -> b.streamName(stream)).streamDescription().shards().size());
    }

    @Test
    void updateStreamModeSwitchesToOnDemandAndBackAndTheSameModeChangesNothing() {
        String stream = "mode";
        create(stream, 2);
        String arn = "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + stream;
        kinesis.updateStreamMode(b -> b.streamARN(arn).streamModeDetails(d -> d.streamMode(StreamMode.ON_DEMAND)));
        // UPDATING needs nobody's agreement and ends at once; it may be over before anyone can look
        assertTrue(Set.of(StreamStatus.UPDATING, StreamStatus.ACTIVE).contains(status(stream)));
        awaitActive(stream);
        assertEquals(StreamMode.ON_DEMAND, kinesis.describeStreamSummary(b -> b.streamName(stream))
                .streamDescriptionSummary().streamModeDetails().streamMode());
        assertEquals(StreamMode.ON_DEMAND, kinesis.describeStream(b -> b.streamName(stream))
                .streamDescription().streamModeDetails().streamMode());
        assertEquals(StreamMode.ON_DEMAND, kinesis.listStreams().streamSummaries().stream()
                .filter(s -> s.streamName().equals(stream)).findFirst().orElseThrow().streamModeDetails().streamMode());

        // an on-demand stream scales itself: no reshards
        String onDemand = "Request is invalid. Stream " + stream + " under account " + ACCOUNT + " is in On-Demand mode.";
        refused(stream, ValidationException.class, onDemand, () -> kinesis.updateShardCount(b -> b.streamName(stream)
                .targetShardCount(3).scalingType(ScalingType.UNIFORM_SCALING)));
        refused(stream, ValidationException.class, onDemand, () -> kinesis.splitShard(b -> b.streamName(stream)
                .shardToSplit(shardId(0)).newStartingHashKey("1000")));
        refused(stream, ValidationException.class, onDemand, () -> kinesis.mergeShards(b -> b.streamName(stream)
                .shardToMerge(shardId(0)).adjacentShardToMerge(shardId(1))));

        // the same mode again: nothing to do, and the stream stays ACTIVE
        kinesis.updateStreamMode(b -> b.streamARN(arn).streamModeDetails(d -> d.streamMode(StreamMode.ON_DEMAND)));
        assertEquals(StreamStatus.ACTIVE, status(stream));

        kinesis.updateStreamMode(b -> b.streamARN(arn).streamModeDetails(d -> d.streamMode(StreamMode.PROVISIONED)));
        awaitActive(stream);
        assertEquals(StreamMode.PROVISIONED, kinesis.describeStreamSummary(b -> b.streamName(stream))
                .streamDescriptionSummary().streamModeDetails().streamMode());
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey("1000"));
        awaitActive(stream);
        assertEquals(3, openShardCount(stream));
    }

    // ---- refusals

    @Test
    void refusesSplitsAndMergesOfClosedUnknownOrNonAdjacentShards() {
        String stream = "refusals";
        create(stream, 3);
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey("1000"));
        awaitActive(stream);
        String in = " in stream " + stream + " under account " + ACCOUNT;

        String closed = "Shard " + shardId(0) + in + " has already been merged or split, and thus is not eligible for merging or splitting.";
        refused(stream, InvalidArgumentException.class, closed,
                () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey("500")));
        refused(stream, InvalidArgumentException.class, closed,
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(0)).adjacentShardToMerge(shardId(1))));
        refused(stream, InvalidArgumentException.class, closed,
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(4)).adjacentShardToMerge(shardId(0))));

        refused(stream, ResourceNotFoundException.class, "Could not find shard " + shardId(99) + in + ".",
                () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(99)).newStartingHashKey("500")));
        refused(stream, ResourceNotFoundException.class, "Could not find shard " + shardId(99) + in + ".",
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(1)).adjacentShardToMerge(shardId(99))));
        refused(stream, ResourceNotFoundException.class, "Could not find shard shardId-1" + in + ".",
                () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit("shardId-1").newStartingHashKey("500")));

        // the split made 3 = [0, 999] and 4 = [1000, end of 0]: from low keys to high, 3, 4, 1, 2
        List<Shard> open = openShards(stream);
        assertEquals(List.of(shardId(3), shardId(4), shardId(1), shardId(2)), ids(open));
        refused(stream, InvalidArgumentException.class, "Shards " + shardId(3) + " and " + shardId(1) + in
                        + " are not an adjacent pair of shards eligible for merging",
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(3)).adjacentShardToMerge(shardId(1))));
        // adjacent, but in the wrong order: AWS wants ShardToMerge's range right below AdjacentShardToMerge's
        refused(stream, InvalidArgumentException.class, "Shards " + shardId(2) + " and " + shardId(1) + in
                        + " are not an adjacent pair of shards eligible for merging",
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(2)).adjacentShardToMerge(shardId(1))));
        refused(stream, InvalidArgumentException.class, "Shards " + shardId(1) + " and " + shardId(1) + in
                        + " are not an adjacent pair of shards eligible for merging",
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(1)).adjacentShardToMerge(shardId(1))));

        refused(stream, ResourceNotFoundException.class, "Stream no-such-stream under account " + ACCOUNT + " not found.",
                () -> kinesis.splitShard(b -> b.streamName("no-such-stream").shardToSplit(shardId(0)).newStartingHashKey("500")));
        refused(stream, ResourceNotFoundException.class, "Stream no-such-stream under account " + ACCOUNT + " not found.",
                () -> kinesis.updateShardCount(b -> b.streamName("no-such-stream").targetShardCount(2)
                        .scalingType(ScalingType.UNIFORM_SCALING)));

        // and the right order is taken
        kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(1)).adjacentShardToMerge(shardId(2)));
        awaitActive(stream);
        assertEquals(List.of(shardId(3), shardId(4), shardId(5)), ids(openShards(stream)));
    }

    @Test
    void refusesNewStartingHashKeysThatLeaveAChildEmptyOrLieOutsideTheShard() {
        String stream = "hash-keys";
        create(stream, 2);
        Shard s = shard(shards(stream), shardId(0));
        BigInteger lo = start(s);
        BigInteger hi = end(s);
        for (BigInteger key : List.of(lo, lo.add(BigInteger.ONE), hi, hi.add(BigInteger.ONE), MAX_HASH_KEY)) {
            refused(stream, InvalidArgumentException.class, "NewStartingHashKey " + key + " used in SplitShard() on shard "
                            + shardId(0) + " in stream " + stream + " under account " + ACCOUNT
                            + " is not both greater than one plus the shard's StartingHashKey " + lo
                            + " and less than the shard's EndingHashKey " + hi + ".",
                    () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey(key.toString())));
        }
        refused(stream, ValidationException.class, "1 validation error detected: Value '-1' at 'newStartingHashKey' failed to "
                        + "satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
                () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey("-1")));
    }

    @Test
    void refusesUpdateShardCountBeyondDoubleOrBelowHalfTheOpenShards() {
        String stream = "double-half";
        create(stream, 4);
        refused(stream, LimitExceededException.class, "UpdateShardCount cannot scale up over double your current open shard count. "
                        + "Current open shard count: 4 Target shard count: 9",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(9).scalingType(ScalingType.UNIFORM_SCALING)));
        refused(stream, LimitExceededException.class, "UpdateShardCount cannot scale down below half your current open shard count. "
                        + "Current open shard count: 4 Target shard count: 1",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(1).scalingType(ScalingType.UNIFORM_SCALING)));
        // exactly half is allowed (and refusals did not use up the day's two scalings)
        kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(2).scalingType(ScalingType.UNIFORM_SCALING));
        awaitActive(stream);
        assertEquals(2, openShardCount(stream));
        kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(4).scalingType(ScalingType.UNIFORM_SCALING));
        awaitActive(stream);
        assertEquals(4, openShardCount(stream));
    }

    @Test
    void refusesAThirdUpdateShardCountInADayButStillSplitsAndMerges() {
        String stream = "daily";
        create(stream, 1);
        kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(2).scalingType(ScalingType.UNIFORM_SCALING));
        awaitActive(stream);
        kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(1).scalingType(ScalingType.UNIFORM_SCALING));
        awaitActive(stream);
        refused(stream, LimitExceededException.class, "Cannot run UpdateShardCount more than 2 times in a 24 hour period",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(2).scalingType(ScalingType.UNIFORM_SCALING)));
        // the limit is UpdateShardCount's alone
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(3)).newStartingHashKey("1000"));
        awaitActive(stream);
        kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(4)).adjacentShardToMerge(shardId(5)));
        awaitActive(stream);
        assertEquals(List.of(shardId(6)), ids(openShards(stream)));
    }

    @Test
    void refusesMoreOpenShardsThanTheStreamMaximum() {
        String stream = "per-stream-max";
        create(stream, 3);
        refused(stream, LimitExceededException.class, "Target shard count or number of open shards cannot be greater than "
                        + MAX_SHARDS_PER_STREAM + ". Current open shard count: 3, Target shard count: 6",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(6).scalingType(ScalingType.UNIFORM_SCALING)));
        kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(5).scalingType(ScalingType.UNIFORM_SCALING));
        awaitActive(stream);
        Shard first = openShards(stream).get(0);
        refused(stream, LimitExceededException.class, "Target shard count or number of open shards cannot be greater than "
                        + MAX_SHARDS_PER_STREAM + ". Current open shard count: 5, Target shard count: 6",
                () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(first.shardId())
                        .newStartingHashKey(start(first).add(BigInteger.TEN).toString())));
    }

    @Test
    void refusesReshardsBeyondTheAccountShardLimitButMergesAtIt() {
        sleep(1200); // front ends cache other streams' metadata for a second: let every count be fresh
        int open = kinesis.describeLimits().openShardCount();
        int filler = SHARD_LIMIT - open - 2;
        assertTrue(filler > 0, "the other tests left no room: " + open + " open shards");
        create("account-filler", filler);
        String stream = "account-limit";
        create(stream, 2);
        assertEquals(SHARD_LIMIT, kinesis.describeLimits().openShardCount());
        try {
            String prefix = "This request would exceed the shard limit for the account " + ACCOUNT + " in us-east-1. "
                    + "Current shard count for the account: " + SHARD_LIMIT + ". Limit: " + SHARD_LIMIT + ". "
                    + "Number of additional shards that would have resulted from this request: ";
            refused(stream, LimitExceededException.class, prefix + "1.",
                    () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey("1000")));
            refused(stream, LimitExceededException.class, prefix + "2.",
                    () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(4).scalingType(ScalingType.UNIFORM_SCALING)));
            // fewer shards are always fine
            kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(0)).adjacentShardToMerge(shardId(1)));
            awaitActive(stream);
            assertEquals(1, openShardCount(stream));
        } finally {
            kinesis.deleteStream(b -> b.streamName("account-filler"));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    kinesis.describeStreamSummary(b -> b.streamName("account-filler"));
                    sleep(100);
                } catch (ResourceNotFoundException gone) {
                    break;
                }
            }
        }
    }

    @Test
    void refusesABadScalingTypeAndMissingFieldsAsValidationErrors() {
        String stream = "validation";
        create(stream, 2);
        String arn = "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + stream;
        refused(stream, ValidationException.class, "1 validation error detected: Value 'HALVING' at 'scalingType' failed to satisfy "
                        + "constraint: Member must satisfy enum value set: [UNIFORM_SCALING]",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(3).scalingType("HALVING")));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'scalingType' failed to satisfy "
                        + "constraint: Member must not be null",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(3)));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'targetShardCount' failed to satisfy "
                        + "constraint: Member must not be null",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).scalingType(ScalingType.UNIFORM_SCALING)));
        refused(stream, ValidationException.class, "1 validation error detected: Value '0' at 'targetShardCount' failed to satisfy "
                        + "constraint: Member must have value greater than or equal to 1",
                () -> kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(0).scalingType(ScalingType.UNIFORM_SCALING)));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'newStartingHashKey' failed to satisfy "
                        + "constraint: Member must not be null",
                () -> kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0))));
        refused(stream, ValidationException.class, "2 validation errors detected: Value null at 'shardToSplit' failed to satisfy "
                        + "constraint: Member must not be null; Value null at 'newStartingHashKey' failed to satisfy constraint: "
                        + "Member must not be null",
                () -> kinesis.splitShard(b -> b.streamName(stream)));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'adjacentShardToMerge' failed to "
                        + "satisfy constraint: Member must not be null",
                () -> kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(0))));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'shardToMerge' failed to "
                        + "satisfy constraint: Member must not be null",
                () -> kinesis.mergeShards(b -> b.streamName(stream).adjacentShardToMerge(shardId(1))));
        refused(stream, ValidationException.class, "Either StreamName or StreamARN should be provided.",
                () -> kinesis.splitShard(b -> b.shardToSplit(shardId(0)).newStartingHashKey("1000")));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'streamModeDetails' failed to "
                        + "satisfy constraint: Member must not be null",
                () -> kinesis.updateStreamMode(b -> b.streamARN(arn)));
        refused(stream, ValidationException.class, "1 validation error detected: Value 'SOMETIMES' at 'streamModeDetails.streamMode' "
                        + "failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]",
                () -> kinesis.updateStreamMode(b -> b.streamARN(arn).streamModeDetails(d -> d.streamMode("SOMETIMES"))));
        refused(stream, ValidationException.class, "1 validation error detected: Value null at 'streamARN' failed to "
                        + "satisfy constraint: Member must not be null",
                () -> kinesis.updateStreamMode(b -> b.streamModeDetails(d -> d.streamMode(StreamMode.ON_DEMAND))));
    }

    /**
     * A reshard arriving while another is under way is refused. Whether a second call over HTTP finds
     * the first still under way is a matter of timing (a reshard is a few Cassandra writes), so the
     * stream entity is first sent both back to back, the way two front ends can, and must refuse the
     * second; then, over the wire, a second call right after the first is either refused in the same
     * words or (printed) taken because the first was already done.
     */
    @Test
    void refusesAReshardWhileTheStreamIsUpdating() throws Exception {
        String stream = "busy";
        create(stream, 4);
        String notActive = "Stream " + stream + " under account " + ACCOUNT + " not ACTIVE, instead in state UPDATING";
        EntityRef<StreamEntity.Command> entity = ClusterSharding.get(node.running().system())
                .entityRefFor(StreamEntity.ENTITY_KEY, stream);
        CompletableFuture<StreamEntity.ReshardAccepted> first = entity.<StreamEntity.ReshardAccepted>askWithStatus(
                r -> new StreamEntity.Reshard(new StreamEntity.ScaleRequest(3), 0, r), Duration.ofSeconds(10)).toCompletableFuture();
        CompletableFuture<StreamEntity.ReshardAccepted> second = entity.<StreamEntity.ReshardAccepted>askWithStatus(
                r -> new StreamEntity.Reshard(new StreamEntity.SplitRequest(shardId(0), "1000"), 0, r), Duration.ofSeconds(10))
                .toCompletableFuture();
        assertEquals(new StreamEntity.ReshardAccepted(4, 3), first.get(10, TimeUnit.SECONDS));
        ExecutionException e = assertThrows(ExecutionException.class, () -> second.get(10, TimeUnit.SECONDS));
        ApiException refusal = assertInstanceOf(ApiException.class, e.getCause());
        assertEquals(AwsError.ResourceInUseException, refusal.error());
        assertEquals(notActive, refusal.getMessage());
        awaitActive(stream);
        assertEquals(3, openShardCount(stream));
        assertTrue(shards(stream).stream().noneMatch(s -> s.hashKeyRange().startingHashKey().equals("1000")),
                "the refused split happened");

        // over the wire: 3 -> 2 is a wave of merges after a wave of splits; the second call races it
        kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(2).scalingType(ScalingType.UNIFORM_SCALING));
        Shard any = openShards(stream).get(0);
        try {
            kinesis.splitShard(b -> b.streamName(stream).shardToSplit(any.shardId())
                    .newStartingHashKey(start(any).add(BigInteger.TEN).toString()));
            System.out.println("refusesAReshardWhileTheStreamIsUpdating: the first reshard was over before the second arrived");
        } catch (ResourceInUseException busy) {
            assertEquals(notActive, busy.awsErrorDetails().errorMessage());
        } catch (InvalidArgumentException closedMeanwhile) {
            // the shard named was closed by the first reshard's waves: refused as a closed shard
            assertTrue(closedMeanwhile.awsErrorDetails().errorMessage().contains("has already been merged or split"),
                    closedMeanwhile.getMessage());
        }
        awaitActive(stream);
    }

    // ---- ListShards filters

    @Test
    void listShardsFiltersPickParentsBeforeAReshardAndChildrenAfter() {
        String stream = "filters";
        create(stream, 2);
        sleep(5); // the stream's creation is before t0
        Instant beforeSplit = Instant.now();
        sleep(5);
        Shard parent = shard(shards(stream), shardId(0));
        BigInteger at = start(parent).add(end(parent)).shiftRight(1);
        long t0 = System.currentTimeMillis();
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey(at.toString()));
        awaitActive(stream);
        long t1 = System.currentTimeMillis();
        sleep(5);
        Instant afterSplit = Instant.now();

        List<String> all = List.of(shardId(0), shardId(1), shardId(2), shardId(3));
        List<String> parents = List.of(shardId(0), shardId(1));
        List<String> open = List.of(shardId(1), shardId(2), shardId(3));
        assertEquals(all, ids(shards(stream)));
        assertEquals(open, ids(shards(stream, ShardFilter.builder().type(ShardFilterType.AFTER_SHARD_ID).shardId(shardId(0)).build())));
        assertEquals(List.of(shardId(3)), ids(shards(stream, ShardFilter.builder().type(ShardFilterType.AFTER_SHARD_ID)
                .shardId(shardId(2)).build())));
        assertEquals(parents, ids(shards(stream, filter(ShardFilterType.AT_TRIM_HORIZON))), "open at the trim horizon (creation)");
        assertEquals(all, ids(shards(stream, filter(ShardFilterType.FROM_TRIM_HORIZON))));
        assertEquals(open, ids(shards(stream, filter(ShardFilterType.AT_LATEST))));
        assertEquals(parents, ids(shards(stream, filter(ShardFilterType.AT_TIMESTAMP, beforeSplit))));
        assertEquals(open, ids(shards(stream, filter(ShardFilterType.AT_TIMESTAMP, afterSplit))));
        assertEquals(parents, ids(shards(stream, filter(ShardFilterType.AT_TIMESTAMP, Instant.EPOCH))),
                "a time before the trim horizon counts as the trim horizon");
        assertEquals(all, ids(shards(stream, filter(ShardFilterType.FROM_TIMESTAMP, beforeSplit))));
        assertEquals(open, ids(shards(stream, filter(ShardFilterType.FROM_TIMESTAMP, afterSplit))));

        // at every moment of the reshard, AT_TIMESTAMP covers every hash key: the parent until it
        // closed, the children from then on (the KCL refuses to start on a hash range with a gap)
        Set<List<String>> allowed = Set.of(parents, open, all);
        for (long t = t0 - 2; t <= t1 + 2; t++) {
            Instant moment = Instant.ofEpochMilli(t);
            List<Shard> atThen = shards(stream, filter(ShardFilterType.AT_TIMESTAMP, moment));
            assertTrue(allowed.contains(ids(atThen)), "AT_TIMESTAMP " + moment + " gave " + ids(atThen));
        }
    }

    @Test
    void listShardsPagesKeepTheFilterAndRefuseAFilterBesideANextToken() {
        String stream = "filter-pages";
        create(stream, 3);
        kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(shardId(0)).adjacentShardToMerge(shardId(1)));
        awaitActive(stream);
        // AT_LATEST, one shard a page: 2, 3, and never the closed 0 and 1
        List<String> paged = new ArrayList<>();
        ListShardsResponse page = kinesis.listShards(b -> b.streamName(stream).shardFilter(filter(ShardFilterType.AT_LATEST)).maxResults(1));
        int pages = 1;
        paged.addAll(ids(page.shards()));
        while (page.nextToken() != null) {
            String token = page.nextToken();
            page = kinesis.listShards(b -> b.nextToken(token).maxResults(1));
            paged.addAll(ids(page.shards()));
            pages++;
        }
        assertEquals(List.of(shardId(2), shardId(3)), paged);
        assertTrue(pages >= 2, "one shard per page");

        String token = kinesis.listShards(b -> b.streamName(stream).maxResults(1)).nextToken();
        assertNotNull(token);
        refused(stream, InvalidArgumentException.class, "NextToken and ShardFilter cannot be provided together.",
                () -> kinesis.listShards(b -> b.nextToken(token).shardFilter(filter(ShardFilterType.AT_LATEST))));
        refused(stream, InvalidArgumentException.class, "NextToken and StreamName cannot be provided together.",
                () -> kinesis.listShards(b -> b.nextToken(token).streamName(stream)));
        refused(stream, InvalidArgumentException.class, "ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID",
                () -> kinesis.listShards(b -> b.streamName(stream).shardFilter(filter(ShardFilterType.AFTER_SHARD_ID))));
        for (ShardFilterType timed : List.of(ShardFilterType.AT_TIMESTAMP, ShardFilterType.FROM_TIMESTAMP)) {
            refused(stream, InvalidArgumentException.class, "Timestamp must be supplied in a ShardFilter with a Type of FROM_TIMESTAMP or AT_TIMESTAMP",
                    () -> kinesis.listShards(b -> b.streamName(stream).shardFilter(filter(timed))));
        }

        // the KCL names the stream both ways on its first page
        String arn = "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + stream;
        assertEquals(List.of(shardId(2), shardId(3)), ids(kinesis.listShards(b -> b.streamName(stream).streamARN(arn)
                .shardFilter(filter(ShardFilterType.AT_LATEST))).shards()));
    }

    // ---- the end of a closed shard

    @Test
    void aClosedShardEndsWithItsChildrenFromEveryKindOfIterator() {
        String stream = "shard-end";
        create(stream, 1);
        List<String> written = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            written.add("r" + i);
            kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String(written.get(written.size() - 1))));
        }
        BigInteger at = BigInteger.ONE.shiftLeft(127);
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey(at.toString()));
        awaitActive(stream);
        List<Shard> shards = shards(stream);
        List<String> expectedChildren = childrenInListing(shards, shardId(0));
        assertEquals(2, expectedChildren.size());

        // TRIM_HORIZON, a few records a call: the records, then the children and no iterator
        ShardEnd paged = readFrom(iterator(stream, shardId(0), ShardIteratorType.TRIM_HORIZON, null), 3);
        assertEquals(written, texts(paged.records()));
        assertTrue(paged.responses() >= 3, "paged by 3: " + paged.responses());
        assertEquals(expectedChildren, describe(paged.children()));
        String last = paged.records().get(paged.records().size() - 1).sequenceNumber();
        String ending = shard(shards, shardId(0)).sequenceNumberRange().endingSequenceNumber();
        assertTrue(seq(last).compareTo(seq(ending)) < 0);

        // LATEST: nothing, at the end at once
        ShardEnd latest = readFrom(iterator(stream, shardId(0), ShardIteratorType.LATEST, null), null);
        assertEquals(List.of(), latest.records());
        assertEquals(1, latest.responses());
        assertEquals(expectedChildren, describe(latest.children()));
        // AT the last record: that record, then the end
        ShardEnd atLast = readFrom(iterator(stream, shardId(0), ShardIteratorType.AT_SEQUENCE_NUMBER, last), null);
        assertEquals(List.of("r6"), texts(atLast.records()));
        assertEquals(expectedChildren, describe(atLast.children()));
        // AFTER the last record: the end
        ShardEnd afterLast = readFrom(iterator(stream, shardId(0), ShardIteratorType.AFTER_SEQUENCE_NUMBER, last), null);
        assertEquals(List.of(), afterLast.records());
        assertEquals(expectedChildren, describe(afterLast.children()));
        // AT_TIMESTAMP of now: nothing arrived since, so the end
        ShardEnd now = readFrom(kinesis.getShardIterator(b -> b.streamName(stream).shardId(shardId(0))
                .shardIteratorType(ShardIteratorType.AT_TIMESTAMP).timestamp(Instant.now())).shardIterator(), null);
        assertEquals(List.of(), now.records());
        assertEquals(expectedChildren, describe(now.children()));

        // a child reads on: open, no children, its own records only
        kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String("child")));
        BigInteger k = md5("k");
        String child = shards.stream().filter(s -> s.sequenceNumberRange().endingSequenceNumber() == null)
                .filter(s -> start(s).compareTo(k) <= 0 && end(s).compareTo(k) >= 0).findFirst().orElseThrow().shardId();
        assertEquals(List.of("child"), texts(readOpen(stream, child, null)));
    }

    static BigInteger md5(String partitionKey) {
        try {
            return new BigInteger(1, MessageDigest.getInstance("MD5").digest(partitionKey.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The parents of a shard not yet read to their ends. */
    static Set<String> parentsOf(Shard s, Set<String> finished) {
        Set<String> parents = new HashSet<>();
        if (s.parentShardId() != null) parents.add(s.parentShardId());
        if (s.adjacentParentShardId() != null) parents.add(s.adjacentParentShardId());
        parents.removeAll(finished);
        return parents;
    }

    // ---- encryption

    @Test
    void anEncryptedStreamsChildrenKeepEncryptingAndAReshardWaitsForEncryptionToSettle() throws Exception {
        String stream = "encrypted";
        create(stream, 1);
        kinesis.startStreamEncryption(b -> b.streamName(stream).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        awaitActive(stream);
        sleep(1200); // front ends may cache stream metadata for a second
        for (int i = 0; i < 5; i++) {
            String data = "secret-" + i;
            assertEquals(EncryptionType.KMS, kinesis.putRecord(b -> b.streamName(stream).partitionKey(data)
                    .data(SdkBytes.fromUtf8String(data))).encryptionType());
        }
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(shardId(0)).newStartingHashKey(BigInteger.ONE.shiftLeft(127).toString()));
        awaitActive(stream);
        for (int i = 5; i < 10; i++) {
            String data = "secret-" + i;
            PutRecordResponse put = kinesis.putRecord(b -> b.streamName(stream).partitionKey(data).data(SdkBytes.fromUtf8String(data)));
            assertEquals(EncryptionType.KMS, put.encryptionType());
            assertNotEquals(shardId(0), put.shardId());
        }
        List<Record> all = new ArrayList<>(readToEnd(stream, shardId(0)).records());
        all.addAll(readOpen(stream, shardId(1), null));
        all.addAll(readOpen(stream, shardId(2), null));
        assertEquals(10, all.size());
        for (Record r : all) {
            assertEquals(EncryptionType.KMS, r.encryptionType(), r.toString());
            assertEquals(r.partitionKey(), text(r.data()), "decrypted");
        }

        // encryption settling and a reshard, sent to the stream back to back: the reshard is refused
        EntityRef<StreamEntity.Command> entity = ClusterSharding.get(node.running().system())
                .entityRefFor(StreamEntity.ENTITY_KEY, stream);
        StreamEntity.StreamInfo info = entity.<StreamEntity.StreamInfo>askWithStatus(StreamEntity.Describe::new, Duration.ofSeconds(10))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        List<Shard> before = shards(stream);
        CompletableFuture<org.apache.pekko.Done> encrypt = entity.<org.apache.pekko.Done>askWithStatus(
                r -> new StreamEntity.StartEncryption(info.keyId(), info.kmsKeyId(), r), Duration.ofSeconds(10)).toCompletableFuture();
        CompletableFuture<StreamEntity.ReshardAccepted> reshard = entity.<StreamEntity.ReshardAccepted>askWithStatus(
                r -> new StreamEntity.Reshard(new StreamEntity.ScaleRequest(1), 0, r), Duration.ofSeconds(10)).toCompletableFuture();
        encrypt.get(10, TimeUnit.SECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> reshard.get(10, TimeUnit.SECONDS));
        ApiException refusal = assertInstanceOf(ApiException.class, e.getCause());
        assertEquals(AwsError.ResourceInUseException, refusal.error());
        assertEquals("Stream " + stream + " under account " + ACCOUNT + " not ACTIVE, instead in state UPDATING", refusal.getMessage());
        awaitActive(stream);
        assertEquals(before, shards(stream));
    }

    // ---- a generated workload: puts racing random reshards

    /** A partition key a producer owns, with the hash key its records go by. */
    record Key(String partitionKey, String explicitHashKey, BigInteger hashKey) {}

    /** Where an acknowledged record landed. */
    record Ack(String shardId, String sequenceNumber) {}

    /**
     * Puts numbered records of its own keys, one record per key in flight (so a key's records are
     * acknowledged in their numbering), by PutRecord and PutRecords, until told to stop. A refusal
     * that stores nothing (throughput exceeded) is retried; any other failure leaves it unknown
     * whether the record was stored, and it is retried as well (it may then be read twice).
     */
    static final class Producer implements Runnable {
        final int id;
        final List<Key> keys;
        final Random random;
        final KinesisClient client;
        final String stream;
        final AtomicBoolean stop;
        final int[] next;
        final Map<String, Ack> acks = new HashMap<>();
        final Map<String, List<String>> ackedInOrder = new HashMap<>();
        final Set<String> unknown = new HashSet<>();
        final List<String> failures = new ArrayList<>();
        long bytes;
        int throttled;

        Producer(int id, List<Key> keys, long seed, KinesisClient client, String stream, AtomicBoolean stop) {
            this.id = id;
            this.keys = keys;
            this.random = new Random(seed);
            this.client = client;
            this.stream = stream;
            this.stop = stop;
            this.next = new int[keys.size()];
            for (Key k : keys) ackedInOrder.put(k.partitionKey(), new ArrayList<>());
        }

        String recordId(int key) {
            return keys.get(key).partitionKey() + "#" + next[key];
        }

        SdkBytes data(String recordId) {
            // 0.5 to 4 KB, so that a few seconds of puts leave a shard's 64 KiB tail far behind
            int pad = 500 + random.nextInt(3500);
            bytes += pad;
            return SdkBytes.fromUtf8String(recordId + "|" + "x".repeat(pad));
        }

        void acked(int key, String shardId, String sequenceNumber) {
            String rid = recordId(key);
            acks.put(rid, new Ack(shardId, sequenceNumber));
            ackedInOrder.get(keys.get(key).partitionKey()).add(rid);
            next[key]++;
        }

        @Override
        public void run() {
            while (!stop.get()) {
                if (random.nextInt(3) == 0) {
                    putOne(random.nextInt(keys.size()));
                } else {
                    putSome();
                }
            }
        }

        void putOne(int key) {
            String rid = recordId(key);
            Key k = keys.get(key);
            try {
                PutRecordResponse r = client.putRecord(b -> b.streamName(stream).partitionKey(k.partitionKey())
                        .explicitHashKey(k.explicitHashKey()).data(data(rid)));
                acked(key, r.shardId(), r.sequenceNumber());
            } catch (ProvisionedThroughputExceededException e) {
                throttled++;
            } catch (SdkException e) {
                unknown.add(rid);
                failures.add("PutRecord " + rid + ": " + e);
            }
        }

        void putSome() {
            List<Integer> chosen = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) chosen.add(i);
            Collections.shuffle(chosen, random);
            chosen = chosen.subList(0, 1 + random.nextInt(keys.size()));
            List<PutRecordsRequestEntry> entries = new ArrayList<>();
            for (int key : chosen) {
                Key k = keys.get(key);
                entries.add(PutRecordsRequestEntry.builder().partitionKey(k.partitionKey()).explicitHashKey(k.explicitHashKey())
                        .data(data(recordId(key))).build());
            }
            try {
                PutRecordsResponse r = client.putRecords(b -> b.streamName(stream).records(entries));
                for (int i = 0; i < chosen.size(); i++) {
                    PutRecordsResultEntry e = r.records().get(i);
                    int key = chosen.get(i);
                    if (e.errorCode() == null) {
                        acked(key, e.shardId(), e.sequenceNumber());
                    } else if (e.errorCode().equals("ProvisionedThroughputExceededException")) {
                        throttled++;
                    } else {
                        unknown.add(recordId(key));
                        failures.add("PutRecords entry " + recordId(key) + ": " + e.errorCode() + " " + e.errorMessage());
                    }
                }
            } catch (ProvisionedThroughputExceededException e) {
                throttled++;
            } catch (SdkException e) {
                for (int key : chosen) unknown.add(recordId(key));
                failures.add("PutRecords " + chosen + ": " + e);
            }
        }
    }

    /**
     * Producers put numbered records of their own keys (some by ExplicitHashKey) by PutRecord and
     * PutRecords while the stream goes through random splits, merges and UpdateShardCounts. Read
     * afterwards shard by shard, parents fully before their children (as the KCL reads), every
     * acknowledged record is there exactly once, where it was acknowledged, each key's records in
     * the order they were acknowledged, within its shard's sequence number range and hash key range.
     */
    @Test
    void everyAcknowledgedRecordIsReadOnceAndInOrderPerKeyAcrossRandomReshards() throws Exception {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("ReshardSdkTest.everyAcknowledgedRecordIsReadOnceAndInOrderPerKeyAcrossRandomReshards seed " + seed
                + " (rerun with -Dsluice.seed=" + seed + ")");
        Random random = new Random(seed);
        String stream = "generated";
        create(stream, 2);

        int producerCount = 3;
        int keysEach = 4;
        AtomicBoolean stop = new AtomicBoolean();
        List<Producer> producers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        try (KinesisClient noRetries = KinesisClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(60)).build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build()) {
            for (int p = 0; p < producerCount; p++) {
                List<Key> keys = new ArrayList<>();
                for (int k = 0; k < keysEach; k++) {
                    String partitionKey = "p" + p + "-k" + k;
                    if (k == 0) {
                        BigInteger explicit = new BigInteger(128, random);
                        keys.add(new Key(partitionKey, explicit.toString(), explicit));
                    } else {
                        keys.add(new Key(partitionKey, null, md5(partitionKey)));
                    }
                }
                Producer producer = new Producer(p, keys, random.nextLong(), noRetries, stream, stop);
                producers.add(producer);
                Thread t = new Thread(producer, "producer-" + p);
                threads.add(t);
                t.start();
            }

            List<String> plan = new ArrayList<>();
            int scalings = 0;
            for (int i = 0; i < 10; i++) {
                sleep(300 + random.nextInt(700));
                List<Shard> open = openShards(stream);
                int n = open.size();
                List<String> choices = new ArrayList<>();
                if (n < MAX_SHARDS_PER_STREAM) choices.add("split");
                if (n > 1) choices.add("merge");
                if (scalings < 2) choices.add("scale");
                String choice = choices.get(random.nextInt(choices.size()));
                switch (choice) {
                    case "split" -> {
                        Shard s = open.get(random.nextInt(n));
                        // greater than one plus the shard's start, and less than its end
                        BigInteger room = end(s).subtract(start(s)).subtract(BigInteger.TWO);
                        BigInteger at = start(s).add(BigInteger.TWO).add(new BigInteger(130, random).mod(room));
                        kinesis.splitShard(b -> b.streamName(stream).shardToSplit(s.shardId()).newStartingHashKey(at.toString()));
                        plan.add("split " + s.shardId() + " at " + at);
                    }
                    case "merge" -> {
                        int j = random.nextInt(n - 1);
                        kinesis.mergeShards(b -> b.streamName(stream).shardToMerge(open.get(j).shardId())
                                .adjacentShardToMerge(open.get(j + 1).shardId()));
                        plan.add("merge " + open.get(j).shardId() + " " + open.get(j + 1).shardId());
                    }
                    default -> {
                        int min = (n + 1) / 2;
                        int max = Math.min(2 * n, MAX_SHARDS_PER_STREAM);
                        int target = min + random.nextInt(max - min + 1);
                        UpdateShardCountResponse r = kinesis.updateShardCount(b -> b.streamName(stream).targetShardCount(target)
                                .scalingType(ScalingType.UNIFORM_SCALING));
                        assertEquals(n, r.currentShardCount());
                        scalings++;
                        plan.add("scale " + n + " -> " + target);
                    }
                }
                awaitActive(stream);
            }
            sleep(500);
            stop.set(true);
            for (Thread t : threads) {
                t.join(60_000);
                assertFalse(t.isAlive(), t.getName() + " did not stop");
            }
            System.out.println("reshards: " + plan);
        }

        Map<String, Ack> acks = new HashMap<>();
        Set<String> unknown = new HashSet<>();
        List<String> failures = new ArrayList<>();
        Map<String, BigInteger> hashOf = new HashMap<>();
        long bytes = 0;
        int throttled = 0;
        for (Producer p : producers) {
            acks.putAll(p.acks);
            unknown.addAll(p.unknown);
            failures.addAll(p.failures);
            for (Key k : p.keys) hashOf.put(k.partitionKey(), k.hashKey());
            bytes += p.bytes;
            throttled += p.throttled;
        }
        System.out.println(acks.size() + " records acknowledged (" + bytes / 1024 + " KiB), " + throttled + " throttled, "
                + failures.size() + " failed otherwise " + failures.stream().limit(5).toList());
        assertTrue(failures.isEmpty(), "puts failed other than by throttling: " + failures.stream().limit(10).toList());

        // read as the KCL does: a shard once all its parents are read to their ends
        List<Shard> shards = shards(stream);
        Map<String, Shard> byId = new LinkedHashMap<>();
        for (Shard s : shards) byId.put(s.shardId(), s);
        Set<String> finished = new HashSet<>();
        Map<String, List<Record>> readIn = new LinkedHashMap<>();
        while (finished.size() < shards.size()) {
            Shard ready = shards.stream().filter(s -> !finished.contains(s.shardId()))
                    .filter(s -> Collections.disjoint(byId.keySet(), parentsOf(s, finished)))
                    .findFirst().orElseThrow(() -> new AssertionError("no shard is ready to read: " + ids(shards)));
            Integer limit = random.nextBoolean() ? null : 1 + random.nextInt(300);
            boolean closed = ready.sequenceNumberRange().endingSequenceNumber() != null;
            if (closed) {
                ShardEnd end = readFrom(iterator(stream, ready.shardId(), ShardIteratorType.TRIM_HORIZON, null), limit);
                assertEquals(childrenInListing(shards, ready.shardId()), describe(end.children()),
                        "the children " + ready.shardId() + " ends with");
                readIn.put(ready.shardId(), end.records());
            } else {
                readIn.put(ready.shardId(), readOpen(stream, ready.shardId(), limit));
            }
            finished.add(ready.shardId());
        }

        Map<String, List<String>> readPerKey = new HashMap<>();
        Map<String, Integer> timesRead = new HashMap<>();
        int records = 0;
        for (Map.Entry<String, List<Record>> e : readIn.entrySet()) {
            Shard shard = byId.get(e.getKey());
            BigInteger first = seq(shard.sequenceNumberRange().startingSequenceNumber());
            String ending = shard.sequenceNumberRange().endingSequenceNumber();
            for (Record r : e.getValue()) {
                records++;
                String rid = text(r.data()).substring(0, text(r.data()).indexOf('|'));
                BigInteger hash = hashOf.get(r.partitionKey());
                assertNotNull(hash, "a record of no producer's key: " + r.partitionKey());
                assertTrue(start(shard).compareTo(hash) <= 0 && end(shard).compareTo(hash) >= 0,
                        rid + " in " + shard.shardId() + ", which never covered its hash key " + hash);
                assertTrue(seq(r.sequenceNumber()).compareTo(first) >= 0, rid + " before its shard's start");
                assertTrue(ending == null || seq(r.sequenceNumber()).compareTo(seq(ending)) < 0,
                        rid + " in " + shard.shardId() + " after its EndingSequenceNumber");
                Ack ack = acks.get(rid);
                boolean asAcknowledged = ack != null && ack.shardId().equals(shard.shardId()) && ack.sequenceNumber().equals(r.sequenceNumber());
                if (!asAcknowledged) {
                    // a copy stored by a put whose outcome its producer never learned
                    assertTrue(unknown.contains(rid), rid + " read in " + shard.shardId() + " at " + r.sequenceNumber()
                            + " but acknowledged as " + ack);
                    continue;
                }
                timesRead.merge(rid, 1, Integer::sum);
                readPerKey.computeIfAbsent(r.partitionKey(), k -> new ArrayList<>()).add(rid);
            }
        }
        for (String rid : acks.keySet()) {
            assertEquals(1, timesRead.getOrDefault(rid, 0), rid + " read this many times");
        }
        for (Producer p : producers) {
            for (Key k : p.keys) {
                assertEquals(p.ackedInOrder.get(k.partitionKey()), readPerKey.getOrDefault(k.partitionKey(), List.of()),
                        "records of " + k.partitionKey() + " in the order they were acknowledged");
            }
        }
        Map<String, Long> bytesIn = new LinkedHashMap<>();
        readIn.forEach((id, rs) -> bytesIn.put(id, rs.stream().mapToLong(r -> r.data().asByteArray().length).sum() / 1024));
        System.out.println(records + " records read from " + shards.size() + " shards, KiB per shard " + bytesIn);
        assertTrue(shards.size() > 2, "the stream was resharded");
        assertTrue(bytesIn.values().stream().anyMatch(kib -> kib > 2 * 64), "no shard's records outgrew its in-memory tail");
    }
}
