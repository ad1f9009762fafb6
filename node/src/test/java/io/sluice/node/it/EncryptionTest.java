package io.sluice.node.it;

import com.datastax.oss.driver.api.core.CqlSession;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.*;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Server-side encryption end to end with the AWS SDK v2 (Kinesis in CBOR, KMS in JSON): the seed's
 * sequence with the AWS-managed key and with a customer key, the key lifecycle on the data path,
 * and a look into Cassandra proving that only ciphertext is stored.
 */
class EncryptionTest {
    static final MutableClock clock = new MutableClock();
    static TestNode node;
    static KinesisClient kinesis;
    static KmsClient kms;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(clock, "").start();
        connect();
    }

    static void connect() {
        kinesis = node.kinesisClient();
        kms = node.kmsClient();
    }

    @AfterAll
    static void stop() {
        if (kinesis != null) kinesis.close();
        if (kms != null) kms.close();
        if (node != null) node.close();
    }

    static void awaitStatus(String stream, StreamStatus status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus() != status) {
            assertTrue(System.nanoTime() < deadline, stream + " not " + status);
            KinesisSdkContract.sleep(50);
        }
    }

    static String create(String stream) {
        kinesis.createStream(b -> b.streamName(stream).shardCount(1));
        awaitStatus(stream, StreamStatus.ACTIVE);
        return stream;
    }

    static List<software.amazon.awssdk.services.kinesis.model.Record> all(String stream) {
        String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        return kinesis.getRecords(b -> b.shardIterator(it)).records();
    }

    static void encrypt(String stream, String keyId) {
        kinesis.startStreamEncryption(b -> b.streamName(stream).encryptionType(EncryptionType.KMS).keyId(keyId));
        awaitStatus(stream, StreamStatus.ACTIVE);
        // front ends may cache stream metadata for up to a second (AWS allows five)
        KinesisSdkContract.sleep(1200);
    }

    /** The seed, step by step: describe (NONE, null), put a, encrypt with alias/aws/kinesis, put b, read both. */
    void seedSequence(String stream, String keyId) {
        create(stream);
        StreamDescription before = kinesis.describeStream(b -> b.streamName(stream)).streamDescription();
        assertEquals(EncryptionType.NONE, before.encryptionType());
        assertNull(before.keyId());
        PutRecordResponse a = kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("a")).partitionKey("a"));
        assertNull(a.encryptionType());

        encrypt(stream, keyId);
        StreamDescription after = kinesis.describeStream(b -> b.streamName(stream)).streamDescription();
        assertEquals(EncryptionType.KMS, after.encryptionType());
        assertEquals(keyId, after.keyId());

        PutRecordResponse b2 = kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("b")).partitionKey("b"));
        assertEquals(EncryptionType.KMS, b2.encryptionType());
        PutRecordsResponse batch = kinesis.putRecords(b -> b.streamName(stream).records(
                PutRecordsRequestEntry.builder().data(SdkBytes.fromUtf8String("c")).partitionKey("c").build()));
        assertEquals(EncryptionType.KMS, batch.encryptionType());

        List<software.amazon.awssdk.services.kinesis.model.Record> records = all(stream);
        assertEquals(List.of("a", "b", "c"), records.stream().map(r -> r.data().asUtf8String()).toList());
        assertNull(records.get(0).encryptionType());
        assertEquals(EncryptionType.KMS, records.get(1).encryptionType());
        assertEquals(EncryptionType.KMS, records.get(2).encryptionType());
    }

    @Test
    void seedSequenceWithTheAwsManagedKey() {
        seedSequence("sse-default", "alias/aws/kinesis");
        assertTrue(kms.listAliases().aliases().stream().anyMatch(a -> a.aliasName().equals("alias/aws/kinesis")));
    }

    @Test
    void seedSequenceWithACustomerKey() {
        String keyArn = kms.createKey(b -> b.description("producer key")).keyMetadata().arn();
        seedSequence("sse-customer", keyArn);
        kms.createAlias(b -> b.aliasName("alias/orders").targetKeyId(keyArn));
        create("sse-by-alias");
        encrypt("sse-by-alias", "alias/orders");
        kinesis.putRecord(b -> b.streamName("sse-by-alias").data(SdkBytes.fromUtf8String("x")).partitionKey("x"));
        assertEquals("x", all("sse-by-alias").get(0).data().asUtf8String());
    }

    @Test
    void stopStreamEncryptionLeavesOldRecordsAsTheyWere() {
        String stream = create("sse-stop");
        encrypt(stream, "alias/aws/kinesis");
        kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("secret")).partitionKey("k"));
        kinesis.stopStreamEncryption(b -> b.streamName(stream).encryptionType(EncryptionType.KMS).keyId("alias/aws/kinesis"));
        awaitStatus(stream, StreamStatus.ACTIVE);
        KinesisSdkContract.sleep(1200);
        assertNull(kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("plain")).partitionKey("k")).encryptionType());
        var records = all(stream);
        assertEquals(EncryptionType.KMS, records.get(0).encryptionType());
        assertNull(records.get(1).encryptionType());
        assertEquals("plain", records.get(1).data().asUtf8String());
    }

    @Test
    void unknownKeyIsKmsNotFound() {
        String stream = create("sse-unknown");
        assertThrows(KmsNotFoundException.class, () -> kinesis.startStreamEncryption(b -> b.streamName(stream)
                .encryptionType(EncryptionType.KMS).keyId("alias/does-not-exist")));
    }

    @Test
    void keyLifecycleReachesTheDataPath() {
        String keyId = kms.createKey(b -> b.description("lifecycle")).keyMetadata().keyId();
        String stream = create("sse-lifecycle");
        // the test moves the clock past the deletion window: keep the records that long
        kinesis.increaseStreamRetentionPeriod(b -> b.streamName(stream).retentionPeriodHours(8760));
        encrypt(stream, keyId);
        kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("v0")).partitionKey("k"));

        kms.disableKey(b -> b.keyId(keyId));
        KinesisSdkContract.sleep(1200);
        assertThrows(KmsDisabledException.class,
                () -> kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("no")).partitionKey("k")));
        assertThrows(KmsDisabledException.class, () -> putBatch(stream));
        assertThrows(KmsDisabledException.class, () -> all(stream));
        kms.enableKey(b -> b.keyId(keyId));
        KinesisSdkContract.sleep(1200);

        kms.rotateKeyOnDemand(b -> b.keyId(keyId));
        KinesisSdkContract.sleep(1200);
        kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("v1")).partitionKey("k"));
        assertEquals(List.of("v0", "v1"), all(stream).stream().map(r -> r.data().asUtf8String()).toList());

        kms.scheduleKeyDeletion(b -> b.keyId(keyId).pendingWindowInDays(7));
        assertEquals(KeyState.PENDING_DELETION, kms.describeKey(b -> b.keyId(keyId)).keyMetadata().keyState());
        KinesisSdkContract.sleep(1200);
        assertThrows(KmsInvalidStateException.class,
                () -> kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("no")).partitionKey("k")));
        assertThrows(KmsInvalidStateException.class, () -> putBatch(stream));

        clock.advance(Duration.ofDays(8));
        try {
            assertThrows(software.amazon.awssdk.services.kms.model.NotFoundException.class, () -> kms.describeKey(b -> b.keyId(keyId)));
            KinesisSdkContract.sleep(1200);
            KmsNotFoundException gone = assertThrows(KmsNotFoundException.class, () -> all(stream));
            assertTrue(gone.awsErrorDetails().errorMessage().contains("can no longer be decrypted"));
            // PutRecords fails as a whole call, as PutRecord does, never 200 with per-record failures
            assertThrows(KmsNotFoundException.class, () -> putBatch(stream));
            assertThrows(KmsNotFoundException.class,
                    () -> kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String("no")).partitionKey("k")));
        } finally {
            clock.advance(Duration.ofDays(-8));
        }
    }

    @Test
    void onlyCiphertextReachesCassandra() {
        String plainStream = create("sse-marker-plain");
        String encrypted = create("sse-marker-kms");
        encrypt(encrypted, "alias/aws/kinesis");
        String marker = "MARKER-" + System.nanoTime();
        for (String s : List.of(plainStream, encrypted)) {
            kinesis.putRecord(b -> b.streamName(s).data(SdkBytes.fromUtf8String(marker)).partitionKey("k"));
        }
        assertTrue(journalContains(plainStream, marker), "the check can see plaintext where there is some");
        assertFalse(journalContains(encrypted, marker), "plaintext of an encrypted stream reached Cassandra");
        assertEquals(marker, all(encrypted).get(0).data().asUtf8String());
    }

    private static void putBatch(String stream) {
        kinesis.putRecords(b -> b.streamName(stream).records(
                PutRecordsRequestEntry.builder().data(SdkBytes.fromUtf8String("no-1")).partitionKey("a").build(),
                PutRecordsRequestEntry.builder().data(SdkBytes.fromUtf8String("no-2")).partitionKey("b").build()));
    }

    private boolean journalContains(String stream, String marker) {
        try (CqlSession cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()))) {
            return CassandraFiles.shardJournalHolds(cql, node.keyspace, kinesis, stream, 0, marker);
        }
    }

    @Test
    void kmsApiEncryptsWithContextAndRefusesTampering() {
        String keyId = kms.createKey(b -> b.description("api")).keyMetadata().keyId();
        Map<String, String> ctx = Map.of("purpose", "test");
        var encrypted = kms.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromUtf8String("hello")).encryptionContext(ctx));
        assertEquals("hello", kms.decrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob()).encryptionContext(ctx))
                .plaintext().asUtf8String());
        assertThrows(software.amazon.awssdk.services.kms.model.InvalidCiphertextException.class,
                () -> kms.decrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob()).encryptionContext(Map.of("purpose", "other"))));
        byte[] tampered = encrypted.ciphertextBlob().asByteArray();
        tampered[tampered.length - 1] ^= 1;
        assertThrows(software.amazon.awssdk.services.kms.model.InvalidCiphertextException.class,
                () -> kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(tampered)).encryptionContext(ctx)));

        var dataKey = kms.generateDataKey(b -> b.keyId(keyId).keySpec("AES_256"));
        assertEquals(32, dataKey.plaintext().asByteArray().length);
        assertArrayEquals(dataKey.plaintext().asByteArray(),
                kms.decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob())).plaintext().asByteArray());
        var withoutPlaintext = kms.generateDataKeyWithoutPlaintext(b -> b.keyId(keyId).numberOfBytes(64));
        assertEquals(64, kms.decrypt(b -> b.ciphertextBlob(withoutPlaintext.ciphertextBlob())).plaintext().asByteArray().length);

        String other = kms.createKey(b -> b.description("other")).keyMetadata().keyId();
        var re = kms.reEncrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob()).sourceEncryptionContext(ctx)
                .destinationKeyId(other));
        assertTrue(re.keyId().endsWith(other));
        assertEquals("hello", kms.decrypt(b -> b.ciphertextBlob(re.ciphertextBlob())).plaintext().asUtf8String());

        assertThrows(software.amazon.awssdk.services.kms.model.NotFoundException.class,
                () -> kms.describeKey(b -> b.keyId("alias/nope")));
        assertTrue(kms.listKeys().keys().stream().anyMatch(k -> k.keyId().equals(keyId)));
        kms.enableKeyRotation(b -> b.keyId(keyId));
        assertTrue(kms.getKeyRotationStatus(b -> b.keyId(keyId)).keyRotationEnabled());
        kms.disableKeyRotation(b -> b.keyId(keyId));
        assertFalse(kms.getKeyRotationStatus(b -> b.keyId(keyId)).keyRotationEnabled());
        kms.createAlias(b -> b.aliasName("alias/api").targetKeyId(keyId));
        assertThrows(software.amazon.awssdk.services.kms.model.AlreadyExistsException.class,
                () -> kms.createAlias(b -> b.aliasName("alias/api").targetKeyId(keyId)));
        kms.updateAlias(b -> b.aliasName("alias/api").targetKeyId(other));
        assertEquals(other, kms.describeKey(b -> b.keyId("alias/api")).keyMetadata().keyId());
        kms.deleteAlias(b -> b.aliasName("alias/api"));
        assertThrows(software.amazon.awssdk.services.kms.model.NotFoundException.class,
                () -> kms.describeKey(b -> b.keyId("alias/api")));
        kms.scheduleKeyDeletion(b -> b.keyId(other).pendingWindowInDays(7));
        kms.cancelKeyDeletion(b -> b.keyId(other));
        assertEquals(KeyState.DISABLED, kms.describeKey(b -> b.keyId(other)).keyMetadata().keyState());
    }

    @Test
    void everythingStillDecryptsAfterARestart() throws Exception {
        String keyArn = kms.createKey(b -> b.description("restart")).keyMetadata().arn();
        String stream = create("sse-restart");
        encrypt(stream, keyArn);
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String v = "r" + i;
            sent.add(v);
            kinesis.putRecord(b -> b.streamName(stream).data(SdkBytes.fromUtf8String(v)).partitionKey("k"));
        }
        kinesis.close();
        kms.close();
        node.stop();
        node.start();
        connect();
        assertEquals(sent, all(stream).stream().map(r -> r.data().asUtf8String()).toList());
        assertEquals(EncryptionType.KMS, kinesis.describeStream(b -> b.streamName(stream)).streamDescription().encryptionType());
    }
}
