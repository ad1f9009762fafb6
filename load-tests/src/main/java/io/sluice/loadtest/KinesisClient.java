package io.sluice.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.protocol.sigv4.SigV4;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The thin Kinesis JSON 1.1 client both load generators share ({@link KinesisBench} and the Gatling
 * simulations): SigV4 signing of {@code POST /} exactly as the request will be sent, and the control-plane
 * calls a run needs around its load (create the stream and wait for ACTIVE, switch encryption, list shards,
 * delete). No AWS SDK, so what a run measures is the server plus this visible client.
 */
public final class KinesisClient {

    public static final String CONTENT_TYPE = "application/x-amz-json-1.1";
    public static final String TARGET_PREFIX = "Kinesis_20131202.";
    static final ObjectMapper JSON = new ObjectMapper();

    private final URI uri;
    private final String host;
    private final String region;
    private final String accessKeyId;
    private final String secretKey;
    private final Duration timeout;
    private final HttpClient client;

    public KinesisClient(URI endpoint, String region, String accessKeyId, String secretKey, Duration timeout) {
        if (accessKeyId == null || accessKeyId.isBlank() || secretKey == null || secretKey.isBlank()) {
            throw new IllegalArgumentException("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        }
        this.uri = endpoint.resolve("/");
        this.host = hostHeader(endpoint);
        this.region = region;
        this.accessKeyId = accessKeyId;
        this.secretKey = secretKey;
        this.timeout = timeout;
        // HTTP/1.1 as the AWS SDKs use against Kinesis' JSON API; the client pools one connection per
        // concurrent caller, so C callers means C keep-alive connections
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** Endpoint, region and credentials from the usual sources: system properties, then the AWS environment. */
    public static KinesisClient fromEnvironment(String endpoint, String region, Duration timeout) {
        return new KinesisClient(URI.create(endpoint), region, System.getenv("AWS_ACCESS_KEY_ID"),
                System.getenv("AWS_SECRET_ACCESS_KEY"), timeout);
    }

    /** {@code AWS_REGION}, then {@code AWS_DEFAULT_REGION}, then us-east-1, as the SDKs look it up. */
    public static String defaultRegion() {
        return firstNonBlank(System.getenv("AWS_REGION"), System.getenv("AWS_DEFAULT_REGION"), "us-east-1");
    }

    public URI uri() {
        return uri;
    }

    public HttpClient http() {
        return client;
    }

    /**
     * The headers that sign {@code POST /} of {@code body} for {@code operation} ({@code X-Amz-Date} and
     * {@code Authorization}); the request must also carry {@link #CONTENT_TYPE}, the {@code X-Amz-Target} of
     * {@link #target} and the Host this client computed from the endpoint.
     */
    public List<Map.Entry<String, String>> signature(String operation, byte[] body) {
        return signature(operation, body, SigV4.sha256Hex(body));
    }

    /** {@link #signature(String, byte[])} with the body's SHA-256 (hex) known already: a body sent many times. */
    public List<Map.Entry<String, String>> signature(String operation, byte[] body, String bodySha256Hex) {
        List<Map.Entry<String, String>> headers = List.of(Map.entry("Host", host),
                Map.entry("Content-Type", CONTENT_TYPE), Map.entry("X-Amz-Target", target(operation)));
        return SigV4.sign(new SigV4.HttpRequestParts("POST", "/", null, headers, body), bodySha256Hex,
                accessKeyId, secretKey, region, "kinesis", Instant.now());
    }

    public static String target(String operation) {
        return TARGET_PREFIX + operation;
    }

    /**
     * A signed {@code POST /}. The Host value signed is the one {@link HttpClient} will send (it does not let
     * callers set Host), so the two must be computed alike: see {@link #hostHeader}.
     */
    public HttpRequest request(String operation, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", CONTENT_TYPE)
                .header("X-Amz-Target", target(operation));
        for (Map.Entry<String, String> h : signature(operation, body)) {
            b.header(h.getKey(), h.getValue());
        }
        return b.build();
    }

    /** A control-plane call; throws {@link ApiError} for any answer but 200. */
    public JsonNode call(String operation, ObjectNode request) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = client.send(request(operation, JSON.writeValueAsBytes(request)),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new ApiError(operation, response.statusCode(), errorType(response.body()),
                    new String(response.body(), StandardCharsets.UTF_8));
        }
        return JSON.readTree(response.body());
    }

    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /**
     * CreateStream unless it exists, then DescribeStreamSummary until ACTIVE, with the encryption asked for
     * ({@code kmsKeyId} null: none). Returns the open shard count (which may differ from {@code shards} for
     * a stream that already existed).
     */
    public int ensureStream(String stream, int shards, String kmsKeyId) throws IOException, InterruptedException {
        try {
            call("CreateStream", object().put("StreamName", stream).put("ShardCount", shards));
            System.err.println("created stream " + stream + " with " + shards + " shards");
        } catch (ApiError e) {
            if (!e.type.equals("ResourceInUseException")) {
                throw e;
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            JsonNode summary = call("DescribeStreamSummary", object().put("StreamName", stream))
                    .path("StreamDescriptionSummary");
            if ("ACTIVE".equals(summary.path("StreamStatus").asText()) && encryptionMatches(stream, summary, kmsKeyId)) {
                int open = summary.path("OpenShardCount").asInt(shards);
                if (open != shards) {
                    System.err.println("note: stream " + stream + " already exists with " + open + " open shards, not "
                            + shards + "; delete it or pick another stream name to get " + shards);
                }
                return open;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("stream " + stream + " not ready after 120 s: " + summary);
            }
            Thread.sleep(250);
        }
    }

    /**
     * True when the stream's encryption is the one asked for; otherwise starts or stops it and answers false
     * (the caller polls again). Waits out the front ends' metadata cache so the run measures the new setting.
     */
    private boolean encryptionMatches(String stream, JsonNode summary, String kmsKeyId)
            throws IOException, InterruptedException {
        boolean wantKms = kmsKeyId != null;
        boolean isKms = "KMS".equals(summary.path("EncryptionType").asText());
        if (wantKms == isKms) {
            return true;
        }
        String keyId = wantKms ? kmsKeyId : summary.path("KeyId").asText();
        call(wantKms ? "StartStreamEncryption" : "StopStreamEncryption", object()
                .put("StreamName", stream).put("EncryptionType", "KMS").put("KeyId", keyId));
        System.err.println((wantKms ? "encrypting " : "no longer encrypting ") + stream + " (key " + keyId + ")");
        Thread.sleep(2000);
        return false;
    }

    /**
     * UpdateShardCount to {@code target} (UNIFORM_SCALING), then DescribeStreamSummary every 10 ms until the
     * stream is ACTIVE again; answers the milliseconds from the call to the first ACTIVE answer.
     */
    public long reshard(String stream, int target) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        call("UpdateShardCount", object().put("StreamName", stream).put("TargetShardCount", target)
                .put("ScalingType", "UNIFORM_SCALING"));
        long deadline = t0 + TimeUnit.SECONDS.toNanos(300);
        while (true) {
            JsonNode summary = call("DescribeStreamSummary", object().put("StreamName", stream))
                    .path("StreamDescriptionSummary");
            if ("ACTIVE".equals(summary.path("StreamStatus").asText())) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("stream " + stream + " still resharding after 300 s: " + summary);
            }
            Thread.sleep(10);
        }
    }

    /** The ids of the stream's open shards (the ones that take new records), in ListShards order. */
    public List<String> openShards(String stream) throws IOException, InterruptedException {
        List<String> ids = new ArrayList<>();
        ObjectNode req = object().put("StreamName", stream);
        while (true) {
            JsonNode answer = call("ListShards", req);
            for (JsonNode shard : answer.path("Shards")) {
                // open: no EndingSequenceNumber (some emulators send it as null)
                JsonNode end = shard.path("SequenceNumberRange").get("EndingSequenceNumber");
                if (end == null || end.isNull()) {
                    ids.add(shard.get("ShardId").asText());
                }
            }
            JsonNode next = answer.get("NextToken");
            if (next == null || next.isNull()) {
                return ids;
            }
            req = object().put("NextToken", next.asText());
        }
    }

    /** DeleteStream; a stream already gone is fine. */
    public void deleteStream(String stream) throws IOException, InterruptedException {
        try {
            call("DeleteStream", object().put("StreamName", stream));
        } catch (ApiError e) {
            if (!e.type.equals("ResourceNotFoundException")) {
                throw e;
            }
        }
    }

    /** An answer other than 200, with the error's type. */
    public static final class ApiError extends IOException {
        public final String type;

        ApiError(String operation, int status, String type, String body) {
            super(operation + " -> HTTP " + status + " " + body);
            this.type = type;
        }
    }

    /** {@code __type} of an error body, without the {@code namespace#} prefix some services add. */
    public static String errorType(byte[] body) {
        try {
            String type = JSON.readTree(body).path("__type").asText("?");
            return type.substring(type.indexOf('#') + 1);
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** The JDK's HTTP/1.1 client (and Gatling's) write "host" alone for the scheme's default port, "host:port" otherwise. */
    public static String hostHeader(URI endpoint) {
        int port = endpoint.getPort();
        boolean secure = "https".equalsIgnoreCase(endpoint.getScheme());
        boolean defaultPort = port == -1 || port == (secure ? 443 : 80);
        return defaultPort ? endpoint.getHost() : endpoint.getHost() + ":" + port;
    }

    static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }
}
