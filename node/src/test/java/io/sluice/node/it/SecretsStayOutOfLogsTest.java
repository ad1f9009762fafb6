package io.sluice.node.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Everything a node logs, from its start to its stop, while it creates an IAM access key, encrypts
 * and generates a data key in KMS, puts to and reads from a KMS-encrypted stream and refuses a bad
 * signature, holds none of the secrets it handled: the root secret, the new user's secret, the
 * iterator secret, the root key, data key and Encrypt plaintexts, and the private key of its TLS
 * certificate.
 */
class SecretsStayOutOfLogsTest {
    static final SecureRandom RANDOM = new SecureRandom();

    static String randomBase64(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    /** A binary secret in the forms it could be printed in. */
    static void addBinaryForms(Map<String, String> secrets, String name, byte[] bytes) {
        secrets.put(name + " (base64)", Base64.getEncoder().encodeToString(bytes));
        secrets.put(name + " (hex)", HexFormat.of().formatHex(bytes));
    }

    /** The text of a log event as any appender could write it: message, arguments, exceptions with their stacks, MDC. */
    static String everythingIn(ILoggingEvent e) {
        StringBuilder out = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
        if (e.getArgumentArray() != null) {
            for (Object argument : e.getArgumentArray()) out.append(' ').append(argument);
        }
        if (e.getThrowableProxy() != null) out.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
        e.getMDCPropertyMap().forEach((k, v) -> out.append(' ').append(k).append('=').append(v));
        return out.toString();
    }

    @Test
    void nothingTheNodeLogsHoldsASecret() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger sluice = (Logger) LoggerFactory.getLogger("io.sluice");
        Level sluiceLevel = sluice.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        sluice.setLevel(Level.DEBUG); // Sluice's own debug lines too, should any be added

        Map<String, String> secrets = new LinkedHashMap<>();
        String rootKey = randomBase64(32);
        String iteratorSecret = randomBase64(32);
        secrets.put("root key", rootKey);
        addBinaryForms(secrets, "root key", Base64.getDecoder().decode(rootKey));
        secrets.put("iterator secret", iteratorSecret);
        addBinaryForms(secrets, "iterator secret", Base64.getDecoder().decode(iteratorSecret));
        TestNode node = new TestNode(new MutableClock(), "sluice.kms.root-key = \"" + rootKey + "\"\n"
                + "sluice.iterator-secret = \"" + iteratorSecret + "\"");
        secrets.put("root secret access key", node.secretKey);
        try {
            node.start();
            // the HTTPS listener's private key, generated into the data folder at start
            java.security.PrivateKey tlsKey = io.sluice.node.tls.PemFiles.readPrivateKey(
                    node.dataDir.resolve(io.sluice.node.tls.ServerCertificate.KEY_FILE));
            addBinaryForms(secrets, "TLS private key (PKCS#8)", tlsKey.getEncoded());
            secrets.put("TLS private scalar", ((java.security.interfaces.ECPrivateKey) tlsKey).getS().toString(16));
            SignedHttp rootHttp = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey);

            // IAM (Query protocol): a user and its new access key
            SignedHttp iam = rootHttp.forService("iam");
            String form = "application/x-www-form-urlencoded; charset=utf-8";
            HttpResponse<byte[]> user = iam.post(null, form, "Action=CreateUser&UserName=logcheck&Version=2010-05-08".getBytes());
            assertEquals(200, user.statusCode(), new String(user.body(), StandardCharsets.UTF_8));
            HttpResponse<byte[]> created = iam.post(null, form,
                    "Action=CreateAccessKey&UserName=logcheck&Version=2010-05-08".getBytes());
            String answer = new String(created.body(), StandardCharsets.UTF_8);
            assertEquals(200, created.statusCode(), answer);
            Matcher id = Pattern.compile("<AccessKeyId>([^<]+)</AccessKeyId>").matcher(answer);
            Matcher secret = Pattern.compile("<SecretAccessKey>([^<]+)</SecretAccessKey>").matcher(answer);
            assertTrue(id.find() && secret.find(), answer);
            secrets.put("user secret access key", secret.group(1));

            String keyArn;
            try (KmsClient kms = KmsClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                    .httpClient(UrlConnectionHttpClient.create()).build()) {
                keyArn = kms.createKey(b -> b.description("log check")).keyMetadata().arn();
                byte[] plaintext = new byte[48];
                RANDOM.nextBytes(plaintext);
                addBinaryForms(secrets, "Encrypt plaintext", plaintext);
                byte[] blob = kms.encrypt(b -> b.keyId(keyArn).plaintext(SdkBytes.fromByteArray(plaintext))).ciphertextBlob().asByteArray();
                assertArrayEquals(plaintext, kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(blob))).plaintext().asByteArray());
                byte[] dataKey = kms.generateDataKey(b -> b.keyId(keyArn).keySpec(DataKeySpec.AES_256)).plaintext().asByteArray();
                addBinaryForms(secrets, "data key plaintext", dataKey);
            }

            // a stream encrypted with that key: a put seals with a data key the node generates, a get opens it
            try (KinesisClient kinesis = node.kinesisClient()) {
                TestNode.createActive(kinesis, "sealed", 1);
                kinesis.startStreamEncryption(b -> b.streamName("sealed").encryptionType(EncryptionType.KMS).keyId(keyArn));
                TestNode.awaitActive(kinesis, "sealed");
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (kinesis.putRecord(b -> b.streamName("sealed").partitionKey("k").data(SdkBytes.fromUtf8String("sealed record")))
                        .encryptionType() != EncryptionType.KMS) {
                    assertTrue(System.nanoTime() < deadline, "puts never became encrypted");
                    Thread.sleep(200);
                }
                String iterator = kinesis.getShardIterator(b -> b.streamName("sealed").shardId("shardId-000000000000")
                        .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
                assertFalse(kinesis.getRecords(b -> b.shardIterator(iterator)).records().isEmpty());
            }

            // failing signature checks, with the root's and the user's key ids
            for (String keyId : List.of(node.accessKeyId, id.group(1))) {
                HttpResponse<byte[]> refused = new SignedHttp(node.endpoint(), keyId, "not-the-secret")
                        .post("Kinesis_20131202.DescribeStream", "application/x-amz-json-1.1", "{\"StreamName\":\"sealed\"}".getBytes());
                assertEquals(400, refused.statusCode());
                assertTrue(new String(refused.body(), StandardCharsets.UTF_8).contains("InvalidSignatureException"));
            }
        } finally {
            node.close();
            root.detachAppender(captured);
            sluice.setLevel(sluiceLevel);
        }

        List<String> lines = captured.list.stream().map(SecretsStayOutOfLogsTest::everythingIn).toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains(node.accessKeyId)),
                "the start-up line names the root access key id (so the credentials were printed, redacted)");
        List<String> leaks = new ArrayList<>();
        for (String line : lines) {
            secrets.forEach((name, value) -> {
                if (line.contains(value)) leaks.add(name + " in: " + line);
            });
        }
        assertEquals(List.of(), leaks, lines.size() + " log lines checked");
    }
}
