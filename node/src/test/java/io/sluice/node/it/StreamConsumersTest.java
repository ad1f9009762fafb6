package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKey;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.Consumer;
import software.amazon.awssdk.services.kinesis.model.ConsumerDescription;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.ListStreamConsumersResponse;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Enhanced fan-out consumers through the real AWS SDK v2 (CBOR), a bare JSON 1.1 request, and the
 * AWS CLI v1 and v2, against a real node: the CREATING, ACTIVE, DELETING lifecycle, each way of
 * naming a consumer, paging, the per-stream limit, every refusal in AWS's words with nothing
 * changed after it, DeleteStream's EnforceConsumerDeletion, ARNs that die with their consumer or
 * stream, a node restart, and IAM on consumer ARNs.
 */
class StreamConsumersTest {
    static final String ACCOUNT = "000000000000";
    static final ObjectMapper json = new ObjectMapper();
    static TestNode node;
    static KinesisClient kinesis;
    static IamClient iam;
    static final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), """
                sluice.iam.refresh = 200ms
                sluice.stream.consumers { max-per-stream = 3, activation-delay = 300ms, deletion-delay = 300ms }
                """).start();
        connect();
        iam = closing(IamClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials(node.accessKeyId, node.secretKey))
                .httpClient(UrlConnectionHttpClient.create()).build());
    }

    static void connect() {
        kinesis = closing(node.kinesisClient());
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : clients) c.close();
        if (node != null) node.close();
    }

    static <T extends AutoCloseable> T closing(T client) {
        clients.add(client);
        return client;
    }

    static StaticCredentialsProvider credentials(String id, String secret) {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
    }

    static String streamArn(String stream) {
        return "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + stream;
    }

    static Consumer register(String stream, String name) {
        return kinesis.registerStreamConsumer(b -> b.streamARN(streamArn(stream)).consumerName(name)).consumer();
    }

    static ConsumerDescription describe(String consumerArn) {
        return kinesis.describeStreamConsumer(b -> b.consumerARN(consumerArn)).consumerDescription();
    }

    /** Polls DescribeStreamConsumer, as clients do after registering, until the consumer has the status. */
    static void awaitStatus(String consumerArn, ConsumerStatus status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (describe(consumerArn).consumerStatus() != status) {
            assertTrue(System.nanoTime() < deadline, consumerArn + " never " + status);
            KinesisSdkContract.sleep(50);
        }
    }

    /** The consumer's status, or null once it is gone. */
    static ConsumerStatus statusOrGone(String consumerArn) {
        try {
            return describe(consumerArn).consumerStatus();
        } catch (ResourceNotFoundException gone) {
            return null;
        }
    }

    static void awaitGone(String consumerArn) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                describe(consumerArn);
            } catch (ResourceNotFoundException gone) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, consumerArn + " never gone");
            KinesisSdkContract.sleep(50);
        }
    }

    static List<String> names(String stream) {
        List<String> names = new ArrayList<>();
        kinesis.listStreamConsumersPaginator(b -> b.streamARN(streamArn(stream)))
                .forEach(page -> page.consumers().forEach(c -> names.add(c.consumerName())));
        return names;
    }

    static void assertRefused(Executable call, String error, String message) {
        KinesisException e = assertThrows(KinesisException.class, call);
        assertEquals(error, e.awsErrorDetails().errorCode(), e::getMessage);
        assertEquals(400, e.statusCode());
        assertEquals(message, e.awsErrorDetails().errorMessage());
    }

    // ---- lifecycle

    @Test
    void aRegisteredConsumerIsCreatingThenActiveAndIsDescribedByArnByStreamAndNameAndByBoth() throws Exception {
        TestNode.createActive(kinesis, "efo", 1);
        Instant before = Instant.now().minusMillis(1);
        Consumer c = register("efo", "app");
        Instant after = Instant.now();
        assertEquals("app", c.consumerName());
        assertEquals(ConsumerStatus.CREATING, c.consumerStatus());
        Instant created = c.consumerCreationTimestamp();
        assertFalse(created.isBefore(before) || created.isAfter(after), created + " not between " + before + " and " + after);
        assertEquals(streamArn("efo") + "/consumer/app:" + created.getEpochSecond(), c.consumerARN());

        awaitStatus(c.consumerARN(), ConsumerStatus.ACTIVE);
        ConsumerDescription byArn = describe(c.consumerARN());
        ConsumerDescription byName = kinesis.describeStreamConsumer(b -> b.streamARN(streamArn("efo")).consumerName("app"))
                .consumerDescription();
        ConsumerDescription byAll = kinesis.describeStreamConsumer(b -> b.streamARN(streamArn("efo")).consumerName("app")
                .consumerARN(c.consumerARN())).consumerDescription();
        for (ConsumerDescription d : List.of(byArn, byName, byAll)) {
            assertEquals("app", d.consumerName());
            assertEquals(c.consumerARN(), d.consumerARN());
            assertEquals(ConsumerStatus.ACTIVE, d.consumerStatus());
            assertEquals(created, d.consumerCreationTimestamp());
            assertEquals(streamArn("efo"), d.streamARN());
        }
        assertEquals(1, kinesis.describeStreamSummary(b -> b.streamName("efo")).streamDescriptionSummary().consumerCount());

        // the same in JSON 1.1, as the CLI and most SDKs speak it: fields and timestamps as AWS writes them
        var http = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey);
        var response = http.post("Kinesis_20131202.DescribeStreamConsumer", "application/x-amz-json-1.1",
                json.writeValueAsBytes(Map.of("ConsumerARN", c.consumerARN())));
        assertEquals(200, response.statusCode(), () -> new String(response.body(), StandardCharsets.UTF_8));
        JsonNode d = json.readTree(response.body()).get("ConsumerDescription");
        assertEquals("app", d.get("ConsumerName").asText());
        assertEquals(c.consumerARN(), d.get("ConsumerARN").asText());
        assertEquals("ACTIVE", d.get("ConsumerStatus").asText());
        assertEquals(streamArn("efo"), d.get("StreamARN").asText());
        assertEquals(created.toEpochMilli(), Math.round(d.get("ConsumerCreationTimestamp").asDouble() * 1000));
    }

    @Test
    void consumersAreListedByNameInPagesAndTheStreamsLimitIsKept() {
        TestNode.createActive(kinesis, "paged", 1);
        Consumer c = register("paged", "c");
        register("paged", "a");
        register("paged", "b");
        assertRefused(() -> register("paged", "d"), "LimitExceededException",
                "Stream paged under account " + ACCOUNT + " already has 3 registered consumers. Limit: 3.");

        ListStreamConsumersResponse first = kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged")).maxResults(2));
        assertEquals(List.of("a", "b"), first.consumers().stream().map(Consumer::consumerName).toList());
        assertNotNull(first.nextToken());
        ListStreamConsumersResponse second = kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged"))
                .nextToken(first.nextToken()).maxResults(2));
        assertEquals(List.of("c"), second.consumers().stream().map(Consumer::consumerName).toList());
        assertEquals(c.consumerARN(), second.consumers().get(0).consumerARN());
        assertNull(second.nextToken());
        // the SDK's paginator, one consumer a page
        List<String> paged = new ArrayList<>();
        kinesis.listStreamConsumersPaginator(b -> b.streamARN(streamArn("paged")).maxResults(1))
                .forEach(page -> page.consumers().forEach(x -> paged.add(x.consumerName())));
        assertEquals(List.of("a", "b", "c"), paged);

        Instant createdAt = kinesis.describeStreamSummary(b -> b.streamName("paged")).streamDescriptionSummary()
                .streamCreationTimestamp();
        assertEquals(3, kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged")).streamCreationTimestamp(createdAt))
                .consumers().size());
        assertRefused(() -> kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged"))
                        .streamCreationTimestamp(createdAt.minusSeconds(60))), "ResourceNotFoundException",
                "Stream paged under account " + ACCOUNT + " not found.");
        assertRefused(() -> kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged")).nextToken(first.nextToken())
                        .streamCreationTimestamp(createdAt)), "InvalidArgumentException",
                "NextToken and StreamCreationTimestamp cannot be provided together.");
        assertRefused(() -> kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged")).nextToken("bogus")),
                "InvalidArgumentException", "Invalid NextToken.");
        assertRefused(() -> kinesis.listStreamConsumers(b -> b.streamARN(streamArn("paged")).maxResults(0)),
                "ValidationException", "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint:"
                        + " Member must have value greater than or equal to 1");
        assertEquals(List.of("a", "b", "c"), names("paged"));
    }

    @Test
    void everyMistakeIsRefusedInAwsWordsAndChangesNothing() {
        TestNode.createActive(kinesis, "strict", 1);
        Consumer app = register("strict", "app");
        String arn = streamArn("strict");

        assertRefused(() -> register("strict", "app"), "ResourceInUseException",
                "Consumer app under stream strict and account " + ACCOUNT + " already exists.");
        assertRefused(() -> register("nowhere", "app"), "ResourceNotFoundException",
                "Stream nowhere under account " + ACCOUNT + " not found.");
        assertRefused(() -> register("strict", "no spaces"), "ValidationException",
                "1 validation error detected: Value 'no spaces' at 'consumerName' failed to satisfy constraint:"
                        + " Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
        assertRefused(() -> register("strict", "x".repeat(129)), "ValidationException",
                "1 validation error detected: Value '" + "x".repeat(129) + "' at 'consumerName' failed to satisfy constraint:"
                        + " Member must have length less than or equal to 128");
        assertRefused(() -> kinesis.registerStreamConsumer(b -> b.streamARN("arn:aws:kinesis:us-east-1:" + ACCOUNT + ":table/t")
                        .consumerName("x")), "ValidationException",
                "1 validation error detected: Value 'arn:aws:kinesis:us-east-1:" + ACCOUNT + ":table/t' at 'streamARN' failed"
                        + " to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");

        assertRefused(() -> kinesis.describeStreamConsumer(b -> b.streamARN(arn).consumerName("nope")),
                "ResourceNotFoundException", "Consumer nope under stream strict and account " + ACCOUNT + " not found.");
        assertRefused(() -> describe(arn + "/consumer/app:1"), "ResourceNotFoundException",
                "Consumer app with creation timestamp 1 under stream strict and account " + ACCOUNT + " not found.");
        assertRefused(() -> describe("arn:aws:kinesis:eu-west-1:" + ACCOUNT + ":stream/strict/consumer/app:1"),
                "ResourceNotFoundException", "Consumer arn:aws:kinesis:eu-west-1:" + ACCOUNT
                        + ":stream/strict/consumer/app:1 not found.");
        assertRefused(() -> describe(arn + "/consumers/app"), "ValidationException",
                "1 validation error detected: Value '" + arn + "/consumers/app' at 'consumerARN' failed to satisfy constraint:"
                        + " Member must satisfy regular expression pattern: "
                        + "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+");
        assertRefused(() -> kinesis.describeStreamConsumer(b -> b.streamARN(arn)), "InvalidArgumentException",
                "Either ConsumerARN or both StreamARN and ConsumerName should be provided.");
        assertRefused(() -> kinesis.deregisterStreamConsumer(b -> b.consumerName("app")), "InvalidArgumentException",
                "Either ConsumerARN or both StreamARN and ConsumerName should be provided.");
        assertRefused(() -> kinesis.deregisterStreamConsumer(b -> b.consumerARN(app.consumerARN()).consumerName("other")),
                "InvalidArgumentException", "ConsumerARN " + app.consumerARN() + " does not name consumer other.");
        assertRefused(() -> kinesis.deregisterStreamConsumer(b -> b.consumerARN(app.consumerARN()).streamARN(streamArn("efo"))),
                "InvalidArgumentException", "ConsumerARN " + app.consumerARN() + " is not of stream " + streamArn("efo") + ".");
        assertRefused(() -> kinesis.deregisterStreamConsumer(b -> b.streamARN(arn).consumerName("nope")),
                "ResourceNotFoundException", "Consumer nope under stream strict and account " + ACCOUNT + " not found.");

        // nothing changed: the one consumer, as registered
        assertEquals(List.of("app"), names("strict"));
        assertEquals(app.consumerARN(), describe(app.consumerARN()).consumerARN());
    }

    @Test
    void aDeregisteredConsumerIsDeletingThenGoneAndItsNameTakesANewArn() {
        TestNode.createActive(kinesis, "leaving", 1);
        Consumer old = register("leaving", "app");
        awaitStatus(old.consumerARN(), ConsumerStatus.ACTIVE);
        kinesis.deregisterStreamConsumer(b -> b.streamARN(streamArn("leaving")).consumerName("app"));
        // DELETING for deletion-delay, then gone
        ConsumerStatus leaving = statusOrGone(old.consumerARN());
        assertTrue(leaving == ConsumerStatus.DELETING || leaving == null, String.valueOf(leaving));
        awaitGone(old.consumerARN());
        assertEquals(List.of(), names("leaving"));

        Consumer again = register("leaving", "app");
        assertNotEquals(old.consumerARN(), again.consumerARN());
        assertRefused(() -> describe(old.consumerARN()), "ResourceNotFoundException", "Consumer app with creation timestamp "
                + old.consumerCreationTimestamp().getEpochSecond() + " under stream leaving and account " + ACCOUNT + " not found.");
        assertRefused(() -> kinesis.deregisterStreamConsumer(b -> b.consumerARN(old.consumerARN())), "ResourceNotFoundException",
                "Consumer app with creation timestamp " + old.consumerCreationTimestamp().getEpochSecond()
                        + " under stream leaving and account " + ACCOUNT + " not found.");
        assertEquals(again.consumerCreationTimestamp(), describe(again.consumerARN()).consumerCreationTimestamp());
        kinesis.deregisterStreamConsumer(b -> b.consumerARN(again.consumerARN()));
        awaitGone(again.consumerARN());
    }

    @Test
    void aStreamWithConsumersIsDeletedOnlyByForceAndItsSuccessorKnowsNoneOfThem() {
        TestNode.createActive(kinesis, "doomed", 1);
        Consumer old = register("doomed", "app");
        assertRefused(() -> kinesis.deleteStream(b -> b.streamName("doomed")), "ResourceInUseException",
                "DeleteStream can't delete " + streamArn("doomed") + " because there are consumers associated with this data"
                        + " stream. To delete doomed anyway, set the EnforceConsumerDeletion parameter to true to force the"
                        + " deletion of all the consumers that are associated with it.");
        assertEquals("ACTIVE", kinesis.describeStreamSummary(b -> b.streamName("doomed")).streamDescriptionSummary()
                .streamStatusAsString());
        assertEquals(List.of("app"), names("doomed"));

        kinesis.deleteStream(b -> b.streamName("doomed").enforceConsumerDeletion(true));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (kinesis.listStreams().streamNames().contains("doomed")) {
            assertTrue(System.nanoTime() < deadline, "stream never deleted");
            KinesisSdkContract.sleep(100);
        }
        TestNode.createActive(kinesis, "doomed", 1);
        assertEquals(List.of(), names("doomed"));
        assertRefused(() -> describe(old.consumerARN()), "ResourceNotFoundException", "Consumer app with creation timestamp "
                + old.consumerCreationTimestamp().getEpochSecond() + " under stream doomed and account " + ACCOUNT + " not found.");
        Consumer successor = register("doomed", "app");
        assertNotEquals(old.consumerARN(), successor.consumerARN());
        assertRefused(() -> describe(old.consumerARN()), "ResourceNotFoundException", "Consumer app with creation timestamp "
                + old.consumerCreationTimestamp().getEpochSecond() + " under stream doomed and account " + ACCOUNT + " not found.");
    }

    @Test
    void consumersSurviveARestartOfTheNode() throws Exception {
        TestNode.createActive(kinesis, "durable-efo", 1);
        Consumer active = register("durable-efo", "active");
        awaitStatus(active.consumerARN(), ConsumerStatus.ACTIVE);
        Consumer creating = register("durable-efo", "creating");

        node.stop();
        node.start();
        connect();
        assertEquals(List.of("active", "creating"), names("durable-efo"));
        assertEquals(ConsumerStatus.ACTIVE, describe(active.consumerARN()).consumerStatus());
        assertEquals(active.consumerCreationTimestamp(), describe(active.consumerARN()).consumerCreationTimestamp());
        // the activation the restart cut short resumes
        awaitStatus(creating.consumerARN(), ConsumerStatus.ACTIVE);
    }

    // ---- IAM

    @Test
    void aUserAllowedOneConsumerIsDeniedEverythingElseInAwsWords() throws Exception {
        TestNode.createActive(kinesis, "guarded", 1);
        Consumer mine = register("guarded", "mine");
        Consumer other = register("guarded", "other");
        iam.createUser(b -> b.userName("efo-reader"));
        iam.putUserPolicy(b -> b.userName("efo-reader").policyName("one-consumer").policyDocument("""
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:DescribeStreamConsumer",
                 "Resource": "%s"}]}""".formatted(mine.consumerARN())));
        AccessKey key = iam.createAccessKey(b -> b.userName("efo-reader")).accessKey();
        Thread.sleep(600); // every node's identities reload within the refresh period (200 ms)
        KinesisClient reader = closing(KinesisClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials(key.accessKeyId(), key.secretAccessKey()))
                .httpClient(UrlConnectionHttpClient.create()).build());

        assertEquals("mine", reader.describeStreamConsumer(b -> b.consumerARN(mine.consumerARN())).consumerDescription()
                .consumerName());
        // named by stream and name, the consumer's ARN is what is authorized
        assertEquals(mine.consumerARN(), reader.describeStreamConsumer(b -> b.streamARN(streamArn("guarded"))
                .consumerName("mine")).consumerDescription().consumerARN());

        String user = "arn:aws:iam::" + ACCOUNT + ":user/efo-reader";
        assertRefused(() -> reader.describeStreamConsumer(b -> b.consumerARN(other.consumerARN())), "AccessDeniedException",
                "User: " + user + " is not authorized to perform: kinesis:DescribeStreamConsumer on resource: "
                        + other.consumerARN());
        assertRefused(() -> reader.describeStreamConsumer(b -> b.streamARN(streamArn("guarded")).consumerName("other")),
                "AccessDeniedException", "User: " + user + " is not authorized to perform: kinesis:DescribeStreamConsumer"
                        + " on resource: " + other.consumerARN());
        // a consumer that does not exist is not revealed as missing
        assertRefused(() -> reader.describeStreamConsumer(b -> b.streamARN(streamArn("guarded")).consumerName("ghost")),
                "AccessDeniedException", "User: " + user + " is not authorized to perform: kinesis:DescribeStreamConsumer"
                        + " on resource: " + streamArn("guarded") + "/consumer/ghost:*");
        assertRefused(() -> reader.deregisterStreamConsumer(b -> b.consumerARN(mine.consumerARN())), "AccessDeniedException",
                "User: " + user + " is not authorized to perform: kinesis:DeregisterStreamConsumer on resource: "
                        + mine.consumerARN());
        assertRefused(() -> reader.listStreamConsumers(b -> b.streamARN(streamArn("guarded"))), "AccessDeniedException",
                "User: " + user + " is not authorized to perform: kinesis:ListStreamConsumers on resource: "
                        + streamArn("guarded"));
        assertRefused(() -> reader.registerStreamConsumer(b -> b.streamARN(streamArn("guarded")).consumerName("third")),
                "AccessDeniedException", "User: " + user + " is not authorized to perform: kinesis:RegisterStreamConsumer"
                        + " on resource: " + streamArn("guarded"));
        assertEquals(List.of("mine", "other"), names("guarded"));
        assertNotEquals(ConsumerStatus.DELETING, describe(mine.consumerARN()).consumerStatus());
    }

    @Test
    void registeringWithTagsAlsoNeedsTagResourceOnTheConsumer() throws Exception {
        TestNode.createActive(kinesis, "tagged", 1);
        iam.createUser(b -> b.userName("efo-registrar"));
        iam.putUserPolicy(b -> b.userName("efo-registrar").policyName("register").policyDocument("""
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:RegisterStreamConsumer",
                 "Resource": "%s"}]}""".formatted(streamArn("tagged"))));
        AccessKey key = iam.createAccessKey(b -> b.userName("efo-registrar")).accessKey();
        Thread.sleep(600);
        KinesisClient registrar = closing(KinesisClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials(key.accessKeyId(), key.secretAccessKey()))
                .httpClient(UrlConnectionHttpClient.create()).build());
        assertRefused(() -> registrar.registerStreamConsumer(b -> b.streamARN(streamArn("tagged")).consumerName("app")
                        .tags(Map.of("team", "a"))), "AccessDeniedException",
                "User: arn:aws:iam::" + ACCOUNT + ":user/efo-registrar is not authorized to perform: kinesis:TagResource on"
                        + " resource: " + streamArn("tagged") + "/consumer/app:*");
        assertEquals(List.of(), names("tagged"));
        assertEquals(ConsumerStatus.CREATING, registrar.registerStreamConsumer(b -> b.streamARN(streamArn("tagged"))
                .consumerName("app")).consumer().consumerStatus());
    }

    // ---- the AWS CLI

    public static List<String> clis() {
        return AwsCliTest.clis();
    }

    @ParameterizedTest
    @MethodSource("clis")
    void theCliRegistersDescribesListsAndDeregisters(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        String stream = "cli-efo-" + version;
        TestNode.createActive(kinesis, stream, 1);
        JsonNode registered = cli(cli, "kinesis", "register-stream-consumer", "--stream-arn", streamArn(stream),
                "--consumer-name", "app").get("Consumer");
        String arn = registered.get("ConsumerARN").asText();
        assertTrue(arn.startsWith(streamArn(stream) + "/consumer/app:"), arn);
        assertEquals("CREATING", registered.get("ConsumerStatus").asText());
        JsonNode described = cli(cli, "kinesis", "describe-stream-consumer", "--consumer-arn", arn).get("ConsumerDescription");
        assertEquals(streamArn(stream), described.get("StreamARN").asText());
        JsonNode listed = cli(cli, "kinesis", "list-stream-consumers", "--stream-arn", streamArn(stream)).get("Consumers");
        assertEquals(1, listed.size());
        assertEquals(arn, listed.get(0).get("ConsumerARN").asText());
        cli(cli, "kinesis", "deregister-stream-consumer", "--stream-arn", streamArn(stream), "--consumer-name", "app");
        awaitGone(arn);
    }

    static JsonNode cli(String cli, String... args) throws Exception {
        AwsCliTest.Result r = AwsCliTest.aws(node.endpoint(), node.accessKeyId, node.secretKey, cli, args);
        assertEquals(0, r.exit(), () -> "aws " + String.join(" ", args) + " failed: " + r.err());
        return r.out().isBlank() ? json.createObjectNode() : json.readTree(r.out());
    }
}
