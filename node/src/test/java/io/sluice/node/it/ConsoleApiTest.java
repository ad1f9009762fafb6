package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's doors without a browser: a session is opened only by a SigV4 proof signed for STS
 * over {@code POST /console/session} (never replayed, never for another service), and then runs the
 * public APIs (Kinesis JSON 1.1, KMS, IAM's Query protocol, the operator API) as its principal, with
 * the same authorization and answers. The session ends when its access key stops being active, at
 * sign-out, and after its idle time by the node's clock. Browser-side checks are in
 * {@code io.sluice.node.console}.
 */
class ConsoleApiTest {
    static final ObjectMapper json = new ObjectMapper();
    static final MutableClock clock = new MutableClock();
    static TestNode node;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    record Session(String cookie, String csrf, JsonNode answer) {}

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(clock, "sluice.console.session-idle-timeout = 10m").start();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    /** A sign-in proof; each has a nonce of its own, as the page's do, so that two in one second are not a replay. */
    static HttpResponse<byte[]> proof(String accessKeyId, String secret, String service) throws Exception {
        return new SignedHttp(node.endpoint(), accessKeyId, secret).forService(service).send("POST", "/console/session", null,
                "application/json", ("{\"nonce\":\"" + java.util.UUID.randomUUID() + "\"}").getBytes(StandardCharsets.UTF_8), true);
    }

    static Session signIn(String accessKeyId, String secret) throws Exception {
        HttpResponse<byte[]> r = proof(accessKeyId, secret, "sts");
        assertEquals(200, r.statusCode(), text(r));
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/console"),
                setCookie);
        // named for the port: the nodes of a cluster on one host keep their sessions apart (ConsoleClusterTest)
        assertTrue(setCookie.startsWith("sluice-console-" + node.endpoint().getPort() + "="), setCookie);
        JsonNode answer = json.readTree(r.body());
        return new Session(setCookie.substring(0, setCookie.indexOf(';')), answer.get("csrfToken").asText(), answer);
    }

    static HttpResponse<byte[]> api(Session s, String target, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(node.endpoint().resolve("/console/api"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", contentType);
        if (target != null) b.header("X-Amz-Target", target);
        if (s != null) b.header("Cookie", s.cookie()).header("X-Sluice-Csrf", s.csrf());
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<byte[]> kinesis(Session s, String operation, String body) throws Exception {
        return api(s, "Kinesis_20131202." + operation, "application/x-amz-json-1.1", body);
    }

    static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    @Test
    void aSignedProofOpensASessionThatRunsEveryPublicApiAsItsPrincipal() throws Exception {
        Session root = signIn(node.accessKeyId, node.secretKey);
        assertEquals("arn:aws:iam::000000000000:root", root.answer().at("/principal/arn").asText());
        assertEquals(43, root.csrf().length(), "a 256-bit token, base64url");

        HttpResponse<byte[]> created = kinesis(root, "CreateStream", "{\"StreamName\":\"console-api\",\"ShardCount\":1}");
        assertEquals(200, created.statusCode(), text(created));
        try (KinesisClient kinesis = node.kinesisClient()) {
            TestNode.awaitActive(kinesis, "console-api");
        }
        HttpResponse<byte[]> listed = kinesis(root, "ListStreams", "{}");
        assertEquals(200, listed.statusCode());
        assertTrue(text(listed).contains("\"console-api\""), text(listed));
        // an error is the API's own, in its shape
        HttpResponse<byte[]> missing = kinesis(root, "DescribeStreamSummary", "{\"StreamName\":\"nope\"}");
        assertEquals(400, missing.statusCode());
        assertEquals("ResourceNotFoundException", json.readTree(missing.body()).get("__type").asText());

        HttpResponse<byte[]> aliases = api(root, "TrentService.ListAliases", "application/x-amz-json-1.1", "{}");
        assertEquals(200, aliases.statusCode(), text(aliases));
        assertTrue(json.readTree(aliases.body()).has("Aliases"), text(aliases));

        HttpResponse<byte[]> users = api(root, null, "application/x-www-form-urlencoded; charset=utf-8",
                "Action=CreateUser&Version=2010-05-08&UserName=console-made");
        assertEquals(200, users.statusCode(), text(users));
        assertTrue(text(users).contains("<UserName>console-made</UserName>"), text(users));

        HttpResponse<byte[]> stats = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/api/admin/stats"))
                .header("Cookie", root.cookie()).header("X-Sluice-Csrf", root.csrf()).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, stats.statusCode(), text(stats));
        assertTrue(json.readTree(stats.body()).has("node"), text(stats));
        // the query string goes through to the operator API: the traffic charts' call
        HttpResponse<byte[]> traffic = http.send(HttpRequest.newBuilder(
                        node.endpoint().resolve("/console/api/admin/traffic?stream=console-api"))
                .header("Cookie", root.cookie()).header("X-Sluice-Csrf", root.csrf()).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, traffic.statusCode(), text(traffic));
        JsonNode counts = json.readTree(traffic.body());
        assertEquals("console-api", counts.get("streamName").asText());
        assertEquals(60, counts.at("/total/incomingRecords").size(), text(traffic));
    }

    @Test
    void aUserSessionIsAuthorizedByTheUsersPoliciesAndEndsWithItsAccessKey() throws Exception {
        try (IamClient iam = node.iamClient()) {
            iam.createUser(b -> b.userName("reader"));
            iam.putUserPolicy(b -> b.userName("reader").policyName("list").policyDocument("""
                    {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:ListStreams","Resource":"*"}]}"""));
            var key = iam.createAccessKey(b -> b.userName("reader")).accessKey();
            Session reader = signIn(key.accessKeyId(), key.secretAccessKey());
            assertEquals("arn:aws:iam::000000000000:user/reader", reader.answer().at("/principal/arn").asText());
            assertEquals(200, kinesis(reader, "ListStreams", "{}").statusCode());
            HttpResponse<byte[]> denied = kinesis(reader, "CreateStream", "{\"StreamName\":\"not-mine\",\"ShardCount\":1}");
            assertEquals(400, denied.statusCode());
            JsonNode error = json.readTree(denied.body());
            assertEquals("AccessDeniedException", error.get("__type").asText());
            assertTrue(error.get("message").asText().startsWith(
                    "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: kinesis:CreateStream"), error.toString());

            iam.updateAccessKey(b -> b.userName("reader").accessKeyId(key.accessKeyId()).status("Inactive"));
            // every node learns of the change within its identity refresh (1 s); this one at once
            HttpResponse<byte[]> after = kinesis(reader, "ListStreams", "{}");
            assertEquals(401, after.statusCode(), text(after));
            assertEquals("ExpiredTokenException", json.readTree(after.body()).get("__type").asText());
        }
    }

    @Test
    void aProofOpensOneSessionOnlyAndOnlyWhenSignedForSts() throws Exception {
        SignedHttp signer = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("sts");
        // the same signed request sent twice: the second is a replay
        HttpResponse<byte[]> first = signer.send("POST", "/console/session", null, "application/json", "{}".getBytes(), true);
        assertEquals(200, first.statusCode());
        HttpRequest.Builder again = HttpRequest.newBuilder(node.endpoint().resolve("/console/session"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"));
        first.request().headers().map().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("Host") && !name.equalsIgnoreCase("Content-Length")) values.forEach(v -> again.header(name, v));
        });
        HttpResponse<byte[]> replay = http.send(again.build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(403, replay.statusCode(), text(replay));
        assertTrue(replay.headers().firstValue("Set-Cookie").isEmpty());

        HttpResponse<byte[]> kinesisScoped = proof(node.accessKeyId, node.secretKey, "kinesis");
        assertEquals(403, kinesisScoped.statusCode());
        assertTrue(text(kinesisScoped).contains("Credential should be scoped to correct service: 'sts'"), text(kinesisScoped));

        HttpResponse<byte[]> wrongSecret = proof(node.accessKeyId, "not-the-secret", "sts");
        assertEquals(403, wrongSecret.statusCode());
        // the proof is signed for STS, which names a wrong signature its own way
        assertEquals("SignatureDoesNotMatch", json.readTree(wrongSecret.body()).get("__type").asText());
        HttpResponse<byte[]> unsigned = signer.send("POST", "/console/session", null, "application/json", "{}".getBytes(), false);
        assertEquals(403, unsigned.statusCode());
        assertTrue(unsigned.headers().firstValue("Set-Cookie").isEmpty());
    }

    @Test
    void aSessionEndsAtSignOutAndAfterItsIdleTime() throws Exception {
        Session a = signIn(node.accessKeyId, node.secretKey);
        HttpResponse<byte[]> out = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/session")).DELETE()
                .header("Cookie", a.cookie()).header("X-Sluice-Csrf", a.csrf()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(204, out.statusCode());
        assertTrue(out.headers().firstValue("Set-Cookie").orElseThrow().contains("Max-Age=0"));
        assertEquals(401, kinesis(a, "ListStreams", "{}").statusCode());
        HttpResponse<String> who = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/session"))
                .header("Cookie", a.cookie()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("{\"principal\":null}", who.body(), "a signed-out cookie names nobody");

        Session b = signIn(node.accessKeyId, node.secretKey);
        assertEquals(200, kinesis(b, "ListStreams", "{}").statusCode());
        clock.advance(Duration.ofMinutes(9));
        assertEquals(200, kinesis(b, "ListStreams", "{}").statusCode(), "used within its idle time, it lives on");
        clock.advance(Duration.ofMinutes(10).plusSeconds(1));
        assertEquals(401, kinesis(b, "ListStreams", "{}").statusCode());
    }

    @Test
    void withoutItsTokenOrFromAnotherOriginASessionDoesNothing() throws Exception {
        Session s = signIn(node.accessKeyId, node.secretKey);
        String create = "{\"StreamName\":\"csrf-victim\",\"ShardCount\":1}";
        for (Map<String, String> headers : List.of(
                Map.of("Cookie", s.cookie()),
                Map.of("Cookie", s.cookie(), "X-Sluice-Csrf", s.csrf() + "x"),
                Map.of("Cookie", s.cookie(), "X-Sluice-Csrf", s.csrf(), "Origin", "http://evil.example"),
                Map.of("Cookie", s.cookie(), "X-Sluice-Csrf", s.csrf(), "Origin", "null"),
                Map.of("Cookie", s.cookie(), "X-Sluice-Csrf", s.csrf(), "Sec-Fetch-Site", "cross-site"),
                Map.of("Cookie", s.cookie(), "X-Sluice-Csrf", s.csrf(), "Sec-Fetch-Site", "same-site"))) {
            HttpRequest.Builder b = HttpRequest.newBuilder(node.endpoint().resolve("/console/api"))
                    .POST(HttpRequest.BodyPublishers.ofString(create))
                    .header("Content-Type", "application/x-amz-json-1.1").header("X-Amz-Target", "Kinesis_20131202.CreateStream");
            headers.forEach(b::header);
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(403, r.statusCode(), headers + " " + text(r));
            assertEquals("AccessDeniedException", json.readTree(r.body()).get("__type").asText());
        }
        String cookieName = s.cookie().substring(0, s.cookie().indexOf('='));
        HttpResponse<byte[]> forged = api(new Session(cookieName + "=" + "A".repeat(43), s.csrf(), null),
                "Kinesis_20131202.CreateStream", "application/x-amz-json-1.1", create);
        assertEquals(401, forged.statusCode());
        try (KinesisClient kinesis = node.kinesisClient()) {
            assertFalse(kinesis.listStreams().streamNames().contains("csrf-victim"));
        }
        // the same origin is welcome
        URI self = node.endpoint();
        HttpResponse<byte[]> same = http.send(HttpRequest.newBuilder(self.resolve("/console/api"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).header("Content-Type", "application/x-amz-json-1.1")
                .header("X-Amz-Target", "Kinesis_20131202.ListStreams").header("Cookie", s.cookie())
                .header("X-Sluice-Csrf", s.csrf()).header("Origin", "http://" + self.getHost() + ":" + self.getPort())
                .header("Sec-Fetch-Site", "same-origin").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, same.statusCode(), text(same));
    }

    @Test
    void pagesAreServedFromTheJarWithTheirPolicyAndNothingElseIs() throws Exception {
        HttpResponse<String> index = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, index.statusCode());
        assertTrue(index.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
        String csp = index.headers().firstValue("Content-Security-Policy").orElseThrow();
        assertTrue(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
        assertEquals("nosniff", index.headers().firstValue("X-Content-Type-Options").orElseThrow());
        HttpResponse<String> api = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/js/api.js")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, api.statusCode());
        assertTrue(api.headers().firstValue("Content-Type").orElseThrow().startsWith("application/javascript"));
        HttpResponse<String> redirect = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(308, redirect.statusCode());
        for (String path : List.of("/console/nothing.js", "/console/js/../../logback.xml", "/console/%2e%2e/application.conf",
                "/console/js/api.js.map", "/console/.hidden.js")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.endpoint() + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            // a path that climbs out of /console/ is no console path any more: the API's refusal answers it
            assertTrue(r.statusCode() == 404 || r.statusCode() == 400, path + " " + r.statusCode());
            assertFalse(r.body().contains("<configuration") || r.body().contains("sluice {"), path);
        }
        HttpResponse<String> config = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/config.json")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        // the HTTPS port too: the page names it where it cannot sign in over plain HTTP (ConsoleSecurityTest)
        assertEquals("{\"region\":\"us-east-1\",\"httpsPort\":" + node.httpsEndpoint().getPort() + "}", config.body());
        assertNotNull(config.headers().firstValue("Cache-Control").orElse(null));
    }
}
