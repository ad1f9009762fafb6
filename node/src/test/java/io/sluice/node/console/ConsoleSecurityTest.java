package io.sluice.node.console;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Response;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.Cookie;
import com.microsoft.playwright.options.SameSiteAttribute;
import com.sun.net.httpserver.HttpServer;
import io.sluice.node.MutableClock;
import io.sluice.node.it.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's defences, seen from a real browser and from raw HTTP with the cookie that browser
 * was given: every answer carries the content security policy and is neither sniffed nor framed;
 * {@code /console/api} does nothing without a live session, its CSRF token and its own origin; a
 * page on another origin cannot make the signed-in browser change anything; a session ends at
 * sign-out and after its idle time; the session cookie is HttpOnly and SameSite=Strict; and the
 * secret access key is neither sent by the browser nor logged by the node.
 */
class ConsoleSecurityTest {
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    static final Duration IDLE = Duration.ofMinutes(10);
    /** A name the browser resolves to loopback (its own resolver rule): the node as another machine would reach it. */
    static final String NETWORK_NAME = "sluice.test";
    static final ObjectMapper json = new ObjectMapper();
    static final MutableClock clock = new MutableClock();
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static final ListAppender<ILoggingEvent> log = new ListAppender<>();
    static TestNode node;
    static ConsoleBrowser browser;
    /** Pages of another origin ({@code http://localhost:port}, while the console is at 127.0.0.1): the attacker's site. */
    static HttpServer elsewhere;
    static final Map<String, String> elsewherePages = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        log.start();
        rootLogger().addAppender(log);
        node = new TestNode(clock, "sluice.console.session-idle-timeout = " + IDLE.toMinutes() + "m").start();
        browser = new ConsoleBrowser(node.endpoint(), "--host-resolver-rules=MAP " + NETWORK_NAME + " 127.0.0.1");
        elsewhere = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        elsewhere.createContext("/", exchange -> {
            String page = elsewherePages.get(exchange.getRequestURI().getPath());
            byte[] body = (page == null ? "not here" : page).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(page == null ? 404 : 200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        elsewhere.start();
    }

    @AfterAll
    static void stop() {
        if (elsewhere != null) elsewhere.stop(0);
        if (browser != null) browser.close();
        if (node != null) node.close();
        rootLogger().detachAppender(log);
    }

    @AfterEach
    void closePage() {
        browser.closeContext();
    }

    static Logger rootLogger() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    static String elsewhere(String path) {
        return "http://localhost:" + elsewhere.getAddress().getPort() + path;
    }

    /** The session cookie the browser holds for the console, as a {@code Cookie:} header value. */
    static String cookieHeader(Cookie c) {
        return c.name + "=" + c.value;
    }

    static Cookie sessionCookie() {
        return ConsoleBrowser.sessionCookie(browser.context(), browser.console());
    }

    /** The CSRF token of a session, as the page learns it after a reload (GET /console/session with the cookie). */
    static String csrfTokenOf(String cookie) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/console/session"))
                .header("Cookie", cookie).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode answer = json.readTree(r.body());
        assertFalse(answer.get("principal").isNull(), "the cookie names no session: " + r.body());
        return answer.get("csrfToken").asText();
    }

    /** A raw ListStreams through /console/api with these extra headers. */
    static HttpResponse<String> listStreams(Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(node.endpoint().resolve("/console/api"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .header("Content-Type", "application/x-amz-json-1.1").header("X-Amz-Target", "Kinesis_20131202.ListStreams");
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void assertRefused(int status, String type, HttpResponse<String> r, String why) throws Exception {
        assertEquals(status, r.statusCode(), why + ": " + r.body());
        assertEquals(type, json.readTree(r.body()).get("__type").asText(), why);
        assertFalse(r.body().contains("StreamNames"), why);
    }

    static List<String> streams() {
        try (KinesisClient kinesis = node.kinesisClient()) {
            return kinesis.listStreams().streamNames();
        }
    }

    @Test
    void everyConsoleAnswerCarriesThePolicyAndCannotBeSniffedOrFramed() throws Exception {
        for (String path : List.of("/console/", "/console/js/app.js", "/console/js/api.js", "/console/console.css",
                "/console/config.json", "/console/session", "/console/js/no-such-page.js")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(node.endpoint().resolve(path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(CSP, r.headers().firstValue("Content-Security-Policy").orElse(null), path);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null), path);
            assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElse(null), path);
        }

        // a page elsewhere that frames the console gets an empty frame, not a sign-in form to overlay
        Page page = browser.newPage();
        elsewherePages.put("/frame.html", "<!doctype html><title>framer</title><iframe id=f src=\"" + browser.console()
                + "\" width=600 height=400></iframe>");
        com.microsoft.playwright.ConsoleMessage refusal = page.waitForConsoleMessage(
                new Page.WaitForConsoleMessageOptions().setPredicate(m -> m.text().contains("frame-ancestors")),
                () -> page.navigate(elsewhere("/frame.html")));
        // Chromium: "Framing 'http://127.0.0.1:port/' violates ... "frame-ancestors 'none'". The request has been blocked."
        assertTrue(refusal.text().contains("'" + node.endpoint().resolve("/") + "'") && refusal.text().contains("blocked"),
                refusal.text());
        com.microsoft.playwright.Frame framed = page.frames().stream().filter(f -> f != page.mainFrame()).findFirst()
                .orElseThrow(() -> new AssertionError("no frame"));
        assertEquals(0, framed.locator("#view").count(), "the console's page rendered inside a frame of another origin");
        browser.takeProblems(); // the framing page's console says Chromium refused the frame: expected there
    }

    @Test
    void theApiDoesNothingWithoutALiveSessionItsTokenAndItsOwnOrigin() throws Exception {
        Page page = browser.newPage();
        browser.signIn(page, node.accessKeyId, node.secretKey);
        String cookie = cookieHeader(sessionCookie());
        String csrf = csrfTokenOf(cookie);
        String self = "http://" + node.endpoint().getAuthority();

        assertEquals(200, listStreams(Map.of("Cookie", cookie, "X-Sluice-Csrf", csrf, "Origin", self)).statusCode(),
                "the browser's own session, token and origin");
        assertRefused(401, "ExpiredTokenException", listStreams(Map.of("X-Sluice-Csrf", csrf)), "no cookie");
        String name = ConsoleBrowser.sessionCookieName(browser.console());
        assertRefused(401, "ExpiredTokenException", listStreams(Map.of("Cookie", name + "=" + "A".repeat(43), "X-Sluice-Csrf", csrf)),
                "a forged cookie");
        String alteredId = cookie.substring(0, cookie.length() - 1) + (cookie.endsWith("A") ? "B" : "A");
        assertRefused(401, "ExpiredTokenException", listStreams(Map.of("Cookie", alteredId, "X-Sluice-Csrf", csrf)),
                "the real cookie with one character changed");
        assertRefused(403, "AccessDeniedException", listStreams(Map.of("Cookie", cookie)), "no CSRF token");
        assertRefused(403, "AccessDeniedException", listStreams(Map.of("Cookie", cookie, "X-Sluice-Csrf", csrf.substring(1))),
                "a wrong CSRF token");
        assertRefused(403, "AccessDeniedException", listStreams(Map.of("Cookie", cookie, "X-Sluice-Csrf", csrf,
                "Origin", "http://localhost:" + node.endpoint().getPort())), "another origin");

        // a script in the console's own page that has the cookie but not the token does nothing either
        Object status = page.evaluate("async () => (await fetch('/console/api', {method: 'POST', body: '{}', headers: "
                + "{'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.ListStreams'}})).status");
        assertEquals(403, ((Number) status).intValue());
        browser.assertNoConsoleErrors("after the calls refused");
    }

    @Test
    void aPageOnAnotherOriginCannotMakeTheSignedInBrowserChangeAnything() throws Exception {
        Page console = browser.newPage();
        browser.signIn(console, node.accessKeyId, node.secretKey);
        browser.assertNoConsoleErrors("the console before the attack");
        String api = browser.console().resolve("api").toString();
        // a form POST, text/plain so that its body reads as the CreateStream JSON, submitted as the page loads
        elsewherePages.put("/form.html", "<!doctype html><title>win a prize</title><form id=f method=POST enctype=text/plain action=\""
                + api + "\"><input type=hidden name='{\"StreamName\":\"csrf-form\",\"ShardCount\":1,\"pad\":\"' value='\"}'>"
                + "</form><script>document.getElementById('f').submit()</script>");
        // fetches with the browser's credentials: one with the API's headers (preflighted), one simple (no-cors)
        elsewherePages.put("/fetch.html", "<!doctype html><title>win a prize</title><pre id=result></pre><script>\n"
                + "(async () => {\n"
                + "  const out = [];\n"
                + "  try {\n"
                + "    const r = await fetch('" + api + "', {method: 'POST', credentials: 'include', headers: {\n"
                + "      'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.CreateStream'},\n"
                + "      body: JSON.stringify({StreamName: 'csrf-fetch', ShardCount: 1})});\n"
                + "    out.push('cors: ' + r.status + ' ' + await r.text());\n"
                + "  } catch (e) { out.push('cors: failed ' + e.name); }\n"
                + "  try {\n"
                + "    const r = await fetch('" + api + "', {method: 'POST', mode: 'no-cors', credentials: 'include',\n"
                + "      headers: {'Content-Type': 'text/plain'}, body: JSON.stringify({StreamName: 'csrf-no-cors', ShardCount: 1})});\n"
                + "    out.push('no-cors: ' + r.type);\n"
                + "  } catch (e) { out.push('no-cors: failed ' + e.name); }\n"
                + "  document.getElementById('result').textContent = out.join('\\n');\n"
                + "})();\n</script>");

        Page attacker = browser.anotherTab();
        List<Response> answers = new ArrayList<>();
        attacker.onResponse(r -> {
            if (r.url().equals(api)) answers.add(r);
        });
        Response formAnswer = attacker.waitForResponse(api, () -> attacker.navigate(elsewhere("/form.html")));
        assertEquals(403, formAnswer.status(), formAnswer.text());
        assertTrue(formAnswer.text().contains("Cross-site request refused"), formAnswer.text());
        assertFalse(formAnswer.request().allHeaders().containsKey("cookie"), "SameSite=Strict keeps the cookie off a cross-site POST");

        attacker.navigate(elsewhere("/fetch.html"));
        assertThat(attacker.locator("#result")).containsText("no-cors:");
        String outcome = attacker.locator("#result").textContent();
        assertTrue(outcome.contains("cors: failed TypeError"), "the browser may not read the API's answer: " + outcome);
        // what reached the node was refused by it (no cookie, another origin), not merely hidden by the browser
        assertFalse(answers.isEmpty(), "the no-cors POST never showed");
        for (Response r : answers) {
            assertEquals(403, r.status(), r.request().method() + " " + r.url());
            assertFalse(r.request().allHeaders().containsKey("cookie"), "a cookie went along with " + r.request().method());
        }
        browser.takeProblems(); // the attacker's page logs its CORS failure: expected there

        List<String> names = streams();
        for (String stream : List.of("csrf-form", "csrf-fetch", "csrf-no-cors")) {
            assertFalse(names.contains(stream), stream + " was created by a page of another origin");
        }
        // and the console's own tab is still signed in and working
        console.reload();
        assertThat(console.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out"))).isVisible();
        browser.assertNoConsoleErrors("the console after the attack");
    }

    @Test
    void signingOutEndsTheSessionForItsCookie() throws Exception {
        Page page = browser.newPage();
        browser.signIn(page, node.accessKeyId, node.secretKey);
        String cookie = cookieHeader(sessionCookie());
        String csrf = csrfTokenOf(cookie);
        assertEquals(200, listStreams(Map.of("Cookie", cookie, "X-Sluice-Csrf", csrf)).statusCode());

        browser.signOut(page);
        assertThat(page.getByRole(AriaRole.STATUS)).containsText("You have signed out.");
        assertTrue(browser.context().cookies(browser.console().toString()).stream()
                        .noneMatch(c -> c.name.equals(ConsoleBrowser.sessionCookieName(browser.console()))),
                "the browser dropped the cookie");
        assertRefused(401, "ExpiredTokenException", listStreams(Map.of("Cookie", cookie, "X-Sluice-Csrf", csrf)),
                "the cookie of a signed-out session");
        page.reload();
        assertThat(page.getByLabel("Access key ID")).isVisible();
        browser.assertNoConsoleErrors("after signing out");
    }

    @Test
    void anIdleSessionExpiresAndThePageAsksToSignInAgain() throws Exception {
        Page page = browser.newPage();
        browser.signIn(page, node.accessKeyId, node.secretKey);
        String cookie = cookieHeader(sessionCookie());
        String csrf = csrfTokenOf(cookie);
        clock.advance(IDLE.plusSeconds(1));
        try {
            assertRefused(401, "ExpiredTokenException", listStreams(Map.of("Cookie", cookie, "X-Sluice-Csrf", csrf)),
                    "a session idle for longer than " + IDLE);
            // the page learns it at its next call: it asks again who is signed in and shows the sign-in form
            page.reload();
            assertThat(page.getByLabel("Access key ID")).isVisible();
            assertThat(page.locator("#principal")).isEmpty();
        } finally {
            clock.advance(IDLE.plusSeconds(1).negated()); // sign-ins are signed with the real time
        }
        browser.signIn(page, node.accessKeyId, node.secretKey);
        browser.assertNoConsoleErrors("after the session expired and a new sign-in");
    }

    @Test
    void theSessionCookieIsHttpOnlyStrictAndInvisibleToScripts() {
        Page page = browser.newPage();
        browser.signIn(page, node.accessKeyId, node.secretKey);
        Cookie cookie = sessionCookie();
        assertTrue(cookie.httpOnly, "HttpOnly");
        assertEquals(SameSiteAttribute.STRICT, cookie.sameSite);
        assertEquals("/console", cookie.path);
        assertEquals("127.0.0.1", cookie.domain, "a host-only cookie");
        assertNotNull(cookie.expires);
        double lifetime = cookie.expires - System.currentTimeMillis() / 1000.0;
        assertTrue(lifetime > 0 && lifetime <= Duration.ofHours(1).toSeconds() + 5, "short-lived: " + lifetime + " s");
        assertTrue(cookie.value.length() >= 43, "a 256-bit random id: " + cookie.value.length() + " characters");
        String visible = (String) page.evaluate("() => document.cookie");
        assertFalse(visible.contains("sluice-console") || visible.contains(cookie.value), "document.cookie shows: " + visible);
        browser.assertNoConsoleErrors("after signing in");
    }

    /**
     * The way the README tells users on another machine to open the console: over the node's HTTPS port,
     * where the browser speaks HTTP/2 (ALPN) and the cookie is marked Secure.
     */
    @Test
    void overHttpsTheConsoleWorksOnHttp2AndItsCookieIsSecure() {
        Page page = browser.newPage(ConsoleBrowser.WIDTH, ConsoleBrowser.HEIGHT, true);
        page.navigate(node.httpsEndpoint().resolve("/console/").toString());
        page.getByLabel("Access key ID").fill(node.accessKeyId);
        page.getByLabel("Secret access key").fill(node.secretKey);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true)).click();
        assertThat(page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out"))).isVisible();
        assertThat(page.getByRole(AriaRole.HEADING, new Page.GetByRoleOptions().setName("Data streams").setExact(true)))
                .isVisible();
        assertEquals("h2", page.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol"));
        Cookie cookie = ConsoleBrowser.sessionCookie(browser.context(), ConsoleBrowser.consoleOf(node.httpsEndpoint()));
        assertTrue(cookie.secure, "the cookie of a session signed in over HTTPS is Secure");
        assertTrue(browser.context().cookies(browser.console().toString()).isEmpty(),
                "a Secure cookie is never sent to the plain-HTTP port");
        assertTrue(cookie.httpOnly, "HttpOnly");
        browser.assertNoConsoleErrors("over HTTPS");
    }

    /**
     * Over plain HTTP at a name other than localhost the page is no secure context, so the browser gives it
     * no WebCrypto to sign with: before anything is typed it says to use HTTPS and links to the node's HTTPS
     * port, and a sign-in tried anyway sends nothing and sets no cookie. The link, at the same name, signs
     * in (the node takes that name's Origin as its own).
     */
    @Test
    void atANetworkNameThePageSignsInOverHttpsOnlyAndSaysSoOverPlainHttp() {
        Page page = browser.newPage(ConsoleBrowser.WIDTH, ConsoleBrowser.HEIGHT, true);
        URI plain = ConsoleBrowser.consoleOf(URI.create("http://" + NETWORK_NAME + ":" + node.endpoint().getPort()));
        URI https = ConsoleBrowser.consoleOf(URI.create("https://" + NETWORK_NAME + ":" + node.httpsEndpoint().getPort()));
        page.navigate(plain.toString());
        assertThat(page.getByLabel("Access key ID")).isVisible();
        assertEquals(false, page.evaluate("() => window.isSecureContext"), "plain HTTP at " + NETWORK_NAME + " is a secure context");
        Locator alert = page.getByRole(AriaRole.ALERT);
        assertThat(alert).containsText("InsecureContext");
        assertThat(alert).containsText("Open the console over HTTPS (or on localhost)");
        Locator link = alert.getByRole(AriaRole.LINK);
        assertThat(link).hasText(https.toString());
        assertThat(link).hasAttribute("href", https.toString());

        page.getByLabel("Access key ID").fill(node.accessKeyId);
        page.getByLabel("Secret access key").fill(node.secretKey);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true)).click();
        assertThat(page.getByLabel("Secret access key")).isEmpty();
        assertThat(alert).hasCount(1);
        assertThat(alert).containsText("Open the console over HTTPS (or on localhost)");
        assertThat(link).hasAttribute("href", https.toString());
        assertThat(page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out"))).isHidden();
        List<ConsoleBrowser.Sent> sent = browser.sentRequests();
        assertTrue(sent.stream().anyMatch(r -> r.url().equals(plain.resolve("session").toString())),
                "the page asked who is signed in: " + sent);
        assertTrue(sent.stream().noneMatch(r -> r.method().equals("POST")), "a POST went out over plain HTTP: " + sent);
        assertTrue(browser.context().cookies().isEmpty(), "a cookie was set: " + browser.context().cookies());
        // what Chromium may log here is its own word that this origin is untrustworthy (it ignores the opener policy)
        for (String problem : browser.takeProblems()) {
            assertTrue(problem.contains("The Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was "
                    + "untrustworthy"), "over plain HTTP at " + NETWORK_NAME + ": " + problem);
        }
        browser.assertPageClean(page, "over plain HTTP at " + NETWORK_NAME);

        link.click();
        page.waitForURL(url -> url.startsWith(https.toString()));
        browser.signIn(page, https, node.accessKeyId, node.secretKey);
        assertThat(page.locator("#principal")).hasText("arn:aws:iam::000000000000:root");
        // the streams page's ListStreams goes through /console/api, sent with the page's Origin: the node's own
        assertThat(page.getByRole(AriaRole.TABLE, new Page.GetByRoleOptions().setName("Data streams"))).isVisible();
        String origin = "https://" + NETWORK_NAME + ":" + node.httpsEndpoint().getPort();
        assertTrue(browser.sentRequests().stream().anyMatch(r -> r.method().equals("POST")
                && r.url().equals(https.resolve("api").toString()) && origin.equals(r.headers().get("origin"))),
                "no API call with Origin " + origin);
        Cookie cookie = ConsoleBrowser.sessionCookie(browser.context(), https);
        assertEquals(NETWORK_NAME, cookie.domain);
        assertTrue(cookie.secure, "Secure");
        browser.assertPageClean(page, "over HTTPS at " + NETWORK_NAME);
    }

    @Test
    void aWrongSecretIsRefusedInAnAlertAndOpensNoSession() {
        Page page = browser.newPage();
        page.navigate(browser.console().toString());
        page.getByLabel("Access key ID").fill(node.accessKeyId);
        page.getByLabel("Secret access key").fill("not-" + node.secretKey);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true)).click();
        assertThat(page.getByRole(AriaRole.ALERT)).containsText("SignatureDoesNotMatch");
        assertThat(page.getByRole(AriaRole.ALERT)).containsText("signature");
        assertThat(page.getByLabel("Secret access key")).isEmpty();
        assertThat(page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out"))).isHidden();
        assertTrue(browser.context().cookies().isEmpty(), "a refused sign-in set a cookie");

        page.getByLabel("Access key ID").fill("AKIA" + "0".repeat(16));
        page.getByLabel("Secret access key").fill(node.secretKey);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true)).click();
        assertThat(page.getByRole(AriaRole.ALERT)).containsText("security token included in the request is invalid");
        browser.assertNoConsoleErrors("after two refused sign-ins");
    }

    @Test
    void theSecretAccessKeyIsNeitherSentByTheBrowserNorLoggedByTheNode() throws Exception {
        String userSecret;
        String userKeyId;
        try (IamClient iam = node.iamClient()) {
            iam.createUser(b -> b.userName("console-reader"));
            iam.putUserPolicy(b -> b.userName("console-reader").policyName("read").policyDocument("""
                    {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kinesis:List*","kinesis:Describe*"],"Resource":"*"}]}"""));
            var key = iam.createAccessKey(b -> b.userName("console-reader")).accessKey();
            userKeyId = key.accessKeyId();
            userSecret = key.secretAccessKey();
        }
        String wrongSecret = "wrong/" + node.secretKey;
        Page page = browser.newPage();
        page.navigate(browser.console().toString());
        page.getByLabel("Access key ID").fill(node.accessKeyId);
        page.getByLabel("Secret access key").fill(wrongSecret);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true)).click();
        assertThat(page.getByRole(AriaRole.ALERT)).isVisible();
        browser.signIn(page, node.accessKeyId, node.secretKey);
        String rootCookie = sessionCookie().value;
        page.evaluate("async () => (await import('/console/js/api.js')).kinesis('ListStreams', {})");
        browser.signOut(page);
        browser.signIn(page, userKeyId, userSecret);
        assertThat(page.locator("#principal")).hasText("arn:aws:iam::000000000000:user/console-reader");
        String userCookie = sessionCookie().value;

        Map<String, String> secrets = new LinkedHashMap<>();
        for (Map.Entry<String, String> s : Map.of("root secret", node.secretKey, "user secret", userSecret,
                "wrong secret", wrongSecret).entrySet()) {
            secrets.put(s.getKey(), s.getValue());
            secrets.put(s.getKey() + " (URL-encoded)", URLEncoder.encode(s.getValue(), StandardCharsets.UTF_8));
            secrets.put(s.getKey() + " (JSON-escaped)", s.getValue().replace("/", "\\/"));
        }
        List<ConsoleBrowser.Sent> sent = browser.sentRequests();
        // the recording sees what matters: the signed sign-in requests name the access keys they prove
        assertTrue(sent.stream().anyMatch(r -> r.url().endsWith("/console/session") && r.method().equals("POST")
                && r.headers().getOrDefault("authorization", "").contains("Credential=" + node.accessKeyId + "/")), "no signed sign-in seen");
        assertTrue(sent.stream().anyMatch(r -> r.headers().getOrDefault("cookie", "").contains(rootCookie)), "no cookie seen");
        for (ConsoleBrowser.Sent r : sent) {
            secrets.forEach((name, secret) -> assertFalse(r.contains(secret), "the " + name + " went out in " + r));
        }

        Map<String, String> loggedSecrets = new LinkedHashMap<>(secrets);
        loggedSecrets.put("root session cookie", rootCookie);
        loggedSecrets.put("user session cookie", userCookie);
        for (ILoggingEvent e : List.copyOf(log.list)) {
            StringBuilder text = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
            if (e.getThrowableProxy() != null) text.append('\n').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
            e.getMDCPropertyMap().forEach((k, v) -> text.append(' ').append(k).append('=').append(v));
            loggedSecrets.forEach((name, secret) -> assertFalse(text.toString().contains(secret), "the node logged the " + name + ": " + text));
        }
        browser.assertNoConsoleErrors("after the sign-ins");
    }
}
