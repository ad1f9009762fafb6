package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every operation of the AWS models of Kinesis, KMS, IAM, DynamoDB and STS ({@code ../shared/testdata/aws-models},
 * beside the repository), sent to a real node signed for its service with an empty request: none
 * may fail the node (5xx); each is either served (2xx, or a 4xx other than unknown-operation, such
 * as the validation error an empty request earns) or refused as unknown in its protocol's words
 * ({@code UnknownOperationException} in JSON, {@code InvalidAction} in Query XML). The operations
 * served must be exactly {@link #SERVED}, so serving a new operation or dropping one fails here
 * until the list says so.
 */
class ServedOperationsTest {
    /**
     * What the node declares it serves, per model. Kinesis and KMS are the node's {@code Operations}
     * table (KinesisStreams, KinesisConsumers, KinesisRecords, KmsService); IAM is IamService's actions. The node's
     * table is not reachable from a running node, hence the list.
     */
    static final Map<String, Set<String>> SERVED = Map.of(
            "kinesis", Set.of("CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams",
                    "ListShards", "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod", "AddTagsToStream",
                    "RemoveTagsFromStream", "ListTagsForStream", "DescribeLimits", "StartStreamEncryption",
                    "StopStreamEncryption", "PutRecord", "PutRecords", "GetShardIterator", "GetRecords", "SplitShard",
                    "MergeShards", "UpdateShardCount", "UpdateStreamMode", "RegisterStreamConsumer",
                    "DescribeStreamConsumer", "ListStreamConsumers", "DeregisterStreamConsumer", "SubscribeToShard"),
            "kms", Set.of("CreateKey", "DescribeKey", "ListKeys", "CreateAlias", "UpdateAlias", "DeleteAlias", "ListAliases",
                    "EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion", "EnableKeyRotation",
                    "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "GenerateDataKey",
                    "GenerateDataKeyWithoutPlaintext", "Encrypt", "Decrypt", "ReEncrypt"),
            "iam", Set.of("CreateUser", "GetUser", "ListUsers", "DeleteUser", "CreateAccessKey", "DeleteAccessKey",
                    "UpdateAccessKey", "ListAccessKeys", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy",
                    "ListUserPolicies"),
            "dynamodb", Set.of("CreateTable", "DescribeTable", "UpdateTable", "DeleteTable", "ListTables", "TagResource",
                    "UntagResource", "ListTagsOfResource", "DescribeContinuousBackups", "UpdateContinuousBackups", "GetItem",
                    "PutItem", "UpdateItem", "DeleteItem", "Scan", "Query"),
            "sts", Set.of("GetCallerIdentity"));

    /** Refusals that would mean the request was signed wrongly, so that it says nothing about the operation. */
    static final Set<String> AUTHENTICATION_ERRORS = Set.of("MissingAuthenticationTokenException", "IncompleteSignatureException",
            "InvalidSignatureException", "UnrecognizedClientException", "MissingAuthenticationToken", "IncompleteSignature",
            "SignatureDoesNotMatch", "InvalidClientTokenId");

    static final ObjectMapper json = new ObjectMapper();
    static Path models;
    static TestNode node;
    static SignedHttp http;

    /** One model's calls: how its operations are addressed and signed. */
    record Model(String signingName, String protocol, String targetPrefix, String jsonVersion, String apiVersion,
                 List<String> operations) {
        static Model read(Path file) throws Exception {
            JsonNode root = json.readTree(file.toFile());
            JsonNode metadata = root.get("metadata");
            List<String> operations = new ArrayList<>();
            root.get("operations").fieldNames().forEachRemaining(operations::add);
            return new Model(metadata.path("signingName").asText(metadata.get("endpointPrefix").asText()),
                    metadata.get("protocol").asText(), metadata.path("targetPrefix").asText(null),
                    metadata.path("jsonVersion").asText(null), metadata.get("apiVersion").asText(), operations);
        }

        boolean query() {
            return protocol.equals("query");
        }
    }

    /** What the node answered one operation. */
    record Outcome(String operation, int status, String error, Verdict verdict, String detail) {
        @Override
        public String toString() {
            return operation + " -> " + status + (error == null ? "" : " " + error) + (detail == null ? "" : ": " + detail);
        }
    }

    enum Verdict { SERVED, UNKNOWN, FAILED }

    @BeforeAll
    static void start() throws Exception {
        models = modelsFolder();
        node = new TestNode(Clock.systemUTC(), "").start();
        http = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey);
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    /**
     * The models, copied unchanged into the test resources from {@code ../shared/testdata/aws-models}
     * (see the NOTICE there), so a clone of the repository runs this test on its own.
     */
    static Path modelsFolder() throws java.net.URISyntaxException {
        java.net.URL notice = ServedOperationsTest.class.getResource("/aws-models/NOTICE");
        assertNotNull(notice, "the AWS models are missing from the test resources (node/src/test/resources/aws-models)");
        return Path.of(notice.toURI()).getParent();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"kinesis", "kms", "iam", "dynamodb", "sts"})
    void everyModelledOperationIsServedOrRefusedAsUnknown(String service) throws Exception {
        Path file = models.resolve(service + "-service-2.json");
        assertTrue(Files.isRegularFile(file), "model missing: " + file);
        Model model = Model.read(file);
        assertEquals(service, model.signingName(), "the model's signing name");
        SignedHttp signed = http.forService(model.signingName());

        List<Outcome> outcomes = new ArrayList<>();
        for (String operation : model.operations()) {
            outcomes.add(model.query() ? query(signed, model, operation) : json(signed, model, operation));
        }

        Set<String> served = new TreeSet<>();
        Set<String> unknown = new TreeSet<>();
        List<Outcome> failed = new ArrayList<>();
        for (Outcome o : outcomes) {
            switch (o.verdict()) {
                case SERVED -> served.add(o.operation());
                case UNKNOWN -> unknown.add(o.operation());
                case FAILED -> failed.add(o);
            }
        }
        System.out.printf("%s (%s): %d operations in the model, %d served, %d refused as unknown, %d failed%n",
                service, model.protocol(), outcomes.size(), served.size(), unknown.size(), failed.size());

        Set<String> expected = new TreeSet<>(SERVED.get(service));
        Set<String> notInModel = new TreeSet<>(expected);
        notInModel.removeAll(model.operations());
        Set<String> newlyServed = new TreeSet<>(served);
        newlyServed.removeAll(expected);
        Set<String> notServed = new TreeSet<>(expected);
        notServed.removeAll(served);
        StringBuilder report = new StringBuilder();
        if (!failed.isEmpty()) {
            report.append("\n  failed (a 5xx, or an answer that is neither served nor unknown-operation):");
            failed.forEach(o -> report.append("\n    ").append(o));
        }
        if (!notInModel.isEmpty()) {
            report.append("\n  declared served but not in the ").append(service).append(" model: ").append(notInModel);
        }
        if (!newlyServed.isEmpty()) {
            report.append("\n  served but not declared (add them to SERVED):");
            outcomes.stream().filter(o -> newlyServed.contains(o.operation())).forEach(o -> report.append("\n    ").append(o));
        }
        if (!notServed.isEmpty()) {
            report.append("\n  declared but not served:");
            outcomes.stream().filter(o -> notServed.contains(o.operation()) && o.verdict() != Verdict.FAILED)
                    .forEach(o -> report.append("\n    ").append(o));
        }
        assertTrue(report.isEmpty(), service + ":" + report);
    }

    /**
     * Sluice's own operator API (service {@code sluice}, {@code GET /admin/...}): exactly these
     * operations, each answered signed by root (GetStreamTraffic of a stream that does not exist with
     * Kinesis's not-found), any other path under {@code /admin/} refused as unknown.
     */
    static final Map<String, String> OPERATOR_API = Map.of(
            "/admin/stats", "GetNodeStats",
            "/admin/cluster", "DescribeCluster",
            "/admin/traffic?stream=not-a-stream", "GetStreamTraffic");

    @org.junit.jupiter.api.Test
    void theOperatorApiServesItsEndpointsAndNothingElse() throws Exception {
        SignedHttp signed = http.forService("sluice");
        for (Map.Entry<String, String> e : OPERATOR_API.entrySet()) {
            HttpResponse<byte[]> r = signed.get(e.getKey());
            String text = new String(r.body(), StandardCharsets.UTF_8);
            String type = r.headers().firstValue("x-amzn-ErrorType").orElse("");
            assertTrue(r.statusCode() == 200 || (r.statusCode() == 400 && type.equals("ResourceNotFoundException")),
                    e.getValue() + " at " + e.getKey() + " -> " + r.statusCode() + " " + text);
        }
        for (String path : List.of("/admin/", "/admin/metrics", "/admin/traffic/foo", "/admin/stats/")) {
            HttpResponse<byte[]> r = signed.get(path);
            assertEquals(400, r.statusCode(), path);
            assertEquals("UnknownOperationException", json.readTree(r.body()).path("__type").asText(), path);
        }
    }

    /** AWS JSON: {@code POST /} with {@code X-Amz-Target: <prefix>.<Operation>} and {@code {}}. */
    static Outcome json(SignedHttp signed, Model model, String operation) throws Exception {
        HttpResponse<byte[]> r = signed.post(model.targetPrefix() + "." + operation, "application/x-amz-json-" + model.jsonVersion(),
                "{}".getBytes(StandardCharsets.UTF_8));
        String text = new String(r.body(), StandardCharsets.UTF_8);
        int status = r.statusCode();
        if (r.headers().firstValue("x-amzn-RequestId").isEmpty()) {
            return new Outcome(operation, status, null, Verdict.FAILED, "no x-amzn-RequestId; " + text);
        }
        if (status >= 200 && status < 300) {
            try {
                json.readTree(r.body());
            } catch (Exception e) {
                return new Outcome(operation, status, null, Verdict.FAILED, "the answer is not JSON: " + text);
            }
            return new Outcome(operation, status, null, Verdict.SERVED, null);
        }
        String type;
        String message;
        try {
            JsonNode body = json.readTree(r.body());
            type = body.path("__type").asText("");
            message = body.path("message").asText("");
        } catch (Exception e) {
            return new Outcome(operation, status, null, Verdict.FAILED, "the error is not JSON: " + text);
        }
        if (status >= 500 || status < 400 || type.isEmpty()) {
            return new Outcome(operation, status, type, Verdict.FAILED, text);
        }
        if (!type.equals(r.headers().firstValue("x-amzn-ErrorType").orElse(""))) {
            return new Outcome(operation, status, type, Verdict.FAILED, "x-amzn-ErrorType is "
                    + r.headers().firstValue("x-amzn-ErrorType").orElse("absent") + "; " + text);
        }
        if (type.endsWith("UnknownOperationException")) {
            return new Outcome(operation, status, type, status == 400 ? Verdict.UNKNOWN : Verdict.FAILED, message);
        }
        return new Outcome(operation, status, type, AUTHENTICATION_ERRORS.contains(type.substring(type.indexOf('#') + 1)) ? Verdict.FAILED : Verdict.SERVED, message);
    }

    /** AWS Query: a form {@code Action=<Operation>&Version=<api version>} to {@code POST /}. */
    static Outcome query(SignedHttp signed, Model model, String operation) throws Exception {
        HttpResponse<byte[]> r = signed.post(null, "application/x-www-form-urlencoded; charset=utf-8",
                ("Action=" + operation + "&Version=" + model.apiVersion()).getBytes(StandardCharsets.UTF_8));
        String text = new String(r.body(), StandardCharsets.UTF_8);
        int status = r.statusCode();
        if (r.headers().firstValue("x-amzn-RequestId").isEmpty()) {
            return new Outcome(operation, status, null, Verdict.FAILED, "no x-amzn-RequestId; " + text);
        }
        Document xml;
        try {
            xml = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(r.body()));
        } catch (Exception e) {
            return new Outcome(operation, status, null, Verdict.FAILED, "the answer is not XML: " + text);
        }
        String root = xml.getDocumentElement().getTagName();
        if (status >= 200 && status < 300) {
            return root.equals(operation + "Response") ? new Outcome(operation, status, null, Verdict.SERVED, null)
                    : new Outcome(operation, status, null, Verdict.FAILED, "answered <" + root + ">: " + text);
        }
        String code = root.equals("ErrorResponse") ? xml.getElementsByTagName("Code").item(0).getTextContent() : "";
        String message = xml.getElementsByTagName("Message").getLength() > 0
                ? xml.getElementsByTagName("Message").item(0).getTextContent() : text;
        if (status >= 500 || status < 400 || code.isEmpty()) {
            return new Outcome(operation, status, code, Verdict.FAILED, text);
        }
        if (code.equals("InvalidAction")) {
            return new Outcome(operation, status, code, status == 400 ? Verdict.UNKNOWN : Verdict.FAILED, message);
        }
        return new Outcome(operation, status, code, AUTHENTICATION_ERRORS.contains(code) ? Verdict.FAILED : Verdict.SERVED, message);
    }
}
