package io.sluice.node.console;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.ConsoleMessage;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.Request;
import com.microsoft.playwright.Response;
import com.microsoft.playwright.options.AriaRole;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The console in a real browser: Debian's Chromium ({@value #CHROMIUM}, headless) driven by
 * Playwright, which is told never to download a browser of its own. One per test class (the
 * browser starts once); {@link #newPage} gives each test a fresh context (no cookies, no storage)
 * that records what would tell of a broken page: console errors (CSP violations among them),
 * uncaught exceptions, console assets that failed or answered 400 and up, and warnings the
 * console's own scripts print when something failed. An API's error answer the page shows (a 400
 * from {@code /console/api}, a refused sign-in) is the page working, not a problem.
 */
final class ConsoleBrowser implements AutoCloseable {
    static final String CHROMIUM = "/usr/bin/chromium";
    static final int WIDTH = 1280;
    static final int HEIGHT = 800;
    /** Where the console's answers to API calls come from: their error statuses are answers the page handles. */
    private static final Pattern API = Pattern.compile("/console/(api|session)([/?].*)?$");
    /** A value shown where a node or a string was meant: a word of its own on the page. */
    private static final Pattern STRAY_TEXT = Pattern.compile("(^|\\s)(null|undefined|NaN|\\[object Object\\])(?=\\s|$)");
    /** The line and column Playwright appends to a console message's location. */
    private static final Pattern LINE_COLUMN = Pattern.compile(":\\d+:\\d+$");
    /** Chromium's console line for any fetch answered with an error status. */
    private static final Pattern FAILED_TO_LOAD = Pattern.compile("^Failed to load resource: the server responded with a status of \\d+");

    /** One request as the browser sent it. */
    record Sent(String method, String url, Map<String, String> headers, String postData) {
        boolean contains(String text) {
            return url.contains(text) || (postData != null && postData.contains(text))
                    || headers.values().stream().anyMatch(v -> v.contains(text));
        }
    }

    private final Playwright playwright;
    private final Browser browser;
    private final URI node;
    private BrowserContext context;
    private final List<String> problems = new ArrayList<>();
    private final List<Request> requests = new ArrayList<>();

    /**
     * @param node         the node whose console {@link #console()} and {@link #signIn(Page, String, String)} open
     * @param chromiumArgs more command-line switches for Chromium (a {@code --host-resolver-rules} giving loopback a name)
     */
    ConsoleBrowser(URI node, String... chromiumArgs) {
        if (!Files.isExecutable(Path.of(CHROMIUM))) {
            fail("The console's browser tests need Debian's Chromium at " + CHROMIUM
                    + ": apt-get install chromium (.ci/run does). Playwright is not allowed to download a browser.");
        }
        this.node = node;
        this.playwright = Playwright.create(new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        try {
            this.browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                    .setExecutablePath(Path.of(CHROMIUM)).setHeadless(true).setArgs(List.of(chromiumArgs)));
        } catch (RuntimeException e) {
            playwright.close();
            throw e;
        }
    }

    /** The console's address on the node: {@code http://127.0.0.1:port/console/}. */
    URI console() {
        return consoleOf(node);
    }

    /** The console's address on another node, or on another address of this one ({@code https://...}). */
    static URI consoleOf(URI node) {
        return node.resolve("/console/");
    }

    /** A page in a fresh context (1280 x 800), closing the previous context; what it does is recorded from now on. */
    Page newPage() {
        return newPage(WIDTH, HEIGHT);
    }

    Page newPage(int width, int height) {
        return newPage(width, height, false);
    }

    /** @param anyCertificate whether the context accepts the node's self-signed TLS certificate (for its HTTPS port) */
    Page newPage(int width, int height, boolean anyCertificate) {
        closeContext();
        problems.clear();
        requests.clear();
        context = browser.newContext(new Browser.NewContextOptions().setViewportSize(width, height)
                .setIgnoreHTTPSErrors(anyCertificate));
        context.onConsoleMessage(this::onConsole);
        context.onRequest(requests::add);
        context.onRequestFailed(r -> {
            // a poll cut short by leaving its page is no failure; any other request that failed is
            if (!(API.matcher(r.url()).find() && "net::ERR_ABORTED".equals(r.failure()))) {
                problems.add("request failed: " + r.method() + " " + r.url() + ": " + r.failure());
            }
        });
        context.onResponse(this::onResponse);
        Page page = context.newPage();
        page.onPageError(e -> problems.add("uncaught exception: " + e));
        return page;
    }

    /** A second page in the same context (same cookies): another tab of the same user. */
    Page anotherTab() {
        Page page = context.newPage();
        page.onPageError(e -> problems.add("uncaught exception: " + e));
        return page;
    }

    BrowserContext context() {
        return context;
    }

    private void onConsole(ConsoleMessage m) {
        String where = m.location();
        if (m.type().equals("error")) {
            // Chromium prints one for every error status, even one the page asked for and shows (a 400 from the API)
            String url = where == null ? "" : LINE_COLUMN.matcher(where).replaceFirst("");
            if (FAILED_TO_LOAD.matcher(m.text()).find() && API.matcher(url).find()) return;
            problems.add("console error: " + m.text() + (where == null ? "" : " (" + where + ")"));
        } else if (m.type().equals("warning") && where != null && where.contains("/console/js/")) {
            // the console's own scripts warn only when something failed (a page module that did not load, ...)
            problems.add("console warning from the console's code: " + m.text() + " (" + where + ")");
        }
    }

    private void onResponse(Response r) {
        if (r.status() >= 400 && !API.matcher(r.url()).find()) {
            problems.add("asset answered " + r.status() + ": " + r.request().method() + " " + r.url());
        }
    }

    /** Fails with every problem recorded since the page was opened or since the last call; forgets them. */
    void assertNoConsoleErrors() {
        assertNoConsoleErrors("the console");
    }

    /** As {@link #assertNoConsoleErrors()}, naming the page or step in the failure. */
    void assertNoConsoleErrors(String where) {
        if (problems.isEmpty()) return;
        List<String> seen = List.copyOf(problems);
        problems.clear();
        fail(where + ": the browser reported " + seen.size() + " problem(s):\n  " + String.join("\n  ", seen));
    }

    /**
     * {@link #assertNoConsoleErrors(String)}, and the page shows no text a script left by mistake
     * ({@code null}, {@code undefined}, {@code NaN}, {@code [object Object]}: a value where a node or a
     * string was meant).
     */
    void assertPageClean(Page page, String where) {
        assertNoConsoleErrors(where);
        String text = (String) page.evaluate("() => document.body.innerText");
        java.util.regex.Matcher m = STRAY_TEXT.matcher(text);
        if (m.find()) {
            int from = Math.max(0, m.start() - 80);
            int to = Math.min(text.length(), m.end() + 80);
            fail(where + ": the page shows \"" + m.group(2) + "\": ..." + text.substring(from, to).replace('\n', '|') + "...");
        }
    }

    /** The problems recorded since the last check, kept. */
    List<String> problemsSoFar() {
        return List.copyOf(problems);
    }

    /** The problems recorded so far, forgotten: for steps whose errors are expected (a page of another origin refused). */
    List<String> takeProblems() {
        List<String> seen = List.copyOf(problems);
        problems.clear();
        return seen;
    }

    /** Every request this context's pages sent so far, with all their headers (cookies too) and bodies. */
    List<Sent> sentRequests() {
        List<Sent> sent = new ArrayList<>();
        for (Request r : List.copyOf(requests)) {
            sent.add(new Sent(r.method(), r.url(), r.allHeaders(), r.postData()));
        }
        return sent;
    }

    /** The name of the session cookie the console at {@code console} sets: {@code sluice-console-PORT}. */
    static String sessionCookieName(URI console) {
        int port = console.getPort() != -1 ? console.getPort() : console.getScheme().equals("https") ? 443 : 80;
        return "sluice-console-" + port;
    }

    /** The session cookie the browser holds for the console at {@code console}. */
    static com.microsoft.playwright.options.Cookie sessionCookie(BrowserContext context, URI console) {
        String name = sessionCookieName(console);
        List<com.microsoft.playwright.options.Cookie> cookies = context.cookies(console.toString());
        return cookies.stream().filter(c -> c.name.equals(name)).findFirst().orElseThrow(() -> new AssertionError(
                "no " + name + " cookie for " + console + " among " + cookies.stream().map(c -> c.name).toList()));
    }

    /** Opens the console and signs in through its form; returns once the header names the principal. */
    void signIn(Page page, String accessKeyId, String secretAccessKey) {
        signIn(page, console(), accessKeyId, secretAccessKey);
    }

    /** As {@link #signIn(Page, String, String)}, with the console at {@code console} (another node's, say). */
    void signIn(Page page, URI console, String accessKeyId, String secretAccessKey) {
        if (!page.url().startsWith(console.toString())) page.navigate(console.toString());
        page.getByLabel("Access key ID").fill(accessKeyId);
        page.getByLabel("Secret access key").fill(secretAccessKey);
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true)).click();
        assertThat(page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out"))).isVisible();
        assertThat(page.locator("#principal")).not().isEmpty();
    }

    /** Signs out with the header's button; returns once the sign-in form is back. */
    void signOut(Page page) {
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out")).click();
        assertThat(page.getByLabel("Access key ID")).isVisible();
    }

    /**
     * Saves what the page shows as {@code <name>.png}: into {@code docs/console/} when
     * {@code -Dsluice.console.screenshots=true} (the pictures the README shows), else into
     * {@code target/console-screenshots/} (to look at after a failed run).
     */
    static void screenshot(Page page, String name) {
        try {
            Files.createDirectories(screenshotDir());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        page.screenshot(new Page.ScreenshotOptions().setPath(screenshotDir().resolve(name + ".png")).setFullPage(false));
    }

    static Path screenshotDir() {
        Path here = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        // Maven runs the tests in node/; the pictures belong to the repository's docs
        Path repo = Files.exists(here.resolve("../docs")) && here.getFileName().toString().equals("node") ? here.getParent() : here;
        boolean keep = Boolean.getBoolean("sluice.console.screenshots");
        return keep ? repo.resolve("docs/console") : here.resolve("target/console-screenshots");
    }

    void closeContext() {
        if (context != null) {
            context.close();
            context = null;
        }
    }

    @Override
    public void close() {
        try {
            closeContext();
            browser.close();
        } finally {
            playwright.close();
        }
    }
}
