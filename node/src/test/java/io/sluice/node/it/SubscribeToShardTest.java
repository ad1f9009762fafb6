package io.sluice.node.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StartingPosition;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SubscribeToShard through the SDK v2 (HTTP/2 with prior knowledge, CBOR and JSON) against a real node:
 * every acknowledged record reaches every subscriber once and in order, from the journal (a small tail
 * makes the catch-up read Cassandra) and pushed at the tip; a subscription renewed at its end with its
 * continuation loses and repeats nothing; AWS's exclusivity and takeover rules; the end of a closed
 * shard with ChildShards; and the refusals.
 */
class SubscribeToShardTest {
    static final long SEED = Long.getLong("sluice.seed", System.nanoTime());
    static final Duration LIFETIME = Duration.ofSeconds(4);
    static final Duration EXCLUSIVE = Duration.ofSeconds(2);
    static TestNode node;
    static KinesisClient kinesis;
    static FanOutClient fanOut;

    @BeforeAll
    static void start() throws Exception {
        System.out.println("SubscribeToShardTest seed " + SEED + " (-Dsluice.seed=" + SEED + ")");
        node = new TestNode(Clock.systemUTC(), """
                sluice.fan-out.subscription-lifetime = %ds
                sluice.fan-out.exclusive-window = %ds
                sluice.fan-out.heartbeat = 1s
                sluice.shard.tail-bytes = 64 KiB
                """.formatted(LIFETIME.toSeconds(), EXCLUSIVE.toSeconds())).start();
        kinesis = node.kinesisClient();
        fanOut = new FanOutClient(node.endpoint(), node.accessKeyId, node.secretKey);
    }

    @AfterAll
    static void stop() {
        if (fanOut != null) fanOut.close();
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    static String streamArn(String stream) {
        return "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream;
    }

    static StartingPosition at(ShardIteratorType type) {
        return StartingPosition.builder().type(type).build();
    }

    static StartingPosition after(String sequenceNumber) {
        return StartingPosition.builder().type(ShardIteratorType.AFTER_SEQUENCE_NUMBER).sequenceNumber(sequenceNumber).build();
    }

    /** Puts generated records into one shard (explicit hash key 0); their sequence numbers and data, in order. */
    static Map<String, byte[]> put(String stream, Random random, int count) {
        Map<String, byte[]> sent = new java.util.LinkedHashMap<>();
        List<PutRecordsRequestEntry> batch = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] data = new byte[1 + random.nextInt(random.nextInt(10) == 0 ? 20_000 : 300)];
            random.nextBytes(data);
            batch.add(PutRecordsRequestEntry.builder().partitionKey("k" + i).explicitHashKey("0")
                    .data(SdkBytes.fromByteArray(data)).build());
            if (batch.size() == 50 || i == count - 1) {
                var answer = kinesis.putRecords(b -> b.streamName(stream).records(batch));
                assertEquals(0, answer.failedRecordCount());
                for (int j = 0; j < batch.size(); j++) {
                    PutRecordsResultEntry e = answer.records().get(j);
                    sent.put(e.sequenceNumber(), batch.get(j).data().asByteArray());
                }
                batch.clear();
            }
        }
        return sent;
    }

    /** Takes events until {@code count} records arrived; the records in arrival order. */
    static List<Record> collect(FanOutClient.Subscribed s, int count) throws InterruptedException {
        List<Record> got = new ArrayList<>();
        while (got.size() < count) {
            FanOutClient.Arrived a = s.next(Duration.ofSeconds(30));
            assertNotNull(a, "only " + got.size() + " of " + count + " records arrived; ended: " + s.ended);
            got.addAll(a.event().records());
        }
        return got;
    }

    static void assertExactly(Map<String, byte[]> sent, List<Record> got) {
        List<String> expected = new ArrayList<>(sent.keySet());
        List<String> seen = got.stream().map(Record::sequenceNumber).toList();
        assertEquals(expected, seen, "seed " + SEED + ": every record once, in order");
        for (Record r : got) assertArrayEquals(sent.get(r.sequenceNumber()), r.data().asByteArray(), "seed " + SEED);
    }

    @Test
    void everyRecordReachesEverySubscriberOnceInOrderFromTheJournalAndPushedAtTheTip() throws Exception {
        String stream = "fan-order";
        TestNode.createActive(kinesis, stream, 1);
        Random random = new Random(SEED);
        String shard = "shardId-000000000000";
        Map<String, byte[]> sent = new java.util.LinkedHashMap<>(put(stream, random, 400)); // well past the 64 KiB tail
        List<String> consumers = new ArrayList<>();
        for (int c = 0; c < 3; c++) consumers.add(fanOut.registerActive(streamArn(stream), "app-" + c));
        List<FanOutClient.Subscribed> subs = new ArrayList<>();
        for (String consumer : consumers) subs.add(fanOut.subscribe(consumer, shard, at(ShardIteratorType.TRIM_HORIZON)));
        Map<String, byte[]> live = put(stream, random, 200);
        sent.putAll(live);
        for (FanOutClient.Subscribed s : subs) {
            assertExactly(sent, collect(s, sent.size()));
            s.cancel();
        }
    }

    @Test
    void speaksJsonToo() throws Exception {
        System.setProperty("aws.cborEnabled", "false");
        try (FanOutClient json = new FanOutClient(node.endpoint(), node.accessKeyId, node.secretKey)) {
            System.clearProperty("aws.cborEnabled");
            assertReadsEveryRecordThrough(json, "fan-json", 1);
        } finally {
            System.clearProperty("aws.cborEnabled");
        }
    }

    /** The SDK's HTTP/2 over TLS as the KCL builds it (no ALPN: prior knowledge inside TLS). */
    @Test
    void overTlsToo() throws Exception {
        try (FanOutClient tls = new FanOutClient(node.httpsEndpoint(), node.accessKeyId, node.secretKey, node::trustManagers)) {
            assertReadsEveryRecordThrough(tls, "fan-tls", 5);
        }
    }

    /** A stream of its own, records put, a consumer registered, and every record read through this client. */
    static void assertReadsEveryRecordThrough(FanOutClient client, String stream, int seedOffset) throws Exception {
        TestNode.createActive(kinesis, stream, 1);
        Map<String, byte[]> sent = put(stream, new Random(SEED + seedOffset), 100);
        String consumer = fanOut.registerActive(streamArn(stream), stream + "-app");
        FanOutClient.Subscribed s = client.subscribe(consumer, "shardId-000000000000", at(ShardIteratorType.TRIM_HORIZON));
        assertExactly(sent, collect(s, sent.size()));
        s.cancel();
    }

    @Test
    void renewalsWithTheContinuationLoseAndRepeatNothing() throws Exception {
        String stream = "fan-renew";
        TestNode.createActive(kinesis, stream, 1);
        String consumer = fanOut.registerActive(streamArn(stream), "renewer");
        Random random = new Random(SEED + 2);
        Map<String, byte[]> sent = new ConcurrentHashMap<>();
        List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread producer = new Thread(() -> {
            long until = System.nanoTime() + LIFETIME.multipliedBy(3).toNanos();
            while (System.nanoTime() < until) {
                Map<String, byte[]> batch = put(stream, random, 1 + random.nextInt(20));
                sent.putAll(batch);
                order.addAll(batch.keySet());
                KinesisSdkContract.sleep(random.nextInt(50));
            }
        });
        producer.start();
        List<Record> got = new ArrayList<>();
        StartingPosition position = at(ShardIteratorType.TRIM_HORIZON);
        int subscriptions = 0;
        while (producer.isAlive() || got.size() < order.size()) {
            assertTrue(subscriptions < 20, "seed " + SEED + ": too many renewals");
            FanOutClient.Subscribed s = fanOut.subscribe(consumer, "shardId-000000000000", position);
            subscriptions++;
            SubscribeToShardEvent last = s.drain(got, Integer.MAX_VALUE);
            s.ended.get(5, TimeUnit.SECONDS); // a normal end, at the subscription's lifetime
            assertNotNull(last, "seed " + SEED);
            assertNotNull(last.continuationSequenceNumber(), "seed " + SEED);
            position = after(last.continuationSequenceNumber());
            if (!producer.isAlive() && got.size() >= order.size()) break;
        }
        producer.join();
        assertTrue(subscriptions >= 3, "the subscription was renewed: " + subscriptions);
        Map<String, byte[]> inOrder = new java.util.LinkedHashMap<>();
        for (String seq : order) inOrder.put(seq, sent.get(seq));
        assertExactly(inOrder, got);
    }

    @Test
    void aSecondSubscriptionWithinTheWindowIsRefusedALaterOneTakesOver() throws Exception {
        String stream = "fan-takeover";
        TestNode.createActive(kinesis, stream, 1);
        String consumer = fanOut.registerActive(streamArn(stream), "single");
        String shard = "shardId-000000000000";
        FanOutClient.Subscribed first = fanOut.subscribe(consumer, shard, at(ShardIteratorType.LATEST));
        assertNotNull(first.next(Duration.ofSeconds(10)), "the first subscription runs");
        long started = System.nanoTime();
        FanOutClient.Subscribed refused = fanOut.subscribe(consumer, shard, at(ShardIteratorType.LATEST));
        CompletionException e = assertThrows(CompletionException.class, () -> refused.ended.join());
        // only meaningful if the refusal came inside the window
        if (System.nanoTime() - started < EXCLUSIVE.toNanos()) {
            assertEquals("ResourceInUseException", ((KinesisException) e.getCause()).awsErrorDetails().errorCode());
            assertTrue(e.getCause().getMessage().contains("Another active subscription exists for this consumer"), e.getCause().getMessage());
        }
        KinesisSdkContract.sleep(EXCLUSIVE.toMillis() + 200);
        FanOutClient.Subscribed second = fanOut.subscribe(consumer, shard, at(ShardIteratorType.LATEST));
        assertNotNull(second.next(Duration.ofSeconds(10)), "the second subscription runs (its LATEST is placed)");
        Map<String, byte[]> sent = put(stream, new Random(SEED + 3), 10);
        assertExactly(sent, collect(second, sent.size()));
        java.util.concurrent.ExecutionException old = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> first.ended.get(10, TimeUnit.SECONDS));
        assertEquals("ResourceInUseException", ((KinesisException) old.getCause()).awsErrorDetails().errorCode());
        second.cancel();
    }

    @Test
    void theEndOfASplitShardCarriesItsChildrenAndNoContinuation() throws Exception {
        String stream = "fan-split";
        TestNode.createActive(kinesis, stream, 1);
        String consumer = fanOut.registerActive(streamArn(stream), "splitter");
        Map<String, byte[]> sent = put(stream, new Random(SEED + 4), 30);
        FanOutClient.Subscribed s = fanOut.subscribe(consumer, "shardId-000000000000", at(ShardIteratorType.TRIM_HORIZON));
        List<Record> got = new ArrayList<>(collect(s, sent.size()));
        String middle = BigInteger.ONE.shiftLeft(127).toString();
        kinesis.splitShard(b -> b.streamName(stream).shardToSplit("shardId-000000000000").newStartingHashKey(middle));
        SubscribeToShardEvent last = s.drain(got, Integer.MAX_VALUE);
        s.ended.get(5, TimeUnit.SECONDS);
        assertExactly(sent, got);
        assertNotNull(last);
        assertNull(last.continuationSequenceNumber(), "no continuation at a shard's end");
        assertEquals(List.of("shardId-000000000001", "shardId-000000000002"),
                last.childShards().stream().map(ChildShard::shardId).toList());
        for (ChildShard child : last.childShards()) assertEquals(List.of("shardId-000000000000"), child.parentShards());
    }

    @Test
    void aSubscriberWithoutKmsDecryptGetsTheSeedsKmsAccessDenied() throws Exception {
        String stream = "fan-kms";
        TestNode.createActive(kinesis, stream, 1);
        String keyArn;
        try (var kms = node.kmsClient()) {
            keyArn = kms.createKey(b -> b.description("fan-out")).keyMetadata().arn();
        }
        kinesis.startStreamEncryption(b -> b.streamName(stream).encryptionType("KMS").keyId(keyArn));
        TestNode.awaitActive(kinesis, stream);
        Map<String, byte[]> sent = put(stream, new Random(SEED + 6), 20);
        String consumer = fanOut.registerActive(streamArn(stream), "kms-app");
        // the root decrypts and sees KMS records
        FanOutClient.Subscribed allowed = fanOut.subscribe(consumer, "shardId-000000000000", at(ShardIteratorType.TRIM_HORIZON));
        List<Record> got = collect(allowed, sent.size());
        assertExactly(sent, got);
        assertTrue(got.stream().allMatch(r -> r.encryptionTypeAsString().equals("KMS")));
        allowed.cancel();
        // a user allowed every Kinesis action but no KMS one
        try (var iam = software.amazon.awssdk.services.iam.IamClient.builder().endpointOverride(node.endpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create()).build()) {
            iam.createUser(b -> b.userName("fan-nokms"));
            iam.putUserPolicy(b -> b.userName("fan-nokms").policyName("kinesis").policyDocument("""
                    {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}}"""));
            var key = iam.createAccessKey(b -> b.userName("fan-nokms")).accessKey();
            KinesisSdkContract.sleep(1_500); // the node's identity directory reloads
            long created = kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary()
                    .streamCreationTimestamp().getEpochSecond();
            KinesisSdkContract.sleep(EXCLUSIVE.toMillis()); // the root's subscription's window
            try (FanOutClient user = new FanOutClient(node.endpoint(), key.accessKeyId(), key.secretAccessKey())) {
                FanOutClient.Subscribed denied = user.subscribe(consumer, "shardId-000000000000", at(ShardIteratorType.TRIM_HORIZON));
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> denied.ended.get(30, TimeUnit.SECONDS));
                KinesisException k = (KinesisException) e.getCause();
                assertEquals("KMSAccessDeniedException", k.awsErrorDetails().errorCode());
                assertEquals("User fan-nokms is not authorized to decrypt records in stream 000000000000:" + stream + ":" + created,
                        k.awsErrorDetails().errorMessage());
                assertTrue(denied.events.stream().allMatch(a -> a.event().records().isEmpty()), "no record before the denial");
            }
        }
    }

    /**
     * Push, measured (printed, not asserted): put → event latency with one and with five subscribers on a
     * shard, each of which must receive every record; and records per second pushed to one subscriber
     * catching up from TRIM_HORIZON.
     */
    @Test
    void fiveSubscribersEachReceiveEveryRecordPushedFromTheTip() throws Exception {
        String stream = "fan-latency";
        TestNode.createActive(kinesis, stream, 1);
        String shard = "shardId-000000000000";
        List<String> consumers = new ArrayList<>();
        for (int c = 0; c < 5; c++) consumers.add(fanOut.registerActive(streamArn(stream), "lat-" + c));
        int earlier = 0;
        for (int subscribers : new int[] {1, 5}) {
            List<FanOutClient.Subscribed> subs = new ArrayList<>();
            for (int c = 0; c < subscribers; c++) {
                FanOutClient.Subscribed s = fanOut.subscribe(consumers.get(c), shard, at(ShardIteratorType.LATEST));
                assertNotNull(s.next(Duration.ofSeconds(10)), "subscription placed");
                subs.add(s);
            }
            Map<String, Long> putAt = new HashMap<>();
            Map<String, Long> ackAt = new HashMap<>();
            List<String> order = new ArrayList<>();
            for (int i = 0; i < 100; i++) { // well inside the subscriptions' (test) lifetime
                long t = System.nanoTime();
                String seq = kinesis.putRecord(b -> b.streamName(stream).partitionKey("p")
                        .data(SdkBytes.fromUtf8String("latency"))).sequenceNumber();
                putAt.put(seq, t);
                ackAt.put(seq, System.nanoTime());
                order.add(seq);
                KinesisSdkContract.sleep(2);
            }
            earlier += order.size();
            List<Long> latencies = new ArrayList<>();
            List<Long> sinceAck = new ArrayList<>();
            for (FanOutClient.Subscribed s : subs) {
                List<String> got = new ArrayList<>();
                while (got.size() < order.size()) {
                    FanOutClient.Arrived a = s.next(Duration.ofSeconds(30));
                    assertNotNull(a, "only " + got.size() + " of " + order.size() + " records reached a subscriber");
                    for (Record r : a.event().records()) {
                        got.add(r.sequenceNumber());
                        latencies.add(a.atNanos() - putAt.get(r.sequenceNumber()));
                        sinceAck.add(a.atNanos() - ackAt.get(r.sequenceNumber()));
                    }
                }
                assertEquals(order, got, "every subscriber receives every record once, in order");
                s.cancel();
            }
            latencies.sort(null);
            sinceAck.sort(null);
            System.out.printf("SubscribeToShard, %d subscriber(s), %d records each: PutRecord call -> event p50 %.1f ms, p99 %.1f ms;"
                            + " put acknowledged -> event p50 %.1f ms, p99 %.1f ms%n",
                    subscribers, order.size(), latencies.get(latencies.size() / 2) / 1e6,
                    latencies.get((int) (latencies.size() * 0.99)) / 1e6, sinceAck.get(sinceAck.size() / 2) / 1e6,
                    sinceAck.get((int) (sinceAck.size() * 0.99)) / 1e6);
            KinesisSdkContract.sleep(EXCLUSIVE.toMillis()); // before the same consumers subscribe again
        }
        // catch-up throughput: records pushed to one subscriber from TRIM_HORIZON, over its first subscription
        // (the test's lifetime is short: later subscriptions continue where it ended)
        Map<String, byte[]> backlog = put(stream, new Random(SEED + 7), 10_000);
        List<Record> got = new ArrayList<>();
        StartingPosition position = at(ShardIteratorType.TRIM_HORIZON);
        double firstRate = 0;
        for (int subscription = 0; got.size() < earlier + backlog.size(); subscription++) {
            assertTrue(subscription < 10, "seed " + SEED + ": too many renewals");
            if (subscription > 0) KinesisSdkContract.sleep(EXCLUSIVE.toMillis());
            long start = System.nanoTime();
            FanOutClient.Subscribed s = fanOut.subscribe(consumers.get(0), shard, position);
            int before = got.size();
            SubscribeToShardEvent last = s.drain(got, earlier + backlog.size());
            if (subscription == 0) firstRate = (got.size() - before) / ((System.nanoTime() - start) / 1e9);
            s.cancel();
            if (last != null) position = after(last.continuationSequenceNumber());
        }
        assertEquals(new ArrayList<>(backlog.keySet()), got.subList(earlier, got.size()).stream().map(Record::sequenceNumber).toList());
        System.out.printf("SubscribeToShard catch-up from TRIM_HORIZON: %.0f records/s pushed to one subscriber%n", firstRate);
    }

    @Test
    void refusals() {
        String stream = "fan-refusals";
        TestNode.createActive(kinesis, stream, 1);
        String consumer = fanOut.registerActive(streamArn(stream), "refused");
        assertRefused("ResourceNotFoundException", "Shard shardId-000000000007 in stream fan-refusals under account 000000000000 does not exist",
                fanOut.subscribe(consumer, "shardId-000000000007", at(ShardIteratorType.LATEST)));
        assertRefused("InvalidArgumentException", "StartingSequenceNumber must be provided for ShardIteratorType AT_SEQUENCE_NUMBER.",
                fanOut.subscribe(consumer, "shardId-000000000000", at(ShardIteratorType.AT_SEQUENCE_NUMBER)));
        assertRefused("InvalidArgumentException", null,
                fanOut.subscribe(consumer, "shardId-000000000000", after("12")));
    }

    static void assertRefused(String code, String message, FanOutClient.Subscribed s) {
        CompletionException e = assertThrows(CompletionException.class, () -> s.ended.join());
        KinesisException k = (KinesisException) e.getCause();
        assertEquals(code, k.awsErrorDetails().errorCode(), k::getMessage);
        if (message != null) assertEquals(message, k.awsErrorDetails().errorMessage());
    }
}
