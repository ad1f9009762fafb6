package io.sluice.node.it;

import io.sluice.deploy.cassandra.EmbeddedCassandra;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.KinesisException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Cassandra lost under a running node, on a Cassandra of this test's own: while it is down every put
 * is refused with an error the AWS SDKs retry (never a hang, never a client error), nothing is
 * acknowledged that is not stored, and when Cassandra is back the node serves again by itself with
 * every acknowledged record in place.
 */
class CassandraOutageTest {
    /**
     * How soon the node tries Cassandra again, shortened from the defaults (the driver reconnects after up to
     * 60 s, the journal's circuit breaker stays open 30 s and the snapshot store's 60 s once tripped), which
     * would otherwise be most of this test's time: recovery still happens by itself, only sooner.
     */
    static final String FAST_RECOVERY = """
            datastax-java-driver.advanced.reconnection-policy.max-delay = 2s
            pekko.persistence.cassandra.journal.circuit-breaker.reset-timeout = 2s
            pekko.persistence.cassandra.snapshot.circuit-breaker.reset-timeout = 2s
            """;

    @Test
    void putsAreRefusedRetryablyWhileCassandraIsDownAndNothingAcknowledgedIsLost() throws Exception {
        Path dir = Files.createTempDirectory("sluice-outage-cassandra");
        int cqlPort = CassandraForTests.freePort();
        int storagePort = CassandraForTests.freePort();
        EmbeddedCassandra cassandra = EmbeddedCassandra.start(dir, cqlPort, storagePort, Duration.ofSeconds(180));
        try (TestNode node = new TestNode(new MutableClock(), "sluice.cassandra.contact-points = [\"127.0.0.1:" + cqlPort
                + "\"]\nsluice.ask-timeout = 3s\n" + FAST_RECOVERY).start();
             KinesisClient kinesis = node.kinesisClient();
             KinesisClient once = KinesisClient.builder().endpointOverride(node.endpoint())
                     .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                     .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                             software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                     .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.builder()
                             .socketTimeout(Duration.ofSeconds(60)).build())
                     .overrideConfiguration(o -> o.retryPolicy(RetryPolicy.none())).build()) {
            TestNode.createActive(kinesis, "outage", 1);
            List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 20; i++) acknowledged.add(put(kinesis, "before-" + i));

            cassandra.stop();
            int refused = 0;
            List<String> refusals = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                try {
                    acknowledged.add(put(once, "during-" + i));
                    fail("a put was acknowledged while Cassandra was down");
                } catch (KinesisException e) {
                    refused++;
                    refusals.add(e.statusCode() + " " + e.awsErrorDetails().errorCode());
                    // what the AWS SDKs, the KCL and the KPL retry with back-off: 5xx, and throttling
                    assertTrue(e.statusCode() >= 500 || e.isThrottlingException(),
                            "not an error clients retry: " + e.statusCode() + " " + e.awsErrorDetails().errorCode());
                }
            }
            assertEquals(4, refused);

            cassandra = EmbeddedCassandra.start(dir, cqlPort, storagePort, Duration.ofSeconds(180));
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            String back = null;
            for (int attempt = 0; back == null; attempt++) {
                try {
                    back = put(once, "attempt-" + attempt);
                } catch (KinesisException stillRecovering) {
                    assertTrue(System.nanoTime() < deadline, "the node did not serve again after Cassandra came back");
                    Thread.sleep(500);
                }
            }
            acknowledged.add(back);
            for (int i = 0; i < 10; i++) acknowledged.add(put(kinesis, "after-" + i));
            System.out.println("Cassandra outage: " + refused + " puts refused while it was down (" + refusals + ")");

            // every acknowledged record once, in order; a refused put may have been stored (it may or may not have
            // taken effect, as the message says), so those are allowed, but only where they were refused
            List<String> read = TestNode.readShard(kinesis, "outage", "shardId-000000000000", null).stream()
                    .map(rec -> rec.sequenceNumber() + "=" + rec.data().asUtf8String()).toList();
            List<String> readAcknowledged = read.stream()
                    .filter(s -> acknowledged.contains(s) || !(s.contains("=during-") || s.contains("=attempt-"))).toList();
            assertEquals(acknowledged, readAcknowledged);
        } finally {
            cassandra.stop();
        }
    }

    private static String put(KinesisClient kinesis, String text) {
        String seq = kinesis.putRecord(b -> b.streamName("outage").partitionKey("k").data(SdkBytes.fromUtf8String(text)))
                .sequenceNumber();
        return seq + "=" + text;
    }
}
