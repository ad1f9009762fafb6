package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The operator endpoints {@code GET /admin/stats} and {@code GET /admin/cluster} answer only a
 * SigV4 signature for service {@code sluice} from root or from a user allowed
 * {@code sluice:GetNodeStats} / {@code sluice:DescribeCluster}; every refusal is AWS-shaped, 403,
 * and says nothing of what the cluster holds. {@code GET /health} stays open.
 */
class AdminEndpointsTest {
    static final String STREAM = "secret-orders-7f3a";
    static final String TABLE = "secret-leases-7f3a";
    static final String STATS = "/admin/stats";
    static final String CLUSTER = "/admin/cluster";
    static final String NODE_ARN_PATTERN = "arn:aws:sluice:us-east-1:000000000000:node/*";
    static final String CLUSTER_ARN = "arn:aws:sluice:us-east-1:000000000000:cluster";
    static final ObjectMapper json = new ObjectMapper();
    static TestNode node;
    static SignedHttp root;

    @BeforeAll
    static void start() throws Exception {
        String bootstrap = TestNode.iamBootstrap("""
                {"Users": [
                  {"UserName": "operator", "AccessKeys": [{"AccessKeyId": "AKIAOPERATOR00000001", "SecretAccessKey": "operator-secret"}],
                   "Policies": {"admin": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": ["sluice:GetNodeStats", "sluice:DescribeCluster"], "Resource": "*"}]}}},
                  {"UserName": "statsreader", "AccessKeys": [{"AccessKeyId": "AKIASTATSREADER00001", "SecretAccessKey": "stats-secret"}],
                   "Policies": {"stats": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "sluice:GetNodeStats", "Resource": "%s"}]}}},
                  {"UserName": "streamer", "AccessKeys": [{"AccessKeyId": "AKIASTREAMER00000001", "SecretAccessKey": "streamer-secret"}],
                   "Policies": {"kinesis": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}}}]}
                """.formatted(NODE_ARN_PATTERN));
        node = new TestNode(new MutableClock(), bootstrap).start();
        root = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("sluice");
        try (KinesisClient kinesis = node.kinesisClient()) {
            TestNode.createActive(kinesis, STREAM, 1);
            kinesis.putRecord(b -> b.streamName(STREAM).partitionKey("k").data(SdkBytes.fromUtf8String("x")));
        }
        try (DynamoDbClient dynamo = node.dynamoDbClient()) {
            dynamo.createTable(b -> b.tableName(TABLE).billingMode(BillingMode.PAY_PER_REQUEST)
                    .keySchema(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build())
                    .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build()));
        }
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static SignedHttp user(String accessKeyId, String secret) {
        return new SignedHttp(node.endpoint(), accessKeyId, secret).forService("sluice");
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    /** A 403 in the AWS JSON error shape that names no stream; returns its message. */
    static String refused(HttpResponse<byte[]> r, String type) throws Exception {
        assertEquals(403, r.statusCode(), text(r));
        assertTrue(r.headers().firstValue("x-amzn-RequestId").isPresent());
        assertEquals(type, r.headers().firstValue("x-amzn-ErrorType").orElse(""));
        JsonNode body = json.readTree(r.body());
        assertEquals(type, body.get("__type").asText(), text(r));
        assertFalse(text(r).contains(STREAM), "a refusal names a stream: " + text(r));
        assertFalse(text(r).contains(TABLE), "a refusal names a table: " + text(r));
        assertFalse(text(r).contains("sluice-warmup"), text(r));
        return body.get("message").asText();
    }

    static JsonNode answered(HttpResponse<byte[]> r) throws Exception {
        assertEquals(200, r.statusCode(), text(r));
        return json.readTree(r.body());
    }

    static List<String> names(JsonNode array) {
        assertTrue(array.isArray(), String.valueOf(array));
        List<String> names = new java.util.ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return names;
    }

    static HttpResponse<byte[]> anonymous(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(node.endpoint().resolve(path)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void theClusterViewNamesStreamsAndTablesSoItIsWorthGuarding() throws Exception {
        String view = answered(root.get(CLUSTER)).toString();
        assertTrue(view.contains(STREAM) && view.contains(TABLE), view);
    }

    @Test
    void refusesUnsignedRequests() throws Exception {
        for (String path : List.of(STATS, CLUSTER)) {
            assertEquals("Missing Authentication Token", refused(anonymous(path), "MissingAuthenticationTokenException"));
        }
    }

    @Test
    void refusesWrongSignatures() throws Exception {
        for (String path : List.of(STATS, CLUSTER)) {
            assertTrue(refused(user(node.accessKeyId, "not-the-secret").get(path), "InvalidSignatureException")
                    .startsWith("The request signature we calculated does not match the signature you provided."));
            assertEquals("Credential should be scoped to correct service: 'sluice'. ",
                    refused(new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).get(path), "InvalidSignatureException"));
            assertEquals("The security token included in the request is invalid.",
                    refused(user("AKIANOBODY0000000000", "x").get(path), "UnrecognizedClientException"));
        }
    }

    @Test
    void refusesUsersWithoutTheAdminAction() throws Exception {
        SignedHttp streamer = user("AKIASTREAMER00000001", "streamer-secret");
        assertTrue(refused(streamer.get(STATS), "AccessDeniedException").matches(
                "User: arn:aws:iam::000000000000:user/streamer is not authorized to perform: sluice:GetNodeStats on resource: "
                        + "arn:aws:sluice:us-east-1:000000000000:node/\\S+:\\d+"));
        assertEquals("User: arn:aws:iam::000000000000:user/streamer is not authorized to perform: sluice:DescribeCluster "
                + "on resource: " + CLUSTER_ARN, refused(streamer.get(CLUSTER), "AccessDeniedException"));

        SignedHttp statsReader = user("AKIASTATSREADER00001", "stats-secret");
        assertTrue(answered(statsReader.get(STATS)).has("timings"));
        assertEquals("User: arn:aws:iam::000000000000:user/statsreader is not authorized to perform: sluice:DescribeCluster "
                + "on resource: " + CLUSTER_ARN, refused(statsReader.get(CLUSTER), "AccessDeniedException"));
    }

    @Test
    void answersRootAndUsersAllowedTheAdminActions() throws Exception {
        SignedHttp operator = user("AKIAOPERATOR00000001", "operator-secret");
        for (SignedHttp allowed : List.of(root, operator)) {
            JsonNode stats = answered(allowed.get(STATS));
            assertTrue(stats.path("timings").path("authenticate").path("count").asLong() > 0, stats.toString());
            JsonNode cluster = answered(allowed.get(CLUSTER));
            assertEquals("Up", cluster.path("selfStatus").asText(), cluster.toString());
            assertTrue(cluster.path("hostedStreams").toString().contains(STREAM), cluster.toString());
            assertEquals(List.of(TABLE), names(cluster.path("hostedTables")), cluster.toString());
        }
    }

    @Test
    void healthStaysOpenAndSaysNothing() throws Exception {
        HttpResponse<byte[]> health = anonymous("/health");
        assertEquals(200, health.statusCode());
        assertEquals("OK", text(health));
    }

    /** The command README.md gives operators. */
    @Test
    void curlSignsTheAdminEndpointsAsDocumented() throws Exception {
        Process version;
        try {
            version = new ProcessBuilder("curl", "--version").redirectErrorStream(true).start();
        } catch (java.io.IOException noCurl) {
            version = null;
        }
        Assumptions.assumeTrue(version != null && version.waitFor(10, TimeUnit.SECONDS) && version.exitValue() == 0,
                "curl is not installed");
        for (String path : List.of(STATS, CLUSTER)) {
            Process curl = new ProcessBuilder("curl", "-sS", "--fail-with-body", "--aws-sigv4", "aws:amz:us-east-1:sluice",
                    "--user", node.accessKeyId + ":" + node.secretKey, node.endpoint() + path).redirectErrorStream(true).start();
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, curl.exitValue(), out);
            assertTrue(json.readTree(out).isObject(), out);
        }
    }
}
