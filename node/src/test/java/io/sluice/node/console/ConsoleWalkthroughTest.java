package io.sluice.node.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;
import com.microsoft.playwright.options.SelectOption;
import io.sluice.node.MutableClock;
import io.sluice.node.it.AwsCliTest;
import io.sluice.node.it.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.EncryptionType;
import software.amazon.awssdk.services.kinesis.model.StreamDescriptionSummary;

import java.util.ArrayList;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static io.sluice.node.console.ConsoleBrowser.screenshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed's walk-through, clicked through the console in a real browser: sign in as root, create
 * the stream {@code foo}, put a record with the AWS CLI and see it in the data viewer as
 * {@code NONE}; enable server-side encryption with {@code aws/kinesis} (Edit, Save changes: UPDATING
 * until ACTIVE), put again and see {@code KMS}; create a customer key and switch the stream to it;
 * create an IAM user allowed {@code kinesis:*} but not {@code kms:Decrypt}, take its new access
 * key from the dialog, sign in as that user and see the seed's KMSAccessDeniedException in the
 * viewer. No page along the way logs a console error. With {@code -Dsluice.console.screenshots=true}
 * it leaves the README's pictures in {@code docs/console/}.
 */
class ConsoleWalkthroughTest {
    static final String STREAM = "foo";
    static final String USER = "seed-consumer";
    static final ObjectMapper json = new ObjectMapper();
    static TestNode node;
    static ConsoleBrowser browser;

    @BeforeAll
    static void start() throws Exception {
        // AWS keeps a stream UPDATING for seconds after StartStreamEncryption: so does this node, for the page to show it
        node = new TestNode(new MutableClock(), "sluice.stream.update-delay = 2s").start();
        browser = new ConsoleBrowser(node.endpoint());
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (node != null) node.close();
    }

    static Page.GetByRoleOptions named(String name) {
        return new Page.GetByRoleOptions().setName(name).setExact(true);
    }

    static Locator.GetByRoleOptions namedIn(String name) {
        return new Locator.GetByRoleOptions().setName(name).setExact(true);
    }

    static Locator heading(Page page, String name) {
        return page.getByRole(AriaRole.HEADING, named(name).setLevel(1));
    }

    /** The row of the table captioned {@code caption} that has a cell reading exactly {@code cell}. */
    static Locator row(Page page, String caption, String cell) {
        return page.getByRole(AriaRole.TABLE, named(caption)).getByRole(AriaRole.ROW)
                .filter(new Locator.FilterOptions().setHas(page.getByRole(AriaRole.CELL, named(cell))));
    }

    /** The section of a page headed {@code name}. */
    static Locator section(Page page, String name) {
        return page.locator("section").filter(new Locator.FilterOptions()
                .setHas(page.getByRole(AriaRole.HEADING, named(name).setLevel(2))));
    }

    /** What a description list shows for {@code term} inside {@code scope} (the Status of a section, say). */
    static Locator detail(Locator scope, String term) {
        return scope.locator("dt").filter(new Locator.FilterOptions().setHasText(term)).locator("xpath=following-sibling::dd[1]");
    }

    static JsonNode readTree(String text) {
        try {
            return json.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** {@code aws kinesis put-record} as root with the first CLI found (v1, else v2); the SDK when both are opted out. */
    static JsonNode putRecord(String data, String partitionKey) throws Exception {
        String cli;
        try {
            cli = AwsCliTest.anyCli();
        } catch (TestAbortedException noCli) {
            System.out.println("ConsoleWalkthroughTest: no AWS CLI (" + noCli.getMessage() + "), putting with the SDK");
            try (KinesisClient kinesis = node.kinesisClient()) {
                var put = kinesis.putRecord(b -> b.streamName(STREAM).partitionKey(partitionKey).data(SdkBytes.fromUtf8String(data)));
                return json.createObjectNode().put("EncryptionType", put.encryptionTypeAsString());
            }
        }
        List<String> args = new ArrayList<>(List.of("kinesis", "put-record", "--stream-name", STREAM, "--data", data,
                "--partition-key", partitionKey));
        if (AwsCliTest.isV2(cli)) args.addAll(List.of("--cli-binary-format", "raw-in-base64-out"));
        AwsCliTest.Result r = AwsCliTest.aws(node.endpoint(), node.accessKeyId, node.secretKey, cli, args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        return json.readTree(r.out());
    }

    /** Opens the stream's data viewer from its page and reads the first shard from TRIM_HORIZON. */
    static void readFromTrimHorizon(Page page) {
        page.getByRole(AriaRole.LINK, named("Data viewer")).click();
        assertThat(heading(page, "Data viewer")).isVisible();
        page.getByRole(AriaRole.COMBOBOX, named("Starting position"))
                .selectOption(new SelectOption().setLabel("Trim horizon"));
        Locator get = page.getByRole(AriaRole.BUTTON, named("Get records"));
        assertThat(get).isEnabled();
        get.click();
    }

    static void openStream(Page page) {
        page.getByRole(AriaRole.LINK, named("Streams")).click();
        assertThat(heading(page, "Data streams")).isVisible();
        page.getByRole(AriaRole.LINK, named(STREAM)).click();
        assertThat(heading(page, STREAM)).isVisible();
        assertThat(detail(section(page, "Stream details"), "Status")).hasText("ACTIVE");
    }

    /**
     * Edits the stream's server-side encryption to the key {@code value} (an option's value) and
     * saves; returns once the page shows it ACTIVE with that key. Every status the page showed meanwhile
     * is recorded by the page itself, and must be what DescribeStreamSummary answered it: UPDATING
     * for as long as the node said so, then ACTIVE.
     */
    static void encryptWith(Page page, String value, String screenshotName) {
        Locator sse = section(page, "Server-side encryption");
        sse.getByRole(AriaRole.BUTTON, namedIn("Edit")).click();
        Locator enable = page.getByLabel("Enable server-side encryption");
        if (!enable.isChecked()) enable.check();
        Locator key = page.getByRole(AriaRole.COMBOBOX, named("AWS KMS key"));
        assertThat(key.locator("option").first()).hasText("(Default) aws/kinesis");
        assertThat(key.locator("option[value=\"" + value + "\"]")).hasCount(1);
        key.selectOption(value);
        if (screenshotName != null) screenshot(page, screenshotName);

        List<String> answered = new ArrayList<>();
        page.onResponse(r -> {
            if (r.url().endsWith("/console/api") && "Kinesis_20131202.DescribeStreamSummary".equals(r.request().headerValue("x-amz-target"))) {
                answered.add(readTree(r.text()).at("/StreamDescriptionSummary/StreamStatus").asText());
            }
        });
        // the page's own record of the stream status it shows (the first "Status" on the page: the stream's details)
        page.evaluate("() => { window.statusesShown = [];"
                + " const record = () => { const dt = [...document.querySelectorAll('#view dt')].find(t => t.textContent === 'Status');"
                + "   const s = dt && dt.nextElementSibling ? dt.nextElementSibling.textContent : null;"
                + "   if (s && window.statusesShown[window.statusesShown.length - 1] !== s) window.statusesShown.push(s); };"
                + " record();"
                + " new MutationObserver(record).observe(document.getElementById('view'), {subtree: true, childList: true, characterData: true}); }");
        page.getByRole(AriaRole.BUTTON, named("Save changes")).click();
        Locator status = detail(section(page, "Stream details"), "Status");
        assertThat(detail(sse, "Status")).hasText("Enabled");
        assertThat(detail(sse, "KMS key")).hasText(value);
        assertThat(status).hasText("ACTIVE");
        @SuppressWarnings("unchecked")
        List<String> shown = (List<String>) page.evaluate("() => window.statusesShown");
        List<String> said = new ArrayList<>(List.of("ACTIVE")); // what the page showed before Save changes
        for (String s : answered) {
            if (said.isEmpty() || !said.get(said.size() - 1).equals(s)) said.add(s);
        }
        assertEquals(said, shown, "the statuses shown are those DescribeStreamSummary answered");
        assertEquals("ACTIVE", shown.get(shown.size() - 1));
        assertTrue(shown.contains("UPDATING"), "the page showed the stream UPDATING until it was ACTIVE: " + shown);
        System.out.println("ConsoleWalkthroughTest: after Save changes (" + value + ") the page showed " + shown);
    }

    @Test
    void theSeedsWalkThroughByClicking() throws Exception {
        Page page = browser.newPage();
        page.navigate(browser.console().toString());
        page.getByLabel("Access key ID").fill(node.accessKeyId);
        screenshot(page, "sign-in");
        browser.assertPageClean(page, "the sign-in page");
        browser.signIn(page, node.accessKeyId, node.secretKey);
        assertThat(page.locator("#principal")).hasText("arn:aws:iam::000000000000:root");
        assertThat(heading(page, "Data streams")).isVisible();
        browser.assertPageClean(page, "the streams page");

        // 1. the stream, created in the console
        page.getByRole(AriaRole.BUTTON, named("Create data stream")).click();
        page.getByLabel("Data stream name").fill(STREAM);
        page.getByRole(AriaRole.COMBOBOX, named("Capacity mode")).selectOption(new SelectOption().setLabel("Provisioned"));
        page.getByLabel("Number of open shards").fill("1");
        page.getByRole(AriaRole.BUTTON, named("Create")).click();
        Locator fooRow = row(page, "Data streams", STREAM);
        assertThat(fooRow).containsText("ACTIVE", new com.microsoft.playwright.assertions.LocatorAssertions.ContainsTextOptions()
                .setTimeout(30_000));
        assertThat(fooRow).containsText("Provisioned");
        assertThat(fooRow).containsText("Disabled");
        screenshot(page, "streams");
        browser.assertPageClean(page, "creating the stream");

        // 2. a record put with the CLI shows in the viewer unencrypted
        JsonNode a = putRecord("a", "a");
        assertFalse(a.has("EncryptionType") && "KMS".equals(a.get("EncryptionType").asText()), a.toString());
        openStream(page);
        Locator sse = section(page, "Server-side encryption");
        assertThat(detail(sse, "Status")).hasText("Disabled");
        browser.assertPageClean(page, "the stream page");
        readFromTrimHorizon(page);
        assertThat(row(page, "Records", "a")).containsText("NONE");
        page.getByLabel("Hex", new Page.GetByLabelOptions().setExact(true)).check();
        assertThat(row(page, "Records", "a")).containsText("61");
        page.getByLabel("Text", new Page.GetByLabelOptions().setExact(true)).check();
        browser.assertPageClean(page, "the data viewer");

        // 3. SSE with aws/kinesis, by Edit and Save changes
        page.getByRole(AriaRole.LINK, named(STREAM)).click();
        assertThat(heading(page, STREAM)).isVisible();
        encryptWith(page, "alias/aws/kinesis", "sse-edit");
        screenshot(page, "stream");
        browser.assertPageClean(page, "enabling server-side encryption");
        try (KinesisClient kinesis = node.kinesisClient()) {
            StreamDescriptionSummary s = kinesis.describeStreamSummary(b -> b.streamName(STREAM)).streamDescriptionSummary();
            assertEquals(EncryptionType.KMS, s.encryptionType());
            assertEquals("alias/aws/kinesis", s.keyId());
        }
        JsonNode b = putRecord("b", "b");
        assertEquals("KMS", b.get("EncryptionType").asText(), b.toString());
        readFromTrimHorizon(page);
        assertThat(row(page, "Records", "a")).containsText("NONE");
        assertThat(row(page, "Records", "b")).containsText("KMS");
        screenshot(page, "viewer");
        browser.assertPageClean(page, "the data viewer with KMS records");

        // 4. a customer key, made on the KMS keys page, and the stream switched to it
        page.getByRole(AriaRole.LINK, named("KMS keys")).click();
        assertThat(heading(page, "KMS keys")).isVisible();
        page.getByRole(AriaRole.BUTTON, named("Create key")).click();
        page.getByLabel("Alias", new Page.GetByLabelOptions().setExact(true)).fill("seed-key");
        page.getByLabel("Description", new Page.GetByLabelOptions().setExact(true)).fill("the seed's customer key");
        page.getByRole(AriaRole.BUTTON, named("Create key")).click();
        Locator keyRow = page.getByRole(AriaRole.TABLE, named("KMS keys")).getByRole(AriaRole.ROW)
                .filter(new Locator.FilterOptions().setHasText("alias/seed-key"));
        assertThat(keyRow).containsText("Enabled");
        assertThat(keyRow).containsText("the seed's customer key");
        screenshot(page, "kms-keys");
        browser.assertPageClean(page, "the KMS keys page");

        openStream(page);
        encryptWith(page, "alias/seed-key", null);
        browser.assertPageClean(page, "switching to the customer key");
        JsonNode c = putRecord("c", "c");
        assertEquals("KMS", c.get("EncryptionType").asText(), c.toString());

        // 5. a user who may use Kinesis but not kms:Decrypt, made on the IAM users page
        page.getByRole(AriaRole.LINK, named("IAM users")).click();
        assertThat(heading(page, "IAM users")).isVisible();
        page.getByRole(AriaRole.BUTTON, named("Create user")).click();
        page.getByLabel("User name").fill(USER);
        page.getByRole(AriaRole.BUTTON, named("Create user")).click();
        assertThat(row(page, "IAM users", USER)).isVisible();
        screenshot(page, "iam-users");
        browser.assertPageClean(page, "the IAM users page");
        page.getByRole(AriaRole.LINK, named(USER)).first().click();
        assertThat(heading(page, USER)).isVisible();

        page.getByRole(AriaRole.BUTTON, named("Add inline policy")).click();
        page.getByLabel("Policy name").fill("kinesis-only");
        page.getByLabel("Policy document").fill("{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\"}]}");
        page.getByRole(AriaRole.BUTTON, named("Save policy")).click();
        assertThat(page.getByRole(AriaRole.ALERT)).containsText("MalformedPolicyDocument");
        page.getByLabel("Policy document").fill("""
                {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}""");
        page.getByRole(AriaRole.BUTTON, named("Save policy")).click();
        assertThat(section(page, "Inline policies").getByText("kinesis-only", new Locator.GetByTextOptions().setExact(true)))
                .isVisible();
        assertThat(page.getByRole(AriaRole.ALERT)).hasCount(0);

        page.getByRole(AriaRole.BUTTON, named("Create access key")).click();
        Locator dialog = page.getByRole(AriaRole.DIALOG);
        assertThat(dialog).isVisible();
        String keyId = dialog.getByLabel("Access key ID").inputValue();
        String secret = dialog.getByLabel("Secret access key").inputValue();
        assertTrue(keyId.startsWith("AKIA") && secret.length() == 40, keyId + " / " + secret.length() + " characters");
        dialog.getByRole(AriaRole.BUTTON, namedIn("Done")).click();
        assertThat(dialog).isHidden();
        assertThat(section(page, "Access keys")).containsText(keyId);
        assertThat(section(page, "Access keys")).not().containsText(secret);
        screenshot(page, "user");
        browser.assertPageClean(page, "the user's page");

        // 6. that user sees the seed's denial in the viewer
        browser.signOut(page);
        browser.signIn(page, keyId, secret);
        assertThat(page.locator("#principal")).hasText("arn:aws:iam::000000000000:user/" + USER);
        openStream(page);
        assertThat(detail(section(page, "Server-side encryption"), "KMS key")).hasText("alias/seed-key");
        readFromTrimHorizon(page);
        Locator alert = page.getByRole(AriaRole.ALERT);
        assertThat(alert).containsText("KMSAccessDeniedException");
        assertThat(alert).containsText("User " + USER + " is not authorized to decrypt records in stream 000000000000:" + STREAM + ":");
        assertThat(page.getByRole(AriaRole.TABLE, named("Records")).getByRole(AriaRole.CELL, namedIn("c"))).hasCount(0);
        screenshot(page, "viewer-denied");
        browser.assertPageClean(page, "the data viewer of a user without kms:Decrypt");

        // 7. the stream's traffic (root's puts and reads) on its page
        browser.signOut(page);
        browser.signIn(page, node.accessKeyId, node.secretKey);
        openStream(page);
        Locator monitoring = section(page, "Monitoring");
        // the three records the CLI put, counted by the node and drawn (and told to screen readers) by the chart
        Locator incoming = monitoring.locator("[data-metric=incomingRecords] svg[role=img]");
        assertThat(incoming).hasAttribute("aria-label", java.util.regex.Pattern.compile(
                "^Incoming records per minute, .*\\. Total 3 over the last 60 minutes"));
        monitoring.evaluate("el => el.scrollIntoView({block: 'start'})");
        screenshot(page, "traffic");
        browser.assertPageClean(page, "the stream's monitoring");
    }
}
