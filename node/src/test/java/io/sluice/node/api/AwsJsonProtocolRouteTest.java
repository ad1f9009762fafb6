package io.sluice.node.api;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import com.fasterxml.jackson.dataformat.cbor.CBORParser;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.typesafe.config.Config;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.TestConfigs;
import io.sluice.node.runtime.Timings;
import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.Caller;
import io.sluice.node.auth.IdentityDirectory;
import io.sluice.node.auth.IdentityEntity;
import io.sluice.node.auth.RequestAuthenticator;
import io.sluice.protocol.sigv4.SigV4;
import io.sluice.node.crypto.RootKey;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.kinesis.Kinesis;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The AWS JSON protocol through the real {@link FrontEnd#route()}, bound on a port and called over
 * HTTP: how JSON 1.1, JSON 1.0 and CBOR requests are decoded and answered, and every way a request
 * fails reaching the client in AWS's error shape with a request id. The table holds test operations
 * and the authenticator is a stub, so what is proved here is the front door alone.
 */
class AwsJsonProtocolRouteTest {
    static final String JSON = "application/x-amz-json-1.1";
    static final String JSON_1_0 = "application/x-amz-json-1.0";
    static final String CBOR = "application/x-amz-cbor-1.1";
    static final Caller ROOT = new Caller("AKIDROOT", "arn:aws:iam::000000000000:root", "root", true);
    static final Caller ALICE = new Caller("AKIDALICE", "arn:aws:iam::000000000000:user/alice", "alice", false);
    static final String ORDERS_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
    static final Instant ANSWERED_AT = Instant.ofEpochMilli(1_499_878_905_118L);
    static final String SECRET_DETAIL = "cassandra 10.1.2.3 refused the write";
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

    static final ObjectMapper json = new ObjectMapper();
    static final CBORMapper cbor = new CBORMapper();
    static final AtomicInteger handled = new AtomicInteger();
    static final Set<String> requestIds = java.util.Collections.synchronizedSet(new HashSet<>());
    static final StubAuthenticator authenticator = new StubAuthenticator();

    static ActorTestKit testKit;
    static ServerBinding binding;
    static URI endpoint;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** What the PutRecord test operation answers: its decoded input and what the table handed it. */
    record Echo(String streamName, byte[] data, String partitionKey, String resourceArn, String caller, Instant answeredAt) {}

    /** Returns ALICE for her access key and ROOT for any other; refuses a request without Authorization. */
    static final class StubAuthenticator implements RequestAuthenticator {
        volatile String method;
        volatile String target;
        volatile byte[] body;

        @Override
        public Verified authenticate(String method, String target, List<Map.Entry<String, String>> headers, byte[] body) {
            String authorization = headers.stream().filter(h -> h.getKey().equalsIgnoreCase("Authorization"))
                    .map(Map.Entry::getValue).findFirst().orElse(null);
            if (authorization == null) {
                throw AwsError.MissingAuthenticationTokenException.exception("Missing Authentication Token");
            }
            this.method = method;
            this.target = target;
            this.body = body;
            // the scope's service as a verifier reads it from the credential
            return new Verified(authorization.contains("Credential=AKIDALICE/") ? ALICE : ROOT,
                    SigV4.parseAuthorization(authorization).service());
        }
    }

    static List<Operation<?>> testOperations() {
        return List.of(
                Operation.of(Service.KINESIS, "PutRecord", Kinesis.PutRecordRequest.class,
                        (caller, r) -> "arn:aws:kinesis:us-east-1:000000000000:stream/" + r.streamName(),
                        (caller, r, arn) -> {
                            handled.incrementAndGet();
                            return CompletableFuture.completedFuture(
                                    new Echo(r.streamName(), r.data(), r.partitionKey(), arn, caller.name(), ANSWERED_AT));
                        }),
                Operation.of(Service.KINESIS, "GetShardIterator", Kinesis.GetShardIteratorRequest.class, (caller, r) -> ORDERS_ARN,
                        (caller, r, arn) -> {
                            handled.incrementAndGet();
                            Map<String, Object> echo = new LinkedHashMap<>();
                            echo.put("Timestamp", r.timestamp());
                            return CompletableFuture.completedFuture(echo);
                        }),
                // a rejection in the stage, as entities reply
                Operation.of(Service.KINESIS, "DeleteStream", Object.class, (caller, r) -> ORDERS_ARN, (caller, r, arn) -> {
                    handled.incrementAndGet();
                    return CompletableFuture.failedFuture(AwsError.ResourceNotFoundException.exception(
                            "Stream orders under account 000000000000 not found."));
                }),
                // a rejection thrown by the handler itself
                Operation.of(Service.KINESIS, "CreateStream", Object.class, (caller, r) -> ORDERS_ARN, (caller, r, arn) -> {
                    handled.incrementAndGet();
                    throw AwsError.LimitExceededException.exception("This request would exceed the shard limit for the account.");
                }),
                Operation.of(Service.KINESIS, "ListStreams", Object.class, (caller, r) -> "*", (caller, r, arn) -> {
                    handled.incrementAndGet();
                    throw new IllegalStateException(SECRET_DETAIL);
                }),
                // never answers: the server's request-timeout does
                Operation.of(Service.KINESIS, "SplitShard", Object.class, (caller, r) -> ORDERS_ARN,
                        (caller, r, arn) -> new CompletableFuture<>()),
                Operation.of(Service.KMS, "ListKeys", Object.class, (caller, r) -> "*", (caller, r, arn) -> {
                    handled.incrementAndGet();
                    return CompletableFuture.completedFuture(Map.of("Keys", List.of(), "Truncated", false));
                }));
    }

    @BeforeAll
    static void bind() throws Exception {
        // a cluster system only so that the IdentityDirectory behind the Authorizer can refresh (to no users at all)
        Config config = TestConfigs.entityTests("pekko.actor.provider = cluster\n"
                + "pekko.remote.artery.enabled = on\npekko.remote.artery.canonical.port = 0\n"
                + "pekko.http.server.request-timeout = " + REQUEST_TIMEOUT.toMillis() + "ms");
        testKit = ActorTestKit.create("AwsJsonProtocolRouteTest", config);
        Cluster cluster = Cluster.get(testKit.system());
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        IdentityEntity.init(testKit.system());
        NodeSettings settings = TestConfigs.settings(config);
        RootKey rootKey = RootKey.fromBase64(Base64.getEncoder().encodeToString(new byte[RootKey.KEY_BYTES]));
        Authorizer authorizer = new Authorizer(new IdentityDirectory(testKit.system(), settings, rootKey, Duration.ofHours(1)));
        Operations operations = new Operations(authorizer, List.of(testOperations()));
        FrontEnd frontEnd = new FrontEnd(authenticator, operations, Timings.get(testKit.system()), () -> true,
                FrontEnd.requestTimeout(config));
        binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0).bind(frontEnd.route())
                .toCompletableFuture().get(30, TimeUnit.SECONDS);
        endpoint = URI.create("http://127.0.0.1:" + binding.localAddress().getPort());
    }

    @AfterAll
    static void unbind() throws Exception {
        if (binding != null) binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        if (testKit != null) testKit.shutdownTestKit();
    }

    // ---- requests

    /** A syntactically valid SigV4 Authorization header; the stub authenticator does not check the signature. */
    static String authorization(String accessKeyId, String service) {
        return "AWS4-HMAC-SHA256 Credential=" + accessKeyId + "/20261202/us-east-1/" + service
                + "/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0".repeat(64);
    }

    static HttpResponse<byte[]> post(String target, String contentType, byte[] body) throws Exception {
        return send("POST", "/", target, contentType, body, authorization("AKIDROOT", "kinesis"));
    }

    static HttpResponse<byte[]> send(String method, String path, String target, String contentType, byte[] body,
                                     String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint.resolve(path))
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", contentType)
                .header("X-Amz-Date", "20261202T101530Z")
                .timeout(Duration.ofSeconds(30));
        if (target != null) b.header("X-Amz-Target", target);
        if (authorization != null) b.header("Authorization", authorization);
        HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        String requestId = r.headers().firstValue("x-amzn-RequestId").orElse(null);
        assertNotNull(requestId, () -> method + " " + path + " " + target + ": no x-amzn-RequestId on a " + r.statusCode());
        assertDoesNotThrow(() -> java.util.UUID.fromString(requestId), requestId);
        assertTrue(requestIds.add(requestId), "request id reused: " + requestId);
        return r;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] cborBody(ObjectNode body) throws Exception {
        return cbor.writeValueAsBytes(body);
    }

    /** Asserts the AWS JSON error shape in the response's own format and returns its message. */
    static String error(HttpResponse<byte[]> r, String contentType, int status, AwsError type) throws Exception {
        return error(r, contentType, status, type.wireName());
    }

    /** @param type the error's name as the body and x-amzn-ErrorType spell it (DynamoDB's carry a namespace) */
    static String error(HttpResponse<byte[]> r, String contentType, int status, String type) throws Exception {
        String shown = contentType.equals(CBOR) ? cbor.readTree(r.body()).toString() : new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(status, r.statusCode(), shown);
        assertEquals(contentType, r.headers().firstValue("Content-Type").orElse(""), shown);
        assertEquals(type, r.headers().firstValue("x-amzn-ErrorType").orElse(""), shown);
        JsonNode body = contentType.equals(CBOR) ? cbor.readTree(r.body()) : json.readTree(r.body());
        assertEquals(Set.of("__type", "message"), fieldNames(body), shown);
        assertEquals(type, body.get("__type").asText(), shown);
        assertTrue(body.get("message").isTextual(), shown);
        return body.get("message").asText();
    }

    static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    // ---- JSON 1.1

    @Test
    void decodesJsonAndAnswersItWithBase64BlobsAndEpochSecondTimestamps() throws Exception {
        byte[] body = utf8("{\"StreamName\":\"orders\",\"Data\":\"aGVsbG8gd29ybGQ=\",\"PartitionKey\":\"pk-1\"}");
        HttpResponse<byte[]> r = post("Kinesis_20131202.PutRecord", JSON, body);

        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(JSON, r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.headers().firstValue("x-amzn-ErrorType").isEmpty());
        assertEquals(json.readTree("{\"StreamName\":\"orders\",\"Data\":\"aGVsbG8gd29ybGQ=\",\"PartitionKey\":\"pk-1\","
                        + "\"ResourceArn\":\"" + ORDERS_ARN + "\",\"Caller\":\"root\",\"AnsweredAt\":1499878905.118}"),
                json.readTree(r.body()));
        // a number of seconds with milliseconds, not a string or epoch milliseconds
        assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("\"AnsweredAt\":1499878905.118"),
                new String(r.body(), StandardCharsets.UTF_8));
        // the authenticator saw the request as sent
        assertEquals("POST", authenticator.method);
        assertEquals("/", authenticator.target);
        assertArrayEquals(body, authenticator.body);
    }

    @Test
    void decodesJsonTimestampsInWholeAndFractionalEpochSeconds() throws Exception {
        String request = "{\"StreamName\":\"orders\",\"ShardId\":\"shardId-000000000000\",\"ShardIteratorType\":\"AT_TIMESTAMP\","
                + "\"Timestamp\":%s}";
        HttpResponse<byte[]> whole = post("Kinesis_20131202.GetShardIterator", JSON, utf8(request.formatted("1499878905")));
        assertEquals(200, whole.statusCode(), new String(whole.body(), StandardCharsets.UTF_8));
        assertEquals("{\"Timestamp\":1499878905.000}", new String(whole.body(), StandardCharsets.UTF_8));

        HttpResponse<byte[]> fractional = post("Kinesis_20131202.GetShardIterator", JSON, utf8(request.formatted("1499878905.118")));
        assertEquals(200, fractional.statusCode(), new String(fractional.body(), StandardCharsets.UTF_8));
        assertEquals("{\"Timestamp\":1499878905.118}", new String(fractional.body(), StandardCharsets.UTF_8));
    }

    @Test
    void answersJson10InJson10() throws Exception {
        HttpResponse<byte[]> r = send("POST", "/", "TrentService.ListKeys", JSON_1_0, utf8("{}"),
                authorization("AKIDROOT", "kms"));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(JSON_1_0, r.headers().firstValue("Content-Type").orElse(""));
        assertEquals(json.readTree("{\"Keys\":[],\"Truncated\":false}"), json.readTree(r.body()));
    }

    @Test
    void anEmptyBodyIsAnEmptyRequest() throws Exception {
        HttpResponse<byte[]> r = send("POST", "/", "TrentService.ListKeys", JSON, new byte[0], authorization("AKIDROOT", "kms"));
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(json.readTree("{\"Keys\":[],\"Truncated\":false}"), json.readTree(r.body()));
    }

    // ---- CBOR

    @Test
    void decodesCborAndAnswersItWithByteStringsAndTaggedEpochMilliseconds() throws Exception {
        byte[] data = {0, 1, 2, (byte) 0xfe, (byte) 0xff};
        ObjectNode request = cbor.createObjectNode().put("StreamName", "orders").put("Data", data).put("PartitionKey", "pk-2");
        HttpResponse<byte[]> r = post("Kinesis_20131202.PutRecord", CBOR, cborBody(request));

        assertEquals(200, r.statusCode(), () -> safeCbor(r.body()));
        assertEquals(CBOR, r.headers().firstValue("Content-Type").orElse(""));
        JsonNode answer = cbor.readTree(r.body());
        assertEquals(Set.of("StreamName", "Data", "PartitionKey", "ResourceArn", "Caller", "AnsweredAt"), fieldNames(answer));
        assertEquals("orders", answer.get("StreamName").asText());
        assertTrue(answer.get("Data").isBinary(), answer.toString());
        assertArrayEquals(data, answer.get("Data").binaryValue());
        assertEquals("pk-2", answer.get("PartitionKey").asText());
        assertEquals(ORDERS_ARN, answer.get("ResourceArn").asText());
        assertEquals("root", answer.get("Caller").asText());
        assertEquals(Map.of("AnsweredAt", List.of(1L, ANSWERED_AT.toEpochMilli())), taggedNumbers(r.body()));
    }

    @Test
    void decodesCborTimestampsAsTaggedEpochMilliseconds() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CBORGenerator g = cbor.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("StreamName", "orders");
            g.writeStringField("ShardId", "shardId-000000000000");
            g.writeStringField("ShardIteratorType", "AT_TIMESTAMP");
            g.writeFieldName("Timestamp");
            g.writeTag(1);
            g.writeNumber(ANSWERED_AT.toEpochMilli());
            g.writeEndObject();
        }
        HttpResponse<byte[]> r = post("Kinesis_20131202.GetShardIterator", CBOR, out.toByteArray());
        assertEquals(200, r.statusCode(), () -> safeCbor(r.body()));
        assertEquals(CBOR, r.headers().firstValue("Content-Type").orElse(""));
        assertEquals(Map.of("Timestamp", List.of(1L, ANSWERED_AT.toEpochMilli())), taggedNumbers(r.body()));
    }

    /** Each integer field of a CBOR map with the tag it carries (-1 for none): {@code name -> [tag, value]}. */
    static Map<String, List<Long>> taggedNumbers(byte[] body) throws Exception {
        Map<String, List<Long>> out = new LinkedHashMap<>();
        try (CBORParser p = cbor.getFactory().createParser(body)) {
            String field = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME) {
                    field = p.currentName();
                } else if (t == JsonToken.VALUE_NUMBER_INT) {
                    out.put(field, List.of((long) p.getCurrentTag(), p.getLongValue()));
                }
            }
        }
        return out;
    }

    static String safeCbor(byte[] body) {
        try {
            return cbor.readTree(body).toString();
        } catch (Exception e) {
            return Base64.getEncoder().encodeToString(body);
        }
    }

    @Test
    void errorsInCborAreCborWithTheSameShape() throws Exception {
        HttpResponse<byte[]> r = post("Kinesis_20131202.DeleteStream", CBOR, cborBody(cbor.createObjectNode().put("StreamName", "orders")));
        assertEquals("Stream orders under account 000000000000 not found.", error(r, CBOR, 400, AwsError.ResourceNotFoundException));
    }

    // ---- errors

    @Test
    void aRejectionFromTheHandlerIsAnsweredInTheJsonErrorShape() throws Exception {
        HttpResponse<byte[]> inStage = post("Kinesis_20131202.DeleteStream", JSON, utf8("{\"StreamName\":\"orders\"}"));
        assertEquals("Stream orders under account 000000000000 not found.", error(inStage, JSON, 400, AwsError.ResourceNotFoundException));
        assertEquals("{\"__type\":\"ResourceNotFoundException\",\"message\":\"Stream orders under account 000000000000 not found.\"}",
                new String(inStage.body(), StandardCharsets.UTF_8));

        HttpResponse<byte[]> thrown = post("Kinesis_20131202.CreateStream", JSON, utf8("{\"StreamName\":\"orders\",\"ShardCount\":1}"));
        assertEquals("This request would exceed the shard limit for the account.",
                error(thrown, JSON, 400, AwsError.LimitExceededException));
    }

    @Test
    void aFailureThatIsNoRejectionIsAnInternalFailureThatKeepsItsDetailsToItself() throws Exception {
        int before = handled.get();
        HttpResponse<byte[]> json11 = post("Kinesis_20131202.ListStreams", JSON, utf8("{}"));
        assertEquals("Internal service error", error(json11, JSON, 500, AwsError.InternalFailure));
        HttpResponse<byte[]> inCbor = post("Kinesis_20131202.ListStreams", CBOR, cborBody(cbor.createObjectNode()));
        assertEquals("Internal service error", error(inCbor, CBOR, 500, AwsError.InternalFailure));
        assertEquals(before + 2, handled.get(), "the handler ran");
        for (HttpResponse<byte[]> r : List.of(json11, inCbor)) {
            assertFalse(new String(r.body(), StandardCharsets.ISO_8859_1).contains("10.1.2.3"), "the failure's message leaked");
            assertFalse(r.headers().map().toString().contains("10.1.2.3"), "the failure's message leaked into a header");
        }
    }

    @Test
    void unknownOperationsAndAMissingTargetAreUnknownOperationExceptions() throws Exception {
        int before = handled.get();
        assertEquals("Unknown operation Kinesis_20131202.FlyToTheMoon.",
                error(post("Kinesis_20131202.FlyToTheMoon", JSON, utf8("{}")), JSON, 400, AwsError.UnknownOperationException));
        // served by Kinesis, but not declared in this table
        assertEquals("Unknown operation Kinesis_20131202.PutRecords.",
                error(post("Kinesis_20131202.PutRecords", JSON, utf8("{}")), JSON, 400, AwsError.UnknownOperationException));
        // a DynamoDB target is answered in DynamoDB's words: its error names carry the service's namespace
        assertEquals("Unknown operation DynamoDB_20120810.ListTables.", error(post("DynamoDB_20120810.ListTables", JSON, utf8("{}")),
                JSON, 400, "com.amazonaws.dynamodb.v20120810#UnknownOperationException"));
        assertEquals("Unknown operation PutRecord.",
                error(post("PutRecord", JSON, utf8("{}")), JSON, 400, AwsError.UnknownOperationException));
        assertEquals("Missing X-Amz-Target header.", error(post(null, JSON,
                utf8("{\"StreamName\":\"orders\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}")), JSON, 400, AwsError.UnknownOperationException));
        assertEquals("Unknown operation Kinesis_20131202.FlyToTheMoon.",
                error(post("Kinesis_20131202.FlyToTheMoon", CBOR, cborBody(cbor.createObjectNode())), CBOR, 400,
                        AwsError.UnknownOperationException));
        assertEquals(before, handled.get(), "a handler ran");
    }

    @Test
    void onlyPostToTheRootIsServed() throws Exception {
        int before = handled.get();
        String notServed = "Sluice serves the AWS JSON protocol: POST / with an X-Amz-Target header.";
        String auth = authorization("AKIDROOT", "kinesis");
        byte[] put = utf8("{\"StreamName\":\"orders\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}");
        assertEquals(notServed, error(send("GET", "/", "Kinesis_20131202.PutRecord", JSON, new byte[0], auth),
                JSON, 400, AwsError.UnknownOperationException));
        assertEquals(notServed, error(send("PUT", "/", "Kinesis_20131202.PutRecord", JSON, put, auth),
                JSON, 400, AwsError.UnknownOperationException));
        assertEquals(notServed, error(send("POST", "/streams/orders", "Kinesis_20131202.PutRecord", JSON, put, auth),
                JSON, 400, AwsError.UnknownOperationException));
        assertEquals(notServed, error(send("POST", "/streams/orders", "Kinesis_20131202.PutRecord", CBOR,
                cborBody(cbor.createObjectNode().put("StreamName", "orders")), auth), CBOR, 400, AwsError.UnknownOperationException));
        assertEquals(before, handled.get(), "a handler ran");
    }

    @Test
    void malformedJsonIsASerializationException() throws Exception {
        int before = handled.get();
        String truncated = error(post("Kinesis_20131202.PutRecord", JSON, utf8("{\"StreamName\":\"orders\",")), JSON, 400,
                AwsError.SerializationException);
        assertTrue(truncated.startsWith("Unexpected end-of-input"), truncated);
        String notBase64 = error(post("Kinesis_20131202.PutRecord", JSON,
                utf8("{\"StreamName\":\"orders\",\"Data\":\"%%%\",\"PartitionKey\":\"k\"}")), JSON, 400, AwsError.SerializationException);
        assertTrue(notBase64.startsWith("Cannot decode base64 blob"), notBase64);
        String notATimestamp = error(post("Kinesis_20131202.GetShardIterator", JSON,
                utf8("{\"StreamName\":\"orders\",\"Timestamp\":true}")), JSON, 400, AwsError.SerializationException);
        assertFalse(notATimestamp.isEmpty());
        assertEquals(before, handled.get(), "a handler ran");
    }

    @Test
    void malformedCborIsASerializationExceptionInCbor() throws Exception {
        int before = handled.get();
        // an indefinite map whose first key announces three bytes and brings one
        String message = error(post("Kinesis_20131202.PutRecord", CBOR, new byte[] {(byte) 0xbf, 0x63, 0x41}), CBOR, 400,
                AwsError.SerializationException);
        assertFalse(message.isEmpty());
        // well-formed CBOR, but a number where a blob belongs is no Kinesis PutRecord
        ObjectNode wrongType = cbor.createObjectNode().put("StreamName", "orders").put("Data", 42).put("PartitionKey", "k");
        error(post("Kinesis_20131202.PutRecord", CBOR, cborBody(wrongType)), CBOR, 400, AwsError.SerializationException);
        assertEquals(before, handled.get(), "a handler ran");
    }

    @Test
    void aCredentialScopedToAnotherServiceIsAnInvalidSignature() throws Exception {
        int before = handled.get();
        byte[] put = utf8("{\"StreamName\":\"orders\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}");
        assertEquals("Credential should be scoped to correct service: 'kinesis'. ",
                error(send("POST", "/", "Kinesis_20131202.PutRecord", JSON, put, authorization("AKIDROOT", "kms")),
                        JSON, 400, AwsError.InvalidSignatureException));
        assertEquals("Credential should be scoped to correct service: 'kms'. ",
                error(send("POST", "/", "TrentService.ListKeys", JSON, utf8("{}"), authorization("AKIDROOT", "kinesis")),
                        JSON, 400, AwsError.InvalidSignatureException));
        assertEquals(before, handled.get(), "a handler ran");
    }

    @Test
    void aRequestWithoutAuthenticationIsRefusedBeforeItsOperationIsLookedUp() throws Exception {
        int before = handled.get();
        byte[] put = utf8("{\"StreamName\":\"orders\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}");
        assertEquals("Missing Authentication Token", error(send("POST", "/", "Kinesis_20131202.PutRecord", JSON, put, null),
                JSON, 400, AwsError.MissingAuthenticationTokenException));
        assertEquals("Missing Authentication Token", error(send("POST", "/", "Kinesis_20131202.FlyToTheMoon", CBOR,
                cborBody(cbor.createObjectNode()), null), CBOR, 400, AwsError.MissingAuthenticationTokenException));
        assertEquals(before, handled.get(), "a handler ran");
    }

    @Test
    void aCallerWithoutPermissionIsDeniedOnTheOperationsResource() throws Exception {
        int before = handled.get();
        byte[] put = utf8("{\"StreamName\":\"orders\",\"Data\":\"b2s=\",\"PartitionKey\":\"k\"}");
        assertEquals("User: arn:aws:iam::000000000000:user/alice is not authorized to perform: kinesis:PutRecord on resource: "
                        + ORDERS_ARN,
                error(send("POST", "/", "Kinesis_20131202.PutRecord", JSON, put, authorization("AKIDALICE", "kinesis")),
                        JSON, 400, AwsError.AccessDeniedException));
        assertEquals(before, handled.get(), "the handler ran for a denied caller");
    }

    // ---- HTTP/2 (h2c, prior knowledge: the KCL's and the JavaScript SDK's clients)

    /** A response as both clients see it: what must not depend on the HTTP version. */
    record Answer(int status, String contentType, String errorType, String body) {}

    static Answer answerOf(HttpResponse<byte[]> r) {
        return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""),
                r.headers().firstValue("x-amzn-ErrorType").orElse(""), new String(r.body(), StandardCharsets.UTF_8));
    }

    /** The request {@link #post} sends, over HTTP/2 with prior knowledge through Pekko's client. */
    static Answer postOverHttp2(String target, String contentType, byte[] body) throws Exception {
        var request = org.apache.pekko.http.javadsl.model.HttpRequest.create("/").withMethod(HttpMethods.POST)
                .addHeader(RawHeader.create("X-Amz-Target", target))
                .addHeader(RawHeader.create("X-Amz-Date", "20261202T101530Z"))
                .addHeader(RawHeader.create("Authorization", authorization("AKIDROOT", "kinesis")))
                .withEntity(HttpEntities.create(ContentTypes.parse(contentType), body));
        var response = Source.single(request)
                .via(Http.get(testKit.system()).connectionTo("127.0.0.1").toPort(endpoint.getPort()).http2WithPriorKnowledge())
                .runWith(Sink.head(), testKit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals("HTTP/2.0", response.protocol().value());
        String requestId = response.getHeader("x-amzn-RequestId").map(h -> h.value()).orElse(null);
        assertNotNull(requestId, () -> target + ": no x-amzn-RequestId on a " + response.status());
        assertTrue(requestIds.add(requestId), "request id reused: " + requestId);
        var strict = response.entity().toStrict(10_000, testKit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        return new Answer(response.status().intValue(), strict.getContentType().toString(),
                response.getHeader("x-amzn-ErrorType").map(h -> h.value()).orElse(""),
                strict.getData().utf8String());
    }

    @Test
    void answersAlikeOverHttp11AndHttp2() throws Exception {
        byte[] put = utf8("{\"StreamName\":\"orders\",\"Data\":\"aGVsbG8=\",\"PartitionKey\":\"pk\"}");
        Answer overHttp11 = answerOf(post("Kinesis_20131202.PutRecord", JSON, put));
        assertEquals(200, overHttp11.status(), overHttp11.body());
        assertEquals(overHttp11, postOverHttp2("Kinesis_20131202.PutRecord", JSON, put));

        byte[] delete = utf8("{\"StreamName\":\"orders\"}");
        Answer rejected = answerOf(post("Kinesis_20131202.DeleteStream", JSON, delete));
        assertEquals(400, rejected.status(), rejected.body());
        assertEquals(rejected, postOverHttp2("Kinesis_20131202.DeleteStream", JSON, delete));
    }

    @Test
    void pastTheRequestTimeoutBothHttpVersionsGetAwsRetryableServiceUnavailable() throws Exception {
        byte[] split = utf8("{\"StreamName\":\"orders\"}");
        long start = System.nanoTime();
        HttpResponse<byte[]> overHttp11 = post("Kinesis_20131202.SplitShard", JSON, split);
        assertEquals("The service could not answer in time; retry the request.",
                error(overHttp11, JSON, 503, AwsError.ServiceUnavailable));
        // Pekko keeps no request timer for HTTP/2: the front end keeps the same one, with the same answer
        Answer overHttp2 = postOverHttp2("Kinesis_20131202.SplitShard", JSON, split);
        assertEquals(answerOf(overHttp11), overHttp2);
        Duration both = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(both.compareTo(REQUEST_TIMEOUT.multipliedBy(2)) >= 0 && both.compareTo(REQUEST_TIMEOUT.multipliedBy(5)) < 0,
                "answered after " + both);
    }
}
