package io.sluice.node.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StartingPosition;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A subscriber that follows the contract (subscribe again AFTER the last ContinuationSequenceNumber when a
 * subscription ends) loses no acknowledged record when the node is stopped and started under it while a
 * producer keeps writing: its subscription breaks, the puts made while the node is down fail (and are not
 * acknowledged), and after the restart the subscriber reads on from the journal. Every acknowledged record
 * arrives, once, in order.
 */
class SubscribeToShardRestartTest {
    private TestNode node;
    private KinesisClient kinesis;
    private FanOutClient fanOut;

    @AfterEach
    void stop() {
        if (fanOut != null) fanOut.close();
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    /** Every acknowledged record received (a put that failed at the client may have been stored too: it may come as well). */
    private static boolean caughtUp(List<String> received, List<String> acknowledged) {
        synchronized (acknowledged) {
            return new java.util.HashSet<>(received).containsAll(acknowledged);
        }
    }

    @Test
    void everyAcknowledgedRecordArrivesOnceInOrderAcrossARestartOfTheNode() throws Exception {
        node = new TestNode(Clock.systemUTC(), """
                sluice.fan-out.exclusive-window = 1s
                sluice.fan-out.heartbeat = 1s
                sluice.shard.tail-bytes = 16 KiB
                """).start();
        kinesis = node.kinesisClient();
        fanOut = new FanOutClient(node.endpoint(), node.accessKeyId, node.secretKey);
        String stream = "fan-restart";
        TestNode.createActive(kinesis, stream, 1);
        String consumer = fanOut.registerActive("arn:aws:kinesis:us-east-1:000000000000:stream/" + stream, "survivor");

        List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean producing = new AtomicBoolean(true);
        Thread producer = new Thread(() -> {
            for (int i = 0; producing.get(); i++) {
                int n = i;
                try {
                    acknowledged.add(kinesis.putRecord(b -> b.streamName(stream).partitionKey("k" + n)
                            .data(SdkBytes.fromUtf8String("r-" + n + "-" + "x".repeat(n % 500)))).sequenceNumber());
                } catch (RuntimeException down) {
                    // not acknowledged: the node is stopped
                }
                KinesisSdkContract.sleep(3);
            }
        }, "restart-producer");
        producer.start();

        List<String> received = new ArrayList<>();
        StartingPosition position = StartingPosition.builder().type(ShardIteratorType.TRIM_HORIZON).build();
        int subscriptions = 0;
        boolean restarted = false;
        long restartAt = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            assertTrue(System.nanoTime() < deadline, "caught up in time: " + received.size() + " of " + acknowledged.size());
            if (!producing.get() && caughtUp(received, acknowledged)) break;
            FanOutClient.Subscribed s = fanOut.subscribe(consumer, "shardId-000000000000", position);
            subscriptions++;
            String continuation = null;
            while (true) {
                FanOutClient.Arrived a = s.next(Duration.ofMillis(200));
                if (a != null) {
                    for (Record r : a.event().records()) received.add(r.sequenceNumber());
                    continuation = a.event().continuationSequenceNumber();
                } else if (s.ended.isDone()) {
                    break;
                }
                if (!restarted && System.nanoTime() > restartAt) {
                    // the node goes away under the subscription and the producer, and comes back
                    node.stop();
                    KinesisSdkContract.sleep(1_000);
                    node.start();
                    restarted = true;
                    KinesisSdkContract.sleep(3_000);
                    producing.set(false);
                    producer.join(30_000);
                }
                if (!producing.get() && caughtUp(received, acknowledged)) {
                    s.cancel();
                    break;
                }
            }
            if (continuation != null) {
                position = StartingPosition.builder().type(ShardIteratorType.AFTER_SEQUENCE_NUMBER).sequenceNumber(continuation).build();
            }
            if (!s.ended.isDone() || s.ended.isCompletedExceptionally()) KinesisSdkContract.sleep(1_100); // past the window
        }
        assertTrue(restarted);
        assertTrue(subscriptions >= 2, "the restart broke the subscription and the subscriber came back: " + subscriptions);
        Set<String> distinct = new LinkedHashSet<>(received);
        assertEquals(received.size(), distinct.size(), "no record twice");
        List<String> sorted = new ArrayList<>(received);
        sorted.sort((a, b) -> new java.math.BigInteger(a).compareTo(new java.math.BigInteger(b)));
        assertEquals(sorted, received, "in order");
        List<String> missing = new ArrayList<>(acknowledged);
        missing.removeAll(distinct);
        assertEquals(List.of(), missing, "every acknowledged record arrived");
        System.out.printf("SubscribeToShard across a node restart: %d acknowledged records, %d received, %d subscriptions%n",
                acknowledged.size(), received.size(), subscriptions);
    }
}
