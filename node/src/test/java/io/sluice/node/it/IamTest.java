package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.*;
import software.amazon.awssdk.services.kms.KmsClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The seed's permission story: users, access keys and the seed's producer and consumer policies
 * made through the IAM API with the AWS CLI, then exercised with the AWS SDK v2 against a stream
 * encrypted with a customer key.
 */
class IamTest {
    static TestNode node;
    static KinesisClient root;
    static KmsClient rootKms;
    static String keyArn;
    static final String STREAM = "foo";
    static final String STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/foo";

    @BeforeAll
    static void start() throws Exception {
        String bootstrap = TestNode.iamBootstrap("""
                {"Users": [{"UserName": "boot",
                            "AccessKeys": [{"AccessKeyId": "AKIABOOTSTRAP0000001", "SecretAccessKey": "boot-secret"}],
                            "Policies": {"list": {"Version": "2012-10-17",
                                                  "Statement": [{"Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"}]}}}]}
                """);
        node = new TestNode(new MutableClock(), "sluice.iam.refresh = 200ms\n" + bootstrap).start();
        AwsCliTest.node = node;
        connectRoot();
        keyArn = rootKms.createKey(b -> b.description("orders")).keyMetadata().arn();
        root.createStream(b -> b.streamName(STREAM).shardCount(1));
        EncryptionTest.kinesis = root;
        EncryptionTest.awaitStatus(STREAM, StreamStatus.ACTIVE);
        EncryptionTest.encrypt(STREAM, keyArn);
        root.createStream(b -> b.streamName("bar").shardCount(1));
        EncryptionTest.awaitStatus("bar", StreamStatus.ACTIVE);
        EncryptionTest.encrypt("bar", "alias/aws/kinesis");
    }

    static void connectRoot() {
        root = kinesis(node.accessKeyId, node.secretKey);
        rootKms = KmsClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    @AfterAll
    static void stop() {
        if (root != null) root.close();
        if (rootKms != null) rootKms.close();
        if (node != null) node.close();
        AwsCliTest.node = null;
    }

    static KinesisClient kinesis(String id, String secret) {
        return KinesisClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    static String cli() {
        return AwsCliTest.anyCli();
    }

    /** Creates a user with the given policies (by CLI) and returns an SDK client signed with its new access key. */
    static KinesisClient user(String name, String... policies) throws Exception {
        AwsCliTest.ok(cli(), "iam", "create-user", "--user-name", name);
        for (int i = 0; i < policies.length; i++) {
            Path file = Files.createTempFile("policy", ".json");
            Files.writeString(file, policies[i]);
            AwsCliTest.ok(cli(), "iam", "put-user-policy", "--user-name", name, "--policy-name", "p" + i,
                    "--policy-document", "file://" + file);
        }
        JsonNode key = AwsCliTest.ok(cli(), "iam", "create-access-key", "--user-name", name).get("AccessKey");
        return kinesis(key.get("AccessKeyId").asText(), key.get("SecretAccessKey").asText());
    }

    // The seed's documents, in shape: Version, Statement list, Effect/Action/Resource per statement.
    static String producerPolicy(String key, String stream) {
        return """
                {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": "%s"},
                               {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": "%s"}]}
                """.formatted(key, stream);
    }

    static String consumerPolicy(String key, String stream) {
        return """
                {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "%s"},
                               {"Effect": "Allow", "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"],
                                "Resource": "%s"}]}
                """.formatted(key, stream);
    }

    static String kinesisOnly() {
        return """
                {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:*",
                 "Resource": "arn:aws:kinesis:*:000000000000:stream/*"}}
                """;
    }

    static void put(KinesisClient c, String stream, String data) {
        c.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String(data)));
    }

    static List<String> read(KinesisClient c, String stream) {
        String it = c.getShardIterator(b -> b.streamName(stream).shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        return c.getRecords(b -> b.shardIterator(it)).records().stream().map(r -> r.data().asUtf8String()).toList();
    }

    @Test
    void usersFromTheBootstrapFileCanSignIn() {
        try (KinesisClient boot = kinesis("AKIABOOTSTRAP0000001", "boot-secret")) {
            assertNotNull(boot.listStreams());
            assertThrows(AccessDeniedException.class, () -> boot.describeStreamSummary(b -> b.streamName(STREAM)));
        }
    }

    @Test
    void producerPutsButCannotReadAndConsumerReadsButCannotPut() throws Exception {
        KinesisClient producer = user("producer", producerPolicy(keyArn, STREAM_ARN));
        KinesisClient consumer = user("consumer", consumerPolicy(keyArn, STREAM_ARN));
        put(producer, STREAM, "from-producer");
        AccessDeniedException noRead = assertThrows(AccessDeniedException.class, () -> read(producer, STREAM));
        assertEquals("User: arn:aws:iam::000000000000:user/producer is not authorized to perform: kinesis:GetShardIterator on resource: "
                + STREAM_ARN, noRead.awsErrorDetails().errorMessage());
        assertTrue(read(consumer, STREAM).contains("from-producer"));
        assertThrows(AccessDeniedException.class, () -> put(consumer, STREAM, "no"));
    }

    @Test
    void kinesisRightsWithoutKmsRightsGetTheSeedsKmsAccessDenied() throws Exception {
        KinesisClient user = user("nokms", kinesisOnly());
        long created = root.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary()
                .streamCreationTimestamp().getEpochSecond();
        KmsAccessDeniedException put = assertThrows(KmsAccessDeniedException.class, () -> put(user, STREAM, "x"));
        assertEquals("User nokms is not authorized to encrypt records in stream 000000000000:foo:" + created,
                put.awsErrorDetails().errorMessage());
        // PutRecords is refused as a whole (as AWS lists the KMS errors among PutRecords' own), not entry by entry
        KmsAccessDeniedException batch = assertThrows(KmsAccessDeniedException.class, () -> user.putRecords(b -> b.streamName(STREAM)
                .records(PutRecordsRequestEntry.builder().partitionKey("a").data(SdkBytes.fromUtf8String("a")).build(),
                        PutRecordsRequestEntry.builder().partitionKey("b").data(SdkBytes.fromUtf8String("b")).build())));
        assertEquals("User nokms is not authorized to encrypt records in stream 000000000000:foo:" + created,
                batch.awsErrorDetails().errorMessage());
        put(root, STREAM, "by-root");
        KmsAccessDeniedException get = assertThrows(KmsAccessDeniedException.class, () -> read(user, STREAM));
        assertEquals("User nokms is not authorized to decrypt records in stream 000000000000:foo:" + created,
                get.awsErrorDetails().errorMessage());
        // the AWS-managed key needs no KMS permission
        put(user, "bar", "managed");
        assertTrue(read(user, "bar").contains("managed"));
    }

    @Test
    void denyOverridesAllowAndWildcardsMatch() throws Exception {
        String deny = """
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kinesis:Put*", "Resource": "*"}]}
                """;
        KinesisClient denied = user("denied", kinesisOnly(), deny);
        assertTrue(assertThrows(AccessDeniedException.class, () -> put(denied, "bar", "x")).awsErrorDetails().errorMessage()
                .endsWith("with an explicit deny"));
        assertNotNull(denied.describeStreamSummary(b -> b.streamName("bar")));
        KinesisClient wild = user("wild", """
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:?utRecord", "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/ba*"}]}
                """);
        put(wild, "bar", "wild");
        assertThrows(AccessDeniedException.class, () -> wild.describeStreamSummary(b -> b.streamName("bar")));
    }

    @Test
    void inactiveAndDeletedKeysAreRefused() throws Exception {
        AwsCliTest.ok(cli(), "iam", "create-user", "--user-name", "keys");
        JsonNode key = AwsCliTest.ok(cli(), "iam", "create-access-key", "--user-name", "keys").get("AccessKey");
        String id = key.get("AccessKeyId").asText();
        AwsCliTest.ok(cli(), "iam", "put-user-policy", "--user-name", "keys", "--policy-name", "all",
                "--policy-document", "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}");
        KinesisClient c = kinesis(id, key.get("SecretAccessKey").asText());
        assertNotNull(c.listStreams());
        AwsCliTest.ok(cli(), "iam", "update-access-key", "--user-name", "keys", "--access-key-id", id, "--status", "Inactive");
        KinesisException inactive = assertThrows(KinesisException.class, c::listStreams);
        assertEquals("UnrecognizedClientException", inactive.awsErrorDetails().errorCode());
        AwsCliTest.ok(cli(), "iam", "update-access-key", "--user-name", "keys", "--access-key-id", id, "--status", "Active");
        assertNotNull(c.listStreams());
        JsonNode listed = AwsCliTest.ok(cli(), "iam", "list-access-keys", "--user-name", "keys");
        assertEquals(id, listed.get("AccessKeyMetadata").get(0).get("AccessKeyId").asText());
        AwsCliTest.ok(cli(), "iam", "create-access-key", "--user-name", "keys");
        AwsCliTest.fails(cli(), "LimitExceeded", "iam", "create-access-key", "--user-name", "keys");
        AwsCliTest.ok(cli(), "iam", "delete-access-key", "--user-name", "keys", "--access-key-id", id);
        assertEquals("UnrecognizedClientException", assertThrows(KinesisException.class, c::listStreams).awsErrorDetails().errorCode());
    }

    @ParameterizedTest
    @MethodSource("io.sluice.node.it.AwsCliTest#clis")
    void iamApiWorksWithBothClis(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        String name = "cli-" + version;
        JsonNode user = AwsCliTest.ok(cli, "iam", "create-user", "--user-name", name).get("User");
        assertEquals("arn:aws:iam::000000000000:user/" + name, user.get("Arn").asText());
        AwsCliTest.fails(cli, "EntityAlreadyExists", "iam", "create-user", "--user-name", name);
        assertEquals(name, AwsCliTest.ok(cli, "iam", "get-user", "--user-name", name).get("User").get("UserName").asText());
        List<String> names = new ArrayList<>();
        AwsCliTest.ok(cli, "iam", "list-users").get("Users").forEach(u -> names.add(u.get("UserName").asText()));
        assertTrue(names.contains(name));
        String policy = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kinesis:ListStreams\",\"Resource\":\"*\"}]}";
        AwsCliTest.ok(cli, "iam", "put-user-policy", "--user-name", name, "--policy-name", "list", "--policy-document", policy);
        assertEquals("list", AwsCliTest.ok(cli, "iam", "list-user-policies", "--user-name", name).get("PolicyNames").get(0).asText());
        JsonNode got = AwsCliTest.ok(cli, "iam", "get-user-policy", "--user-name", name, "--policy-name", "list");
        assertEquals("kinesis:ListStreams", got.get("PolicyDocument").get("Statement").get(0).get("Action").asText());
        AwsCliTest.fails(cli, "MalformedPolicyDocument", "iam", "put-user-policy", "--user-name", name, "--policy-name", "bad",
                "--policy-document", "{\"Statement\":[{\"Action\":\"kinesis:*\",\"Resource\":\"*\"}]}");
        AwsCliTest.fails(cli, "DeleteConflict", "iam", "delete-user", "--user-name", name);
        AwsCliTest.ok(cli, "iam", "delete-user-policy", "--user-name", name, "--policy-name", "list");
        AwsCliTest.ok(cli, "iam", "delete-user", "--user-name", name);
        AwsCliTest.fails(cli, "NoSuchEntity", "iam", "get-user", "--user-name", name);
    }

    @Test
    void usersKeysAndPoliciesSurviveARestart() throws Exception {
        KinesisClient producer = user("durable", producerPolicy(keyArn, STREAM_ARN));
        var credentials = producer.serviceClientConfiguration().credentialsProvider().resolveIdentity().join();
        node.stop();
        node.start();
        root.close();
        rootKms.close();
        connectRoot();
        EncryptionTest.kinesis = root;
        KinesisClient again = kinesis(credentials.accessKeyId(), credentials.secretAccessKey());
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                put(again, STREAM, "after-restart");
                break;
            } catch (KinesisException e) {
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(200);
            }
        }
        assertThrows(AccessDeniedException.class, () -> read(again, STREAM));
    }
}
