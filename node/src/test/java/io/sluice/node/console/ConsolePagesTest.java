package io.sluice.node.console;

import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import io.sluice.node.MutableClock;
import io.sluice.node.it.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kms.KmsClient;

import java.util.List;
import java.util.function.Function;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every page of the console renders, on a laptop screen (1280 px) and a phone's (375 px), with no
 * console error, no failed asset and no page wider than the window (tables scroll in their box);
 * and the sign-in form works from the keyboard alone.
 */
class ConsolePagesTest {
    static final String STREAM = "pages-stream";
    static final String USER = "pages-user";
    static TestNode node;
    static ConsoleBrowser browser;

    /** A page of the console and what shows it has rendered (beyond its heading). */
    record Route(String hash, String heading, Function<Page, Locator> rendered) {}

    static final List<Route> ROUTES = List.of(
            new Route("#/streams", "Data streams", p -> p.getByRole(AriaRole.LINK, new Page.GetByRoleOptions().setName(STREAM))),
            new Route("#/streams/" + STREAM, STREAM, p -> p.getByRole(AriaRole.CELL, new Page.GetByRoleOptions()
                    .setName("shardId-000000000001"))),
            new Route("#/streams/" + STREAM + "/data", "Data viewer", p -> p.getByRole(AriaRole.COMBOBOX,
                    new Page.GetByRoleOptions().setName("Shard").setExact(true))),
            new Route("#/keys", "KMS keys", p -> p.getByText("alias/pages-key")),
            new Route("#/users", "IAM users", p -> p.getByRole(AriaRole.LINK, new Page.GetByRoleOptions().setName(USER))),
            new Route("#/users/" + USER, USER, p -> p.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions()
                    .setName("Create access key"))));

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "").start();
        try (KinesisClient kinesis = node.kinesisClient(); KmsClient kms = node.kmsClient(); IamClient iam = node.iamClient()) {
            TestNode.createActive(kinesis, STREAM, 2);
            for (int i = 0; i < 3; i++) {
                String n = String.valueOf(i);
                kinesis.putRecord(b -> b.streamName(STREAM).partitionKey("k" + n).data(SdkBytes.fromUtf8String("record " + n)));
            }
            String keyId = kms.createKey(b -> b.description("for the pages")).keyMetadata().keyId();
            kms.createAlias(b -> b.aliasName("alias/pages-key").targetKeyId(keyId));
            iam.createUser(b -> b.userName(USER));
        }
        browser = new ConsoleBrowser(node.endpoint());
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (node != null) node.close();
    }

    @AfterEach
    void closePage() {
        browser.closeContext();
    }

    @ParameterizedTest(name = "{0} px wide")
    @ValueSource(ints = {1280, 375})
    void everyPageRendersWithoutErrorsAndFitsTheWindow(int width) {
        Page page = browser.newPage(width, width > 400 ? 800 : 812);
        page.navigate(browser.console().toString());
        assertThat(page.getByRole(AriaRole.HEADING, new Page.GetByRoleOptions().setName("Sign in"))).isVisible();
        assertFitsTheWindow(page, "the sign-in page");
        browser.assertPageClean(page, "the sign-in page at " + width + " px");
        browser.signIn(page, node.accessKeyId, node.secretKey);

        for (Route route : ROUTES) {
            String where = route.hash() + " at " + width + " px";
            page.navigate(browser.console() + route.hash());
            assertThat(page.getByRole(AriaRole.HEADING, new Page.GetByRoleOptions().setName(route.heading()).setExact(true)
                    .setLevel(1))).isVisible();
            assertThat(route.rendered().apply(page).first()).isVisible();
            assertThat(page.getByRole(AriaRole.ALERT)).hasCount(0);
            assertFitsTheWindow(page, where);
            browser.assertPageClean(page, where);
        }
    }

    /** The page scrolls only vertically: what is wider than the window (a table) scrolls inside its own box. */
    static void assertFitsTheWindow(Page page, String where) {
        Object overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth");
        assertTrue(((Number) overflow).intValue() <= 0, where + " is " + overflow + " px wider than the window");
    }

    @Test
    void theSignInFormWorksFromTheKeyboard() {
        Page page = browser.newPage();
        page.navigate(browser.console().toString());
        Locator keyId = page.getByLabel("Access key ID");
        Locator secret = page.getByLabel("Secret access key");
        Locator signIn = page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign in").setExact(true));
        assertThat(keyId).isVisible();

        // from the top of the document, Tab reaches the key ID, then the secret, then the button
        page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }");
        int presses = 0;
        while (!isFocused(keyId)) {
            assertTrue(++presses <= 6, "Tab never reached the Access key ID field");
            page.keyboard().press("Tab");
        }
        page.keyboard().type(node.accessKeyId);
        page.keyboard().press("Tab");
        assertThat(secret).isFocused();
        page.keyboard().type(node.secretKey);
        page.keyboard().press("Tab");
        assertThat(signIn).isFocused();
        Object ring = signIn.evaluate("b => { const s = getComputedStyle(b); "
                + "return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }");
        assertTrue((Boolean) ring, "the focused Sign in button shows no focus ring");

        // Enter in the secret field submits the form
        page.keyboard().press("Shift+Tab");
        assertThat(secret).isFocused();
        page.keyboard().press("Enter");
        assertThat(page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Sign out"))).isVisible();
        assertThat(page.getByRole(AriaRole.HEADING, new Page.GetByRoleOptions().setName("Data streams").setLevel(1))).isVisible();
        browser.assertPageClean(page, "after signing in from the keyboard");
    }

    /** The checks every page passes can fail: what a broken page does is seen and told. */
    @Test
    void theBrowserChecksSeeWhatABrokenPageDoes() {
        Page page = browser.newPage();
        page.navigate(browser.console().toString());
        assertThat(page.getByLabel("Access key ID")).isVisible();
        browser.assertPageClean(page, "the sign-in page");
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = true';"
                + " document.body.append(s);"
                + " setTimeout(() => { throw new Error('thrown by the test'); });"
                + " import('/console/js/no-such-module.js').catch(e => console.warn('expected', e)); }");
        String module = browser.console() + "js/no-such-module.js";
        page.waitForCondition(() -> {
            String seen = String.join("\n", browser.problemsSoFar());
            return seen.contains("Content Security Policy") && seen.contains("thrown by the test")
                    && seen.contains("asset answered 404: GET " + module) && seen.contains("request failed: GET " + module);
        });
        String all = String.join("\n", browser.takeProblems());
        assertTrue(all.contains("Content Security Policy"), "the inline script's CSP violation: " + all);
        assertTrue(all.contains("uncaught exception: ") && all.contains("thrown by the test"), all);
        assertEquals(null, page.evaluate("() => window.ran"), "an inline script ran despite the policy");

        page.evaluate("() => document.getElementById('view').append('undefined')");
        AssertionError stray = assertThrows(AssertionError.class, () -> browser.assertPageClean(page, "a page showing undefined"));
        assertTrue(stray.getMessage().contains("the page shows \"undefined\""), stray.getMessage());
    }

    static boolean isFocused(Locator l) {
        return (Boolean) l.evaluate("el => el === document.activeElement");
    }
}
