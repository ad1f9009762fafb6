package io.sluice.node.console;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import io.sluice.node.it.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static io.sluice.node.console.ConsoleWalkthroughTest.heading;
import static io.sluice.node.console.ConsoleWalkthroughTest.named;
import static io.sluice.node.console.ConsoleWalkthroughTest.readFromTrimHorizon;
import static io.sluice.node.console.ConsoleWalkthroughTest.row;
import static io.sluice.node.console.ConsoleWalkthroughTest.section;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console of one node of a cluster: two nodes in one JVM on one keyspace, the browser signed in
 * to node B. A stream created and written through node A's endpoint (AWS SDK) shows in B's list,
 * stream page and data viewer; B's traffic charts count what both nodes served, and say that both
 * answered. Sessions are the node's own (docs/design.md, "Console"): B's session opens nothing on A,
 * signing in on A is a second session, and neither signs the other out, though the browser sends
 * both nodes the cookies of the one host.
 */
class ConsoleClusterTest {
    static final String STREAM = "cluster-console";
    /** Records put through each node, each node to a shard of its own (by explicit hash key). */
    static final int FROM_A = 7;
    static final int FROM_B = 5;
    static final String FIRST_SHARD_KEY = "0";
    static final String LAST_SHARD_KEY = "340282366920938463463374607431768211455";
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static List<TestNode> nodes;
    static TestNode a;
    static TestNode b;
    static ConsoleBrowser browser;

    @BeforeAll
    static void start() throws Exception {
        nodes = TestNode.cluster(2, Clock.systemUTC(), "");
        a = nodes.get(0);
        b = nodes.get(1);
        browser = new ConsoleBrowser(b.endpoint());
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (nodes != null) nodes.forEach(TestNode::close);
    }

    @AfterEach
    void closePage() {
        browser.closeContext();
    }

    static void put(KinesisClient kinesis, String hashKey, String data) {
        kinesis.putRecord(r -> r.streamName(STREAM).partitionKey(data).explicitHashKey(hashKey).data(SdkBytes.fromUtf8String(data)));
    }

    /** How many nodes answered the traffic call, asked through the page's own API module (the page's session). */
    static int trafficNodes(Page page) {
        return ((Number) page.evaluate("async s => (await (await import('/console/js/api.js')).traffic(s)).nodes", STREAM)).intValue();
    }

    /** What the chart of {@code metric} says (its accessible name: title, total and peak). */
    static Locator chart(Page page, String metric) {
        return section(page, "Monitoring").locator("figure[data-metric=\"" + metric + "\"] svg");
    }

    @Test
    void whatNodeAServedShowsInNodeBsConsoleAndItsChartsCountBothNodes() {
        try (KinesisClient toA = a.kinesisClient(); KinesisClient toB = b.kinesisClient()) {
            TestNode.createActive(toA, STREAM, 2);
            for (int i = 0; i < FROM_A; i++) put(toA, FIRST_SHARD_KEY, "from node A #" + i);
            for (int i = 0; i < FROM_B; i++) put(toB, LAST_SHARD_KEY, "from node B #" + i);
        }
        Page page = browser.newPage();
        browser.signIn(page, b.accessKeyId, b.secretKey);
        assertThat(row(page, "Data streams", STREAM)).containsText("ACTIVE");
        browser.assertPageClean(page, "node B's streams list");

        // the charts are drawn once when the page opens: first wait (bounded) until both nodes' counters answer
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int answered;
        while ((answered = trafficNodes(page)) < nodes.size()) {
            assertTrue(System.nanoTime() < deadline, "only " + answered + " of " + nodes.size() + " nodes' counters answered in 30 s");
            page.waitForTimeout(100);
        }
        assertEquals(nodes.size(), answered, "the traffic call heard more nodes than there are");

        page.getByRole(AriaRole.LINK, named(STREAM)).click();
        assertThat(heading(page, STREAM)).isVisible();
        Locator monitoring = section(page, "Monitoring");
        // the page asks once when it opens: a node slow to answer that one call is not what this test is about,
        // so the page is opened again (bounded) until that call heard both nodes
        for (int attempt = 1; ; attempt++) {
            Locator status = monitoring.locator(".traffic-status");
            assertThat(status).not().containsText("Loading");
            if (status.textContent().contains("from 2 nodes")) break;
            assertTrue(attempt < 5, "the stream page's traffic call never heard both nodes: " + status.textContent());
            page.reload();
            assertThat(heading(page, STREAM)).isVisible();
            monitoring = section(page, "Monitoring");
        }
        assertThat(chart(page, "incomingRecords")).hasAttribute("aria-label",
                java.util.regex.Pattern.compile("^Incoming records per minute, All shards\\. Total " + (FROM_A + FROM_B) + " over"));
        // each shard holds what one node served: the sum is not one node's count twice
        monitoring.getByRole(AriaRole.COMBOBOX, new Locator.GetByRoleOptions().setName("Shard").setExact(true))
                .selectOption("shardId-000000000000");
        assertThat(chart(page, "incomingRecords")).hasAttribute("aria-label",
                java.util.regex.Pattern.compile("^Incoming records per minute, shardId-000000000000\\. Total " + FROM_A + " over"));
        monitoring.getByRole(AriaRole.COMBOBOX, new Locator.GetByRoleOptions().setName("Shard").setExact(true))
                .selectOption("shardId-000000000001");
        assertThat(chart(page, "incomingRecords")).hasAttribute("aria-label",
                java.util.regex.Pattern.compile("^Incoming records per minute, shardId-000000000001\\. Total " + FROM_B + " over"));
        browser.assertPageClean(page, "node B's stream page");

        // the data viewer on B reads the first shard, written through A only
        readFromTrimHorizon(page);
        for (int i = 0; i < FROM_A; i++) {
            assertThat(row(page, "Records", "from node A #" + i)).containsText("NONE");
        }
        assertThat(page.getByRole(AriaRole.TABLE, named("Records")).locator("tbody tr")).hasCount(FROM_A);
        browser.assertPageClean(page, "node B's data viewer");
    }

    @Test
    void eachNodeKeepsItsOwnSessions() throws Exception {
        URI consoleA = ConsoleBrowser.consoleOf(a.endpoint());
        URI consoleB = browser.console();
        Page onB = browser.newPage();
        browser.signIn(onB, b.accessKeyId, b.secretKey);
        String cookieB = ConsoleBrowser.sessionCookie(browser.context(), consoleB).value;

        // B's session is unknown to A, whatever name its cookie is sent under
        for (URI console : List.of(consoleA, consoleB)) {
            String name = ConsoleBrowser.sessionCookieName(console);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(consoleA.resolve("session"))
                    .header("Cookie", name + "=" + cookieB).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("{\"principal\":null}", r.body(), "node A took node B's session under the name " + name);
        }
        Page onA = browser.anotherTab();
        onA.navigate(consoleA.toString());
        assertThat(onA.getByRole(AriaRole.HEADING, named("Sign in"))).isVisible();
        browser.assertNoConsoleErrors("node A's console with node B's cookie");

        // a second session, on A; B's tab is still signed in, and so is A's after B's reload
        browser.signIn(onA, consoleA, a.accessKeyId, a.secretKey);
        String cookieA = ConsoleBrowser.sessionCookie(browser.context(), consoleA).value;
        assertTrue(!cookieA.equals(cookieB), "one session id for both nodes");
        for (Page tab : List.of(onB, onA, onB)) {
            tab.reload();
            assertThat(tab.getByRole(AriaRole.BUTTON, named("Sign out"))).isVisible();
            assertThat(heading(tab, "Data streams")).isVisible();
        }
        browser.assertNoConsoleErrors("both nodes' consoles signed in");

        // signing out on A ends A's session only
        browser.signOut(onA);
        onB.reload();
        assertThat(onB.getByRole(AriaRole.BUTTON, named("Sign out"))).isVisible();
        onA.reload();
        assertThat(onA.getByLabel("Access key ID")).isVisible();
        assertEquals(cookieB, ConsoleBrowser.sessionCookie(browser.context(), consoleB).value, "B's cookie changed");
        browser.assertNoConsoleErrors("after signing out on node A");
    }
}
