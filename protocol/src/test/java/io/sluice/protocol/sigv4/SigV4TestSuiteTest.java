package io.sluice.protocol.sigv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.sigv4.SigV4.Authorization;
import io.sluice.protocol.sigv4.SigV4.HttpRequestParts;
import io.sluice.protocol.sigv4.SigV4.PathMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * AWS's Signature Version 4 test suite (awslabs/aws-c-auth, tests/aws-signing-test-suite/v4, copied into the
 * test resources), for both header signing and query-string presigning, plus the checks the suite has no
 * vector for: tampering, and refusing malformed {@code Authorization} headers.
 */
class SigV4TestSuiteTest {

    private static final String SUITE = "/aws-signing-test-suite-v4";
    private static final ObjectMapper JSON = new ObjectMapper();

    // ---------------------------------------------------------------- the suite

    static Stream<String> cases() throws IOException {
        try (Stream<Path> children = Files.list(suiteDir())) {
            List<String> names = children.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(38, names.size(), "cases in " + SUITE);
            return names.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void headerSigning(String name) throws IOException {
        Context ctx = Context.read(name);
        RawRequest req = RawRequest.read(name);

        List<Map.Entry<String, String>> headers = new ArrayList<>(req.headers());
        headers.add(Map.entry("X-Amz-Date", ctx.amzDate()));
        if (ctx.sessionToken() != null && !ctx.omitSessionToken()) {
            headers.add(Map.entry("X-Amz-Security-Token", ctx.sessionToken()));
        }
        if (ctx.signBody()) {
            headers.add(Map.entry("X-Amz-Content-Sha256", SigV4.sha256Hex(req.body())));
        }
        HttpRequestParts parts = new HttpRequestParts(req.method(), req.path(), req.query(), headers, req.body());
        // the suite signs every header of the request
        List<String> signedHeaders = lowercaseNames(headers);

        String canonical = SigV4.canonicalRequest(parts, signedHeaders, SigV4.sha256Hex(req.body()), ctx.pathMode());
        assertEquals(file(name, "header-canonical-request.txt"), canonical, "canonical request");
        String stringToSign = SigV4.stringToSign(ctx.amzDate(), ctx.scope(), canonical);
        assertEquals(file(name, "header-string-to-sign.txt"), stringToSign, "string to sign");
        String signature = SigV4.signature(SigV4.signingKey(ctx.secret(), ctx.date(), ctx.region(), ctx.service()), stringToSign);
        assertEquals(file(name, "header-signature.txt"), signature, "signature");

        String expectedAuthorization = signedRequestHeader(name, "Authorization");
        Authorization parsed = SigV4.parseAuthorization(expectedAuthorization);
        assertEquals(new Authorization(ctx.accessKeyId(), ctx.date(), ctx.region(), ctx.service(), signedHeaders, signature), parsed);
        assertEquals(expectedAuthorization, parsed.toHeaderValue());

        // sign() picks its own header set (host, content-type, x-amz-*) and path mode; where those agree with
        // the case, it must produce the very same headers
        boolean signChoosesSameHeaders = signedHeaders.stream()
                .allMatch(h -> h.equals("host") || h.equals("content-type") || h.startsWith("x-amz-"));
        if (signChoosesSameHeaders && ctx.pathMode() == PathMode.NORMALIZED) {
            HttpRequestParts unsigned = new HttpRequestParts(req.method(), req.path(), req.query(),
                    headers.stream().filter(h -> !h.getKey().equalsIgnoreCase("X-Amz-Date")).toList(), req.body());
            List<Map.Entry<String, String>> added =
                    SigV4.sign(unsigned, ctx.accessKeyId(), ctx.secret(), ctx.region(), ctx.service(), ctx.timestamp());
            assertEquals(List.of(Map.entry("X-Amz-Date", ctx.amzDate()), Map.entry("Authorization", expectedAuthorization)), added);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void querySigning(String name) throws IOException {
        Context ctx = Context.read(name);
        RawRequest req = RawRequest.read(name);
        // a presigned request signs its headers, but the date and token travel in the query instead
        List<String> signedHeaders = lowercaseNames(req.headers());

        StringBuilder query = new StringBuilder(req.query() == null ? "" : req.query());
        appendParam(query, "X-Amz-Algorithm", SigV4.ALGORITHM);
        appendParam(query, "X-Amz-Credential", ctx.accessKeyId() + "/" + ctx.scope());
        appendParam(query, "X-Amz-Date", ctx.amzDate());
        appendParam(query, "X-Amz-SignedHeaders", String.join(";", signedHeaders));
        appendParam(query, "X-Amz-Expires", Long.toString(ctx.expiresSeconds()));
        if (ctx.sessionToken() != null && !ctx.omitSessionToken()) {
            appendParam(query, "X-Amz-Security-Token", ctx.sessionToken());
        }
        HttpRequestParts parts = new HttpRequestParts(req.method(), req.path(), query.toString(), req.headers(), req.body());

        String canonical = SigV4.canonicalRequest(parts, signedHeaders, SigV4.sha256Hex(req.body()), ctx.pathMode());
        assertEquals(file(name, "query-canonical-request.txt"), canonical, "canonical request");
        String stringToSign = SigV4.stringToSign(ctx.amzDate(), ctx.scope(), canonical);
        assertEquals(file(name, "query-string-to-sign.txt"), stringToSign, "string to sign");
        String signature = SigV4.signature(ctx.secret(), ctx.date(), ctx.region(), ctx.service(), stringToSign);
        assertEquals(file(name, "query-signature.txt"), signature, "signature");
        String requestLine = file(name, "query-signed-request.txt").lines().findFirst().orElseThrow();
        assertTrue(requestLine.contains("&X-Amz-Signature=" + signature + " "), requestLine);
    }

    // ---------------------------------------------------------------- tampering

    private static final Instant NOW = Instant.parse("2024-05-01T10:20:30Z");
    private static final String KEY_ID = "AKIDSLUICE";
    private static final String SECRET = "sluice-secret-key";

    private static HttpRequestParts putRecord(String body) {
        return new HttpRequestParts("POST", "/", null, List.of(
                Map.entry("Host", "localhost:4567"),
                Map.entry("Content-Type", "application/x-amz-json-1.1"),
                Map.entry("X-Amz-Target", "Kinesis_20131202.PutRecord"),
                Map.entry("User-Agent", "load-test/1.0")),
                body.getBytes(StandardCharsets.UTF_8));
    }

    private static final String BODY = "{\"StreamName\":\"s\",\"Data\":\"AAEC\",\"PartitionKey\":\"p\"}";

    private static HttpRequestParts signed(HttpRequestParts parts) {
        HttpRequestParts out = parts;
        for (Map.Entry<String, String> h : SigV4.sign(parts, KEY_ID, SECRET, "us-east-1", "kinesis", NOW)) {
            out = out.withHeader(h.getKey(), h.getValue());
        }
        return out;
    }

    /** What the server does: recompute from the request and the parsed header, compare in constant time. */
    private static boolean verifies(HttpRequestParts request, String secret) {
        Authorization auth = SigV4.parseAuthorization(request.headerValues("Authorization").get(0));
        String amzDate = request.headerValues("X-Amz-Date").get(0);
        String canonical = SigV4.canonicalRequest(request, auth.signedHeaders(), SigV4.sha256Hex(request.payload()));
        String expected = SigV4.signature(SigV4.signingKey(secret, auth.date(), auth.region(), auth.service()),
                SigV4.stringToSign(amzDate, auth.scope(), canonical));
        return SigV4.constantTimeEquals(expected, auth.signature());
    }

    private static HttpRequestParts replaceHeader(HttpRequestParts parts, String name, String value) {
        List<Map.Entry<String, String>> headers = parts.headers().stream()
                .map(h -> h.getKey().equalsIgnoreCase(name) ? Map.entry(h.getKey(), value) : h).toList();
        return new HttpRequestParts(parts.method(), parts.rawPath(), parts.rawQuery(), headers, parts.payload());
    }

    @Test
    void signedRequestVerifies() {
        HttpRequestParts request = signed(putRecord(BODY));
        assertTrue(verifies(request, SECRET));
        Authorization auth = SigV4.parseAuthorization(request.headerValues("Authorization").get(0));
        assertEquals(List.of("content-type", "host", "x-amz-date", "x-amz-target"), auth.signedHeaders());
        assertEquals(new Authorization(KEY_ID, "20240501", "us-east-1", "kinesis", auth.signedHeaders(), auth.signature()), auth);
        assertEquals(List.of("20240501T102030Z"), request.headerValues("x-amz-date"));
    }

    @Test
    void tamperedPayloadFails() {
        HttpRequestParts request = signed(putRecord(BODY));
        HttpRequestParts tampered = new HttpRequestParts(request.method(), request.rawPath(), request.rawQuery(),
                request.headers(), BODY.replace("AAEC", "AAED").getBytes(StandardCharsets.UTF_8));
        assertFalse(verifies(tampered, SECRET));
    }

    @Test
    void tamperedSignedHeaderFails() {
        HttpRequestParts request = signed(putRecord(BODY));
        assertFalse(verifies(replaceHeader(request, "X-Amz-Target", "Kinesis_20131202.DeleteStream"), SECRET));
        assertFalse(verifies(replaceHeader(request, "Host", "elsewhere:4567"), SECRET));
        // a header outside SignedHeaders may change freely
        assertTrue(verifies(replaceHeader(request, "User-Agent", "something-else"), SECRET));
        // whitespace AWS canonicalises away is not tampering
        assertTrue(verifies(replaceHeader(request, "X-Amz-Target", "  Kinesis_20131202.PutRecord "), SECRET));
    }

    @Test
    void tamperedDateFails() {
        HttpRequestParts request = signed(putRecord(BODY));
        assertFalse(verifies(replaceHeader(request, "X-Amz-Date", "20240501T102031Z"), SECRET));
        String otherDay = SigV4.sign(putRecord(BODY), KEY_ID, SECRET, "us-east-1", "kinesis", NOW.plusSeconds(86_400))
                .get(1).getValue();
        assertNotEquals(request.headerValues("Authorization").get(0), otherDay);
    }

    @Test
    void tamperedPathQueryOrMethodOrSecretFails() {
        HttpRequestParts request = signed(putRecord(BODY));
        assertFalse(verifies(new HttpRequestParts("PUT", "/", null, request.headers(), request.payload()), SECRET));
        assertFalse(verifies(new HttpRequestParts("POST", "/x", null, request.headers(), request.payload()), SECRET));
        assertFalse(verifies(new HttpRequestParts("POST", "/", "a=b", request.headers(), request.payload()), SECRET));
        assertFalse(verifies(request, SECRET + "x"));
    }

    @Test
    void signIgnoresAnEarlierSignatureAndSignsSessionToken() {
        HttpRequestParts withToken = putRecord(BODY).withHeader("X-Amz-Security-Token", "tok");
        HttpRequestParts once = signed(withToken);
        HttpRequestParts again = signed(once);
        List<String> authorizations = again.headerValues("Authorization");
        assertEquals(2, authorizations.size());
        assertEquals(authorizations.get(0), authorizations.get(1));
        Authorization auth = SigV4.parseAuthorization(once.headerValues("Authorization").get(0));
        assertTrue(auth.signedHeaders().contains("x-amz-security-token"));
        assertTrue(verifies(once, SECRET));
        assertFalse(verifies(replaceHeader(once, "X-Amz-Security-Token", "other"), SECRET));
    }

    @Test
    void signRequiresHost() {
        HttpRequestParts noHost = new HttpRequestParts("POST", "/", null, List.of(), new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> SigV4.sign(noHost, KEY_ID, SECRET, "us-east-1", "kinesis", NOW));
    }

    // ---------------------------------------------------------------- canonical form details

    @Test
    void signingKeyMatchesAwsDocumentationExample() {
        byte[] key = SigV4.signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assertEquals("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", HexFormat.of().formatHex(key));
    }

    @Test
    void pathIsEncodedOnceMoreExceptForS3() {
        // the wire path is already encoded; AWS SDKs encode it again for every service but S3
        assertEquals("/documents%2520and%2520settings/", SigV4.canonicalUri("/documents%20and%20settings/", PathMode.NORMALIZED));
        assertEquals("/documents%20and%20settings/", SigV4.canonicalUri("/documents%20and%20settings/", PathMode.S3));
        assertEquals("/a%2Fb/c%20d", SigV4.canonicalUri("/a%2Fb/c d", PathMode.S3));
        assertEquals("/", SigV4.canonicalUri("", PathMode.NORMALIZED));
        assertEquals("/a/", SigV4.canonicalUri("/a/b/..", PathMode.NORMALIZED));
        assertEquals("/a/c", SigV4.canonicalUri("/a/./b/../../a//c", PathMode.NORMALIZED));
        assertEquals("/", SigV4.canonicalUri("/../..", PathMode.NORMALIZED));
    }

    @Test
    void queryIsDecodedThenEncodedOnceAndSorted() {
        assertEquals("a=&a=1&b=x%20y&c=%2B&d=%25zz&e=%FF",
                SigV4.canonicalQueryString("e=%ff&d=%zz&c=+&b=x%20y&a=1&a&&"));
        assertEquals("", SigV4.canonicalQueryString(null));
    }

    @Test
    void repeatedHeadersInAnyCaseAreJoinedInOrder() {
        HttpRequestParts parts = new HttpRequestParts("GET", "/", null, List.of(
                Map.entry("Host", "h"), Map.entry("X-Multi", " b "), Map.entry("x-multi", "a\r\n\t c"),
                Map.entry("X-MULTI", "")), null);
        String canonical = SigV4.canonicalRequest(parts, List.of("X-Multi", "host", "x-absent"), SigV4.EMPTY_PAYLOAD_SHA256);
        assertEquals("GET\n/\n\nhost:h\nx-absent:\nx-multi:b,a c,\n\nhost;x-absent;x-multi\n" + SigV4.EMPTY_PAYLOAD_SHA256,
                canonical);
    }

    @Test
    void constantTimeEquals() {
        assertTrue(SigV4.constantTimeEquals("abc", "abc"));
        assertFalse(SigV4.constantTimeEquals("abc", "abd"));
        assertFalse(SigV4.constantTimeEquals("abc", "abcd"));
        assertFalse(SigV4.constantTimeEquals(null, "abc"));
    }

    // ---------------------------------------------------------------- refusing Authorization headers

    private static final String GOOD = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    private static SigV4Exception refused(String header, SigV4Exception.Kind kind) {
        SigV4Exception e = assertThrows(SigV4Exception.class, () -> SigV4.parseAuthorization(header));
        assertEquals(kind, e.kind(), e.getMessage());
        return e;
    }

    @Test
    void parsesInAnyOrderWithOrWithoutSpaces() {
        Authorization a = SigV4.parseAuthorization(GOOD);
        assertEquals(new Authorization("AKIDEXAMPLE", "20150830", "us-east-1", "kinesis", List.of("host", "x-amz-date"),
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"), a);
        assertEquals(a, SigV4.parseAuthorization("AWS4-HMAC-SHA256 Signature=" + a.signature()
                + ",SignedHeaders=host;x-amz-date,Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request"));
        assertEquals(GOOD, a.toHeaderValue());
    }

    @Test
    void rejectsMissingHeader() {
        SigV4Exception e = refused(null, SigV4Exception.Kind.MISSING);
        assertEquals(AwsError.MissingAuthenticationTokenException, e.awsError());
        refused("  ", SigV4Exception.Kind.MISSING);
    }

    @Test
    void rejectsMissingCredential() {
        String header = "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abc";
        SigV4Exception e = refused(header, SigV4Exception.Kind.INCOMPLETE);
        assertEquals("Authorization header requires 'Credential' parameter. Authorization=" + header, e.getMessage());
        assertEquals(AwsError.IncompleteSignatureException, e.awsError());
        refused("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=abc", SigV4Exception.Kind.INCOMPLETE);
    }

    @Test
    void rejectsMissingSignature() {
        String header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, SignedHeaders=host";
        SigV4Exception e = refused(header, SigV4Exception.Kind.INCOMPLETE);
        assertEquals("Authorization header requires 'Signature' parameter. Authorization=" + header, e.getMessage());
        assertEquals("Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' "
                + "parameter. Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256",
                refused("AWS4-HMAC-SHA256", SigV4Exception.Kind.INCOMPLETE).getMessage());
    }

    @Test
    void rejectsBadScope() {
        String base = "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc, Credential=";
        refused(base + "AKIDEXAMPLE/20150830/us-east-1/kinesis", SigV4Exception.Kind.MALFORMED);
        refused(base + "AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request/extra", SigV4Exception.Kind.MALFORMED);
        refused(base + "/20150830/us-east-1/kinesis/aws4_request", SigV4Exception.Kind.MALFORMED);
        assertEquals("Invalid credential date. Date is not the required format: yyyyMMdd.",
                refused(base + "AKIDEXAMPLE/2015-08-30/us-east-1/kinesis/aws4_request", SigV4Exception.Kind.MALFORMED).getMessage());
        refused(base + "AKIDEXAMPLE/20150230/us-east-1/kinesis/aws4_request", SigV4Exception.Kind.MALFORMED);
        refused(base + "AKIDEXAMPLE/20150830//kinesis/aws4_request", SigV4Exception.Kind.MALFORMED);
        refused(base + "AKIDEXAMPLE/20150830/us-east-1//aws4_request", SigV4Exception.Kind.MALFORMED);
        assertEquals("Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_LIST'.",
                refused(base + "AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_LIST", SigV4Exception.Kind.MALFORMED).getMessage());
    }

    @Test
    void rejectsOtherAlgorithmsAndUnreadableParameters() {
        refused(GOOD.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), SigV4Exception.Kind.MALFORMED);
        refused("AWS AKIDEXAMPLE:c2lnbmF0dXJl", SigV4Exception.Kind.MALFORMED);
        SigV4Exception e = refused("AWS4-HMAC-SHA256 Credential", SigV4Exception.Kind.MALFORMED);
        assertEquals("'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: "
                + "'AWS4-HMAC-SHA256 Credential'.", e.getMessage());
        refused(GOOD + ", Signature=00", SigV4Exception.Kind.MALFORMED);
        refused(GOOD.replace("host;x-amz-date", "host;;x-amz-date"), SigV4Exception.Kind.MALFORMED);
    }

    // ---------------------------------------------------------------- reading the suite's files

    private static Path suiteDir() {
        URL url = SigV4TestSuiteTest.class.getResource(SUITE);
        if (url == null) {
            throw new IllegalStateException(SUITE + " is not on the test classpath");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String file(String caseName, String file) {
        try {
            return Files.readString(suiteDir().resolve(caseName).resolve(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String signedRequestHeader(String caseName, String header) {
        return file(caseName, "header-signed-request.txt").lines()
                .filter(l -> l.regionMatches(true, 0, header + ":", 0, header.length() + 1))
                .map(l -> l.substring(header.length() + 1))
                .findFirst().orElseThrow(() -> new AssertionError("no " + header + " in " + caseName));
    }

    private static List<String> lowercaseNames(List<Map.Entry<String, String>> headers) {
        TreeSet<String> names = new TreeSet<>();
        headers.forEach(h -> names.add(h.getKey().toLowerCase(Locale.ROOT)));
        return List.copyOf(names);
    }

    private static void appendParam(StringBuilder query, String name, String value) {
        if (query.length() > 0) {
            query.append('&');
        }
        query.append(SigV4.uriEncode(name)).append('=').append(SigV4.uriEncode(value));
    }

    record Context(String accessKeyId, String secret, String sessionToken, String region, String service,
                   Instant timestamp, boolean normalize, boolean signBody, boolean omitSessionToken, long expiresSeconds) {

        static Context read(String caseName) throws IOException {
            JsonNode json = JSON.readTree(file(caseName, "context.json"));
            JsonNode credentials = json.required("credentials");
            return new Context(
                    credentials.required("access_key_id").asText(),
                    credentials.required("secret_access_key").asText(),
                    credentials.hasNonNull("token") ? credentials.get("token").asText() : null,
                    json.required("region").asText(),
                    json.required("service").asText(),
                    Instant.parse(json.required("timestamp").asText()),
                    json.path("normalize").asBoolean(true),
                    json.path("sign_body").asBoolean(false),
                    json.path("omit_session_token").asBoolean(false),
                    json.path("expiration_in_seconds").asLong(3600));
        }

        String amzDate() {
            return SigV4.amzDate(timestamp);
        }

        String date() {
            return amzDate().substring(0, 8);
        }

        String scope() {
            return SigV4.scope(date(), region, service);
        }

        PathMode pathMode() {
            return normalize ? PathMode.NORMALIZED : PathMode.UNNORMALIZED;
        }
    }

    /**
     * request.txt: a request line whose target may contain spaces, headers as {@code Name:value} with
     * obsolete folded continuation lines, then a blank line and the body.
     */
    record RawRequest(String method, String path, String query, List<Map.Entry<String, String>> headers, byte[] body) {

        static RawRequest read(String caseName) {
            String text = file(caseName, "request.txt");
            int blank = text.indexOf("\n\n");
            String head = blank < 0 ? text : text.substring(0, blank);
            byte[] body = blank < 0 ? new byte[0] : text.substring(blank + 2).getBytes(StandardCharsets.UTF_8);
            List<String> lines = head.lines().toList();

            String requestLine = lines.get(0);
            String target = requestLine.substring(requestLine.indexOf(' ') + 1, requestLine.lastIndexOf(' '));
            int q = target.indexOf('?');
            String path = q < 0 ? target : target.substring(0, q);
            String query = q < 0 ? null : target.substring(q + 1);

            List<String[]> headers = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                    String[] previous = headers.get(headers.size() - 1);
                    // keep the fold: undoing it is the canonicaliser's job
                    previous[1] = previous[1] + "\r\n" + line;
                } else {
                    int colon = line.indexOf(':');
                    headers.add(new String[] {line.substring(0, colon), line.substring(colon + 1)});
                }
            }
            return new RawRequest(requestLine.substring(0, requestLine.indexOf(' ')), path, query,
                    headers.stream().map(h -> Map.entry(h[0], h[1])).toList(), body);
        }
    }
}
