package io.sluice.node.it;

import io.sluice.node.kcl.ProcessedLog;
import io.sluice.node.kcl.ProducerProcess;
import io.sluice.node.kcl.WorkerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.Record;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The two most used Kinesis libraries with their default settings (endpoints and certificate trust aside)
 * against one node: the real Kinesis Producer Library 0.15.12 (its native daemon, HTTPS with
 * {@code VerifyCertificate=false}, STS GetCallerIdentity at start, aggregated records) writes
 * {@value #DEFAULT_RECORDS} records into an encrypted stream, and a real KCL 3.1.3 worker with its default
 * retrieval (enhanced fan-out: RegisterStreamConsumer, SubscribeToShard over HTTP/2) processes them,
 * de-aggregating what the KPL packed. Every record must be processed; duplicates are counted and reported.
 */
class KplFanOutTest {
    static final int DEFAULT_RECORDS = 100_000;
    static final int RECORDS = Integer.getInteger("sluice.kpl.records", DEFAULT_RECORDS);
    static final String STREAM = "kpl-fan-out";
    static final String APPLICATION = "kpl-fan-out-" + Long.toHexString(System.nanoTime());
    static final int SHARDS = 4;

    private TestNode node;
    private KinesisClient kinesis;
    private WorkerProcess worker;
    private ProducerProcess producer;

    @AfterEach
    void stop() throws Exception {
        // each closed even if one before it fails, so that no process outlives the test
        try (TestNode n = node; KinesisClient k = kinesis; WorkerProcess w = worker; ProducerProcess p = producer) {
            // closed in reverse order: producer (and its native daemon), worker, client, node
        }
    }

    @Test
    void aKplProducerAndAFanOutKclConsumerMoveEveryRecordThroughAnEncryptedStream() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        kinesis = node.kinesisClient();
        TestNode.createActive(kinesis, STREAM, SHARDS);
        kinesis.startStreamEncryption(b -> b.streamName(STREAM).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        TestNode.awaitActive(kinesis, STREAM);

        Path dir = Files.createTempDirectory("sluice-kpl");
        worker = WorkerProcess.start(dir, "fan-out-worker", node.endpoint(), STREAM, APPLICATION, node.accessKeyId,
                node.secretKey, List.of("kcl.retrieval=fanout"));

        // the KPL in a process of its own: its Java side needs protobuf 3.x, the KCL 4.x (see ProducerProcess)
        producer = ProducerProcess.start(dir, "127.0.0.1", node.httpsEndpoint().getPort(), STREAM, RECORDS,
                node.accessKeyId, node.secretKey);
        ProducerProcess.Result written = producer.await(Duration.ofSeconds(180));
        assertEquals(0, written.failures(), "KPL records that failed:\n" + producer.tail(20));
        assertEquals(RECORDS, written.records());
        assertEquals(0, producer.exitValue(), producer.tail(20));
        System.out.printf("KPL 0.15.12 over HTTPS: %d user records in %.1f s, %.0f records/s%n",
                written.records(), written.seconds(), written.records() / written.seconds());

        // what the KPL stored: aggregated records (fewer Kinesis records than user records), untouched and encrypted
        List<Record> stored = TestNode.readShard(kinesis, STREAM, "shardId-000000000000", null);
        assertFalse(stored.isEmpty());
        assertTrue(stored.size() < RECORDS / SHARDS, "the KPL aggregated: " + stored.size() + " Kinesis records in one shard");
        byte[] magic = {(byte) 0xF3, (byte) 0x89, (byte) 0x9A, (byte) 0xC2};
        long aggregated = stored.stream().filter(r -> java.util.Arrays.equals(magic,
                java.util.Arrays.copyOf(r.data().asByteArray(), 4))).count();
        assertTrue(aggregated > 0, "the KPL's aggregated records (its magic first), stored untouched; of " + stored.size()
                + " records, the first begins " + java.util.HexFormat.of().formatHex(java.util.Arrays.copyOf(stored.get(0).data().asByteArray(), 8))
                + " with key " + stored.get(0).partitionKey());
        System.out.printf("one shard holds %d Kinesis records, %d of them KPL aggregates%n", stored.size(), aggregated);
        assertEquals(EncryptionType.KMS, stored.get(0).encryptionType());

        long processStart = System.nanoTime();
        Map<String, Integer> seen = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
        while (true) {
            seen.clear();
            for (ProcessedLog.Event e : worker.events()) {
                if (e instanceof ProcessedLog.Processed p) seen.merge(new String(p.data(), StandardCharsets.UTF_8), 1, Integer::sum);
            }
            if (seen.size() >= RECORDS) break;
            assertTrue(worker.isAlive(), "the KCL worker died:\n" + worker.tail(40));
            if (System.nanoTime() > deadline) {
                fail("the fan-out KCL worker processed " + seen.size() + " of " + RECORDS + " records:\n" + worker.tail(40));
            }
            Thread.sleep(500);
        }
        for (int i = 0; i < RECORDS; i++) assertTrue(seen.containsKey("kpl-" + i), "record kpl-" + i + " processed");
        assertEquals(RECORDS, seen.size(), "nothing processed that was not written");
        long duplicates = seen.values().stream().mapToLong(n -> n - 1).sum();
        System.out.printf("KCL 3.1.3 with enhanced fan-out: all %d records processed (%d duplicates) %.1f s after the KPL finished%n",
                RECORDS, duplicates, (System.nanoTime() - processStart) / 1e9);
        // the KCL registered its consumer (named after the application), as fan-out retrieval does
        assertEquals(List.of(APPLICATION), kinesis.listStreamConsumers(b -> b.streamARN(
                        "arn:aws:kinesis:us-east-1:000000000000:stream/" + STREAM)).consumers().stream()
                .map(software.amazon.awssdk.services.kinesis.model.Consumer::consumerName).toList());
    }
}
