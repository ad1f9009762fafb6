package io.sluice.node.it;

import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.*;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every data-plane and control-plane operation, driven by the real AWS SDK for Java v2 against a
 * real node on the embedded Cassandra. Subclasses pick the wire format (CBOR, the SDK's default
 * for Kinesis, or JSON); an interceptor proves which one was actually used.
 */
abstract class KinesisSdkContract {
    static TestNode node;
    static KinesisClient kinesis;
    static final MutableClock clock = new MutableClock();
    static final ConcurrentLinkedQueue<String> contentTypes = new ConcurrentLinkedQueue<>();

    static void startNode(boolean cbor) throws Exception {
        contentTypes.clear();
        node = new TestNode(clock, "").start();
        String previous = System.getProperty("aws.cborEnabled");
        System.setProperty("aws.cborEnabled", Boolean.toString(cbor));
        kinesis = KinesisClient.builder()
                .endpointOverride(node.endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(c -> c.addExecutionInterceptor(new ExecutionInterceptor() {
                    @Override
                    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                        context.httpRequest().firstMatchingHeader("Content-Type").ifPresent(contentTypes::add);
                    }
                }))
                .build();
        if (previous == null) System.clearProperty("aws.cborEnabled");
    }

    @AfterAll
    static void stopNode() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    abstract String expectedContentType();

    abstract String prefix();

    String createActive(String name, int shards) {
        String stream = prefix() + "-" + name;
        kinesis.createStream(b -> b.streamName(stream).shardCount(shards));
        awaitActive(stream);
        return stream;
    }

    static void awaitActive(String stream) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus()
                    == StreamStatus.ACTIVE) {
                return;
            }
            sleep(50);
        }
        fail(stream + " did not become ACTIVE");
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static SdkBytes bytes(String s) {
        return SdkBytes.fromString(s, StandardCharsets.UTF_8);
    }

    static List<String> texts(List<software.amazon.awssdk.services.kinesis.model.Record> records) {
        return records.stream().map(r -> r.data().asUtf8String()).toList();
    }

    @Test
    void usesTheExpectedWireFormat() {
        kinesis.listStreams();
        assertTrue(contentTypes.stream().anyMatch(ct -> ct.startsWith(expectedContentType())), contentTypes.toString());
        assertTrue(contentTypes.stream().noneMatch(ct -> !ct.startsWith(expectedContentType())), contentTypes.toString());
    }

    @Test
    void createsDescribesAndListsStreams() {
        Instant before = clock.instant();
        String stream = createActive("describe", 3);
        Instant after = clock.instant();
        StreamDescription d = kinesis.describeStream(b -> b.streamName(stream)).streamDescription();
        assertEquals(stream, d.streamName());
        assertEquals("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream, d.streamARN());
        assertEquals(StreamStatus.ACTIVE, d.streamStatus());
        assertEquals(3, d.shards().size());
        assertEquals("shardId-000000000000", d.shards().get(0).shardId());
        assertEquals("0", d.shards().get(0).hashKeyRange().startingHashKey());
        assertEquals(HashKeysMax.MAX, d.shards().get(2).hashKeyRange().endingHashKey());
        assertEquals(24, d.retentionPeriodHours());
        assertEquals(EncryptionType.NONE, d.encryptionType());
        assertNull(d.keyId());
        assertFalse(d.hasMoreShards());
        assertBetween(before, after, d.streamCreationTimestamp());

        StreamDescription page = kinesis.describeStream(b -> b.streamName(stream).limit(2)).streamDescription();
        assertEquals(2, page.shards().size());
        assertTrue(page.hasMoreShards());
        StreamDescription rest = kinesis.describeStream(b -> b.streamName(stream).exclusiveStartShardId("shardId-000000000001"))
                .streamDescription();
        assertEquals(List.of("shardId-000000000002"), rest.shards().stream().map(Shard::shardId).toList());

        StreamDescriptionSummary s = kinesis.describeStreamSummary(b -> b.streamARN(d.streamARN())).streamDescriptionSummary();
        assertEquals(stream, s.streamName());
        assertEquals(d.streamARN(), s.streamARN());
        assertEquals(StreamStatus.ACTIVE, s.streamStatus());
        assertEquals(3, s.openShardCount());
        assertEquals(24, s.retentionPeriodHours());
        assertEquals(EncryptionType.NONE, s.encryptionType());
        assertNull(s.keyId());
        assertEquals(d.streamCreationTimestamp(), s.streamCreationTimestamp());
        assertEquals(StreamMode.PROVISIONED, s.streamModeDetails().streamMode());

        ListStreamsResponse all = kinesis.listStreams();
        assertTrue(all.streamNames().contains(stream));
        List<StreamSummary> summaries = all.streamSummaries().stream().filter(x -> x.streamName().equals(stream)).toList();
        assertEquals(1, summaries.size(), all.streamSummaries().toString());
        assertEquals(d.streamARN(), summaries.get(0).streamARN());
        assertEquals(StreamStatus.ACTIVE, summaries.get(0).streamStatus());
        assertEquals(StreamMode.PROVISIONED, summaries.get(0).streamModeDetails().streamMode());
        assertEquals(d.streamCreationTimestamp(), summaries.get(0).streamCreationTimestamp());
    }

    @Test
    void onDemandStreamsStartWithFourShards() {
        String stream = prefix() + "-ondemand";
        kinesis.createStream(b -> b.streamName(stream).streamModeDetails(m -> m.streamMode(StreamMode.ON_DEMAND)));
        awaitActive(stream);
        StreamDescriptionSummary s = kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary();
        assertEquals(StreamMode.ON_DEMAND, s.streamModeDetails().streamMode());
        assertEquals(4, s.openShardCount());
        // the limits count every stream of the node, so count them the same way (tests run one at a time)
        int open = 0;
        int onDemand = 0;
        for (String name : kinesis.listStreams(b -> b.limit(1000)).streamNames()) {
            StreamDescriptionSummary each = kinesis.describeStreamSummary(b -> b.streamName(name)).streamDescriptionSummary();
            open += each.openShardCount();
            if (each.streamModeDetails().streamMode() == StreamMode.ON_DEMAND) onDemand++;
        }
        DescribeLimitsResponse limits = kinesis.describeLimits();
        assertEquals(1, onDemand, "only this test makes ON_DEMAND streams");
        assertEquals(onDemand, limits.onDemandStreamCount());
        assertEquals(open, limits.openShardCount());
        assertEquals(20000, limits.shardLimit()); // sluice.stream.shard-limit in application.conf
        assertEquals(50, limits.onDemandStreamCountLimit()); // sluice.stream.on-demand-stream-limit
    }

    @Test
    void pagesThroughStreamsAndShards() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) names.add(createActive("page" + i, 5));
        ListStreamsResponse whole = kinesis.listStreams(b -> b.limit(1000));
        assertFalse(whole.hasMoreStreams());
        assertTrue(whole.streamNames().containsAll(names));
        List<String> seen = new ArrayList<>();
        String token = null;
        do {
            String t = token;
            ListStreamsResponse page = kinesis.listStreams(b -> b.limit(1).nextToken(t));
            assertEquals(1, page.streamNames().size(), page.toString());
            seen.addAll(page.streamNames());
            token = page.hasMoreStreams() ? page.nextToken() : null;
        } while (token != null);
        assertEquals(whole.streamNames(), seen, "one page at a time lists each stream once, in the same order");

        List<String> shards = new ArrayList<>();
        ListShardsResponse first = kinesis.listShards(b -> b.streamName(names.get(0)).maxResults(2));
        first.shards().forEach(s -> shards.add(s.shardId()));
        String next = first.nextToken();
        while (next != null) {
            String t = next;
            ListShardsResponse page = kinesis.listShards(b -> b.nextToken(t).maxResults(2));
            page.shards().forEach(s -> shards.add(s.shardId()));
            next = page.nextToken();
        }
        assertEquals(List.of("shardId-000000000000", "shardId-000000000001", "shardId-000000000002",
                "shardId-000000000003", "shardId-000000000004"), shards);
        assertEquals(List.of("shardId-000000000003", "shardId-000000000004"), kinesis.listShards(b -> b.streamName(names.get(0))
                .shardFilter(f -> f.type(ShardFilterType.AFTER_SHARD_ID).shardId("shardId-000000000002"))).shards().stream()
                .map(Shard::shardId).toList());
    }

    @Test
    void putsAndGetsRecordsInOrderWithEveryIteratorType() {
        String stream = createActive("data", 2);
        Instant beforeFirst = clock.instant();
        PutRecordResponse first = kinesis.putRecord(b -> b.streamName(stream).partitionKey("a").data(bytes("one")));
        Instant afterFirst = clock.instant();
        assertEquals("shardId-000000000000", first.shardId()); // MD5("a") = 0cc1... is in the lower half
        assertNull(first.encryptionType(), "an unencrypted stream's put names no encryption");
        PutRecordResponse second = kinesis.putRecord(b -> b.streamName(stream).partitionKey("a").data(bytes("two"))
                .sequenceNumberForOrdering(first.sequenceNumber()));
        assertTrue(new BigInteger(second.sequenceNumber()).compareTo(new BigInteger(first.sequenceNumber())) > 0);
        PutRecordResponse explicit = kinesis.putRecord(b -> b.streamName(stream).partitionKey("a")
                .explicitHashKey("170141183460469231731687303715884105728").data(bytes("high")));
        assertEquals("shardId-000000000001", explicit.shardId());

        String shard = first.shardId();
        List<software.amazon.awssdk.services.kinesis.model.Record> all = read(stream, shard, ShardIteratorType.TRIM_HORIZON, null, null);
        assertEquals(List.of("one", "two"), texts(all));
        assertEquals(first.sequenceNumber(), all.get(0).sequenceNumber());
        assertEquals("a", all.get(0).partitionKey());
        assertBetween(beforeFirst, afterFirst, all.get(0).approximateArrivalTimestamp());
        assertNull(all.get(0).encryptionType());

        assertEquals(List.of("one", "two"), texts(read(stream, shard, ShardIteratorType.AT_SEQUENCE_NUMBER, first.sequenceNumber(), null)));
        assertEquals(List.of("two"), texts(read(stream, shard, ShardIteratorType.AFTER_SEQUENCE_NUMBER, first.sequenceNumber(), null)));
        assertEquals(List.of(), texts(read(stream, shard, ShardIteratorType.AFTER_SEQUENCE_NUMBER, second.sequenceNumber(), null)));
        Instant between = all.get(1).approximateArrivalTimestamp();
        assertEquals(List.of("two"), texts(read(stream, shard, ShardIteratorType.AT_TIMESTAMP, null, between)));

        String latest = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard)
                .shardIteratorType(ShardIteratorType.LATEST)).shardIterator();
        GetRecordsResponse empty = kinesis.getRecords(b -> b.shardIterator(latest));
        assertEquals(List.of(), empty.records());
        assertEquals(0L, empty.millisBehindLatest());
        kinesis.putRecord(b -> b.streamName(stream).partitionKey("a").data(bytes("three")));
        GetRecordsResponse after = kinesis.getRecords(b -> b.shardIterator(empty.nextShardIterator()));
        assertEquals(List.of("three"), texts(after.records()));
        assertEquals(0L, after.millisBehindLatest());
    }

    @Test
    void putRecordsReportsEachEntryAndRespectsLimitAndNextIterator() {
        String stream = createActive("batch", 4);
        List<PutRecordsRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            int n = i;
            entries.add(PutRecordsRequestEntry.builder().partitionKey("key-" + (i % 37)).data(bytes("r" + n)).build());
        }
        PutRecordsResponse put = kinesis.putRecords(b -> b.streamName(stream).records(entries));
        assertEquals(0, put.failedRecordCount());
        assertNull(put.encryptionType());
        assertEquals(500, put.records().size());
        Set<String> sequenceNumbers = new HashSet<>();
        for (PutRecordsResultEntry e : put.records()) {
            assertNull(e.errorCode());
            assertNull(e.errorMessage());
            assertTrue(e.sequenceNumber().matches("\\d{56}"), e.sequenceNumber());
            assertTrue(sequenceNumbers.add(e.sequenceNumber()));
        }
        // per shard, the records come back in request order, 7 at a time
        int total = 0;
        for (Shard s : kinesis.listShards(b -> b.streamName(stream)).shards()) {
            String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(s.shardId())
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String current = it;
                GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(current).limit(7));
                assertTrue(r.records().size() <= 7);
                got.addAll(texts(r.records()));
                it = r.nextShardIterator();
                if (r.records().isEmpty()) break;
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                if (put.records().get(i).shardId().equals(s.shardId())) expected.add("r" + i);
            }
            assertEquals(expected, got, s.shardId());
            total += got.size();
        }
        assertEquals(500, total);
    }

    @Test
    void retentionAndTagsCanBeChanged() {
        String stream = createActive("admin", 1);
        kinesis.increaseStreamRetentionPeriod(b -> b.streamName(stream).retentionPeriodHours(168));
        assertEquals(168, kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().retentionPeriodHours());
        kinesis.decreaseStreamRetentionPeriod(b -> b.streamName(stream).retentionPeriodHours(48));
        assertEquals(48, kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().retentionPeriodHours());
        InvalidArgumentException tooShort = assertThrows(InvalidArgumentException.class,
                () -> kinesis.decreaseStreamRetentionPeriod(b -> b.streamName(stream).retentionPeriodHours(12)));
        assertEquals("Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.",
                tooShort.awsErrorDetails().errorMessage());
        assertEquals(48, kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().retentionPeriodHours());

        kinesis.addTagsToStream(b -> b.streamName(stream).tags(Map.of("team", "data", "env", "test")));
        ListTagsForStreamResponse tags = kinesis.listTagsForStream(b -> b.streamName(stream));
        assertEquals(2, tags.tags().size(), tags.toString());
        assertEquals(Map.of("team", "data", "env", "test"), tags.tags().stream().collect(Collectors.toMap(Tag::key, Tag::value)));
        assertFalse(tags.hasMoreTags());
        kinesis.removeTagsFromStream(b -> b.streamName(stream).tagKeys("env"));
        assertEquals(List.of(Tag.builder().key("team").value("data").build()),
                kinesis.listTagsForStream(b -> b.streamName(stream)).tags());
    }

    @Test
    void deletedStreamsDisappearAndTheirNameCanBeReused() {
        String stream = createActive("gone", 1);
        kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(bytes("old incarnation")));
        kinesis.deleteStream(b -> b.streamName(stream));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                kinesis.describeStreamSummary(b -> b.streamName(stream));
                sleep(50);
            } catch (ResourceNotFoundException gone) {
                break;
            }
        }
        assertThrows(ResourceNotFoundException.class, () -> kinesis.describeStream(b -> b.streamName(stream)));
        assertFalse(kinesis.listStreams().streamNames().contains(stream));
        String again = createActive("gone", 1);
        assertEquals(List.of(), read(again, "shardId-000000000000", ShardIteratorType.TRIM_HORIZON, null, null));
    }

    @Test
    void answersBadRequestsWithAwsErrorsAndKeepsServing() {
        String stream = createActive("errors", 1);
        assertThrows(ResourceNotFoundException.class, () -> kinesis.describeStream(b -> b.streamName(prefix() + "-missing")));
        assertThrows(ResourceInUseException.class, () -> kinesis.createStream(b -> b.streamName(stream).shardCount(1)));
        KinesisException invalidName = assertThrows(KinesisException.class,
                () -> kinesis.createStream(b -> b.streamName("bad name!").shardCount(1)));
        assertEquals("ValidationException", invalidName.awsErrorDetails().errorCode());
        KinesisException tooBig = assertThrows(KinesisException.class, () -> kinesis.putRecord(b -> b.streamName(stream)
                .partitionKey("k").data(SdkBytes.fromByteArray(new byte[(1 << 20) + 1]))));
        assertEquals("ValidationException", tooBig.awsErrorDetails().errorCode());
        assertThrows(InvalidArgumentException.class, () -> kinesis.getRecords(b -> b.shardIterator("AAAAforged")));
        assertThrows(ResourceNotFoundException.class, () -> kinesis.getShardIterator(b -> b.streamName(stream)
                .shardId("shardId-000000000009").shardIteratorType(ShardIteratorType.TRIM_HORIZON)));
        assertThrows(InvalidArgumentException.class, () -> kinesis.getShardIterator(b -> b.streamName(stream)
                .shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER)));
        // the node still serves, and none of the refused requests left a record behind
        PutRecordResponse fine = kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(bytes("fine")));
        assertEquals("shardId-000000000000", fine.shardId());
        assertTrue(fine.sequenceNumber().matches("\\d{56}"), fine.sequenceNumber());
        assertEquals(List.of("fine"), texts(read(stream, "shardId-000000000000", ShardIteratorType.TRIM_HORIZON, null, null)));
    }

    @Test
    void iteratorsExpireAfterFiveMinutes() {
        String stream = createActive("expiry", 1);
        String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        clock.advance(Duration.ofMinutes(6));
        try {
            assertThrows(ExpiredIteratorException.class, () -> kinesis.getRecords(b -> b.shardIterator(it)));
        } finally {
            clock.advance(Duration.ofMinutes(-6));
        }
    }

    static List<software.amazon.awssdk.services.kinesis.model.Record> read(String stream, String shard, ShardIteratorType type,
                                                                          String seq, Instant at) {
        String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard).shardIteratorType(type)
                .startingSequenceNumber(seq).timestamp(at)).shardIterator();
        List<software.amazon.awssdk.services.kinesis.model.Record> out = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String current = it;
            GetRecordsResponse r = kinesis.getRecords(b -> b.shardIterator(current));
            out.addAll(r.records());
            it = r.nextShardIterator();
            if (r.records().isEmpty() && r.millisBehindLatest() == 0) break;
        }
        return out;
    }

    /** The server stamps times with the node's clock in milliseconds, so a time it reports lies between two readings of it. */
    static void assertBetween(Instant before, Instant after, Instant actual) {
        assertNotNull(actual);
        assertFalse(actual.isBefore(before) || actual.isAfter(after), () -> actual + " is not within [" + before + ", " + after + "]");
    }

    static final class HashKeysMax {
        static final String MAX = "340282366920938463463374607431768211455";
    }
}
