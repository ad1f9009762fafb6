package io.sluice.node.auth;

import io.sluice.node.auth.PolicyEvaluator.Decision;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.sluice.node.auth.PolicyEvaluator.Decision.ALLOW;
import static io.sluice.node.auth.PolicyEvaluator.Decision.EXPLICIT_DENY;
import static io.sluice.node.auth.PolicyEvaluator.Decision.IMPLICIT_DENY;
import static io.sluice.node.auth.PolicyEvaluator.wildcardMatches;
import static org.junit.jupiter.api.Assertions.*;

class PolicyEvaluatorTest {
    private static final Caller ALICE = new Caller("AKIDALICE", "arn:aws:iam::123456789012:user/alice", "alice", false);
    private static final Caller ROOT = new Caller("AKIDROOT", "arn:aws:iam::123456789012:root", "root", true);
    private static final String KEY = "arn:aws:kms:eu-west-1:123456789012:key/Dummy";
    private static final String FOO = "arn:aws:kinesis:eu-west-1:123456789012:stream/foo";
    private static final String BAR = "arn:aws:kinesis:eu-west-1:123456789012:stream/bar";

    /** The seed's producer policy with the stream ARN written as AWS spells it ("stream/foo", not "foo"). */
    private static final PolicyDocument PRODUCER = PolicyDocument.parse(
            PolicyDocumentTest.SEED_PRODUCER.replace(":123456789012:foo", ":123456789012:stream/foo"));

    private final PolicyEvaluator evaluator = new PolicyEvaluator();

    private static PolicyDocument policy(String... statements) {
        return PolicyDocument.parse("{\"Version\": \"2012-10-17\", \"Statement\": [" + String.join(",", statements) + "]}");
    }

    private static String allow(String action, String resource) {
        return "{\"Effect\": \"Allow\", \"Action\": \"" + action + "\", \"Resource\": \"" + resource + "\"}";
    }

    private static String deny(String action, String resource) {
        return "{\"Effect\": \"Deny\", \"Action\": \"" + action + "\", \"Resource\": \"" + resource + "\"}";
    }

    private Decision decide(PolicyDocument policy, String action, String resource) {
        return evaluator.evaluate(ALICE, List.of(policy), action, resource);
    }

    @Test
    void producerPolicyAllowsGeneratingDataKeysAndPuttingButNotReading() {
        assertEquals(ALLOW, decide(PRODUCER, "kms:GenerateDataKey", KEY));
        assertEquals(ALLOW, decide(PRODUCER, "kinesis:PutRecord", FOO));
        assertEquals(ALLOW, decide(PRODUCER, "kinesis:PutRecords", FOO));
        assertEquals(IMPLICIT_DENY, decide(PRODUCER, "kinesis:GetRecords", FOO));
        assertEquals(IMPLICIT_DENY, decide(PRODUCER, "kms:Decrypt", KEY));
        assertEquals(IMPLICIT_DENY, decide(PRODUCER, "kinesis:PutRecord", BAR));
        assertEquals(IMPLICIT_DENY, decide(PRODUCER, "kms:GenerateDataKey", KEY.replace("Dummy", "Other")));
    }

    @Test
    void seedProducerPolicyAsPrintedDoesNotCoverTheStreamBecauseItsArnLacksStream() {
        PolicyDocument asPrinted = PolicyDocument.parse(PolicyDocumentTest.SEED_PRODUCER);
        assertEquals(ALLOW, decide(asPrinted, "kms:GenerateDataKey", KEY));
        assertEquals(IMPLICIT_DENY, decide(asPrinted, "kinesis:PutRecord", FOO));
    }

    @Test
    void correctedSeedConsumerPolicyAllowsDecryptAndReading() {
        PolicyDocument consumer = PolicyDocument.parse(PolicyDocumentTest.SEED_CONSUMER_CORRECTED
                .replace(":123456789012:foo", ":123456789012:stream/foo"));
        assertEquals(ALLOW, decide(consumer, "kms:Decrypt", KEY));
        assertEquals(ALLOW, decide(consumer, "kinesis:GetRecords", FOO));
        assertEquals(ALLOW, decide(consumer, "kinesis:DescribeStream", FOO));
        assertEquals(IMPLICIT_DENY, decide(consumer, "kinesis:PutRecord", FOO));
    }

    @Test
    void actionPrefixWildcardCoversOnlyThatServiceAndPrefix() {
        PolicyDocument gets = policy(allow("kinesis:Get*", "*"));
        assertEquals(ALLOW, decide(gets, "kinesis:GetRecords", FOO));
        assertEquals(ALLOW, decide(gets, "kinesis:GetShardIterator", FOO));
        assertEquals(IMPLICIT_DENY, decide(gets, "kinesis:PutRecord", FOO));
        assertEquals(IMPLICIT_DENY, decide(gets, "kinesisvideo:GetMedia", FOO));
    }

    @Test
    void serviceWildcardCoversEveryActionOfThatServiceOnly() {
        PolicyDocument kinesis = policy(allow("kinesis:*", "*"));
        assertEquals(ALLOW, decide(kinesis, "kinesis:DeleteStream", FOO));
        assertEquals(IMPLICIT_DENY, decide(kinesis, "kms:Decrypt", KEY));
    }

    @Test
    void starActionCoversEverything() {
        PolicyDocument all = policy(allow("*", "*"));
        assertEquals(ALLOW, decide(all, "kms:Decrypt", KEY));
        assertEquals(ALLOW, decide(all, "kinesis:PutRecord", FOO));
    }

    @Test
    void questionMarkMatchesExactlyOneCharacter() {
        PolicyDocument batch = policy(allow("kinesis:PutRecord?", "*"));
        assertEquals(ALLOW, decide(batch, "kinesis:PutRecords", FOO));
        assertEquals(IMPLICIT_DENY, decide(batch, "kinesis:PutRecord", FOO));
        PolicyDocument oneCharStream = policy(allow("kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:123456789012:stream/fo?"));
        assertEquals(ALLOW, decide(oneCharStream, "kinesis:PutRecord", FOO));
        assertEquals(IMPLICIT_DENY, decide(oneCharStream, "kinesis:PutRecord", FOO + "d"));
    }

    @Test
    void resourceWildcardsSpanRegionsAndStreamsOfOneAccount() {
        PolicyDocument anyStream = policy(allow("kinesis:PutRecord", "arn:aws:kinesis:*:123456789012:stream/*"));
        assertEquals(ALLOW, decide(anyStream, "kinesis:PutRecord", FOO));
        assertEquals(ALLOW, decide(anyStream, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/bar"));
        assertEquals(IMPLICIT_DENY, decide(anyStream, "kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:210987654321:stream/foo"));
        assertEquals(IMPLICIT_DENY, decide(anyStream, "kinesis:PutRecord", KEY));
    }

    @Test
    void denyOverridesAllowWhateverTheOrder() {
        assertEquals(EXPLICIT_DENY, decide(policy(allow("kinesis:*", "*"), deny("kinesis:PutRecord", FOO)), "kinesis:PutRecord", FOO));
        assertEquals(EXPLICIT_DENY, decide(policy(deny("kinesis:PutRecord", FOO), allow("kinesis:*", "*")), "kinesis:PutRecord", FOO));
        assertEquals(EXPLICIT_DENY, evaluator.evaluate(ALICE, List.of(policy(allow("*", "*")), policy(deny("kinesis:Put*", "*"))),
                "kinesis:PutRecords", FOO));
        assertEquals(ALLOW, decide(policy(allow("kinesis:*", "*"), deny("kinesis:PutRecord", FOO)), "kinesis:PutRecord", BAR));
    }

    @Test
    void denyWithoutAnyAllowIsStillAnExplicitDeny() {
        assertEquals(EXPLICIT_DENY, decide(policy(deny("kinesis:*", "*")), "kinesis:GetRecords", FOO));
    }

    @Test
    void notActionAllowGrantsEverythingButTheListedActionsOnTheNamedResources() {
        PolicyDocument allButDelete = policy("{\"Effect\": \"Allow\", \"NotAction\": [\"kinesis:DeleteStream\", \"kms:*\"],"
                + " \"Resource\": \"arn:aws:kinesis:*:123456789012:stream/*\"}");
        assertEquals(ALLOW, decide(allButDelete, "kinesis:PutRecord", FOO));
        assertEquals(ALLOW, decide(allButDelete, "kinesis:CreateStream", BAR));
        assertEquals(IMPLICIT_DENY, decide(allButDelete, "kinesis:DeleteStream", FOO));
        assertEquals(IMPLICIT_DENY, decide(allButDelete, "kms:Decrypt", FOO));
        assertEquals(IMPLICIT_DENY, decide(allButDelete, "kinesis:PutRecord", KEY));
    }

    @Test
    void notResourceDenyProtectsEverythingButTheListedResources() {
        PolicyDocument onlyFoo = policy(allow("kinesis:*", "*"),
                "{\"Effect\": \"Deny\", \"Action\": \"kinesis:*\", \"NotResource\": \"" + FOO + "\"}");
        assertEquals(ALLOW, decide(onlyFoo, "kinesis:PutRecord", FOO));
        assertEquals(EXPLICIT_DENY, decide(onlyFoo, "kinesis:PutRecord", BAR));
    }

    @Test
    void matchesActionsIgnoringCase() {
        PolicyDocument shouty = policy(allow("KINESIS:putrecord", "*"), allow("Kms:Generate*", "*"));
        assertEquals(ALLOW, decide(shouty, "kinesis:PutRecord", FOO));
        assertEquals(ALLOW, decide(shouty, "kms:GenerateDataKey", KEY));
        assertEquals(EXPLICIT_DENY, decide(policy(allow("*", "*"), deny("kinesis:putrecords", "*")), "kinesis:PutRecords", FOO));
    }

    @Test
    void matchesResourcesRespectingCase() {
        PolicyDocument capitalFoo = policy(allow("kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:123456789012:stream/Foo"));
        assertEquals(IMPLICIT_DENY, decide(capitalFoo, "kinesis:PutRecord", FOO));
        assertEquals(ALLOW, decide(capitalFoo, "kinesis:PutRecord", "arn:aws:kinesis:eu-west-1:123456789012:stream/Foo"));
    }

    @Test
    void rootIsAlwaysAllowedEvenAgainstAnExplicitDeny() {
        assertEquals(ALLOW, evaluator.evaluate(ROOT, List.of(), "kinesis:DeleteStream", FOO));
        assertEquals(ALLOW, evaluator.evaluate(ROOT, List.of(policy(deny("*", "*"))), "kms:Decrypt", KEY));
    }

    @Test
    void userWithoutPoliciesIsImplicitlyDenied() {
        assertEquals(IMPLICIT_DENY, evaluator.evaluate(ALICE, List.of(), "kinesis:DescribeStream", FOO));
    }

    @Test
    void deniedMessagesReadLikeAws() {
        assertEquals("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: kinesis:PutRecord"
                + " on resource: " + FOO, PolicyEvaluator.deniedMessage(ALICE, "kinesis:PutRecord", FOO));
        assertEquals(PolicyEvaluator.deniedMessage(ALICE, "kinesis:PutRecord", FOO),
                PolicyEvaluator.deniedMessage(ALICE, "kinesis:PutRecord", FOO, IMPLICIT_DENY));
        assertEquals("User: arn:aws:iam::123456789012:user/alice is not authorized to perform: kms:Decrypt"
                + " on resource: " + KEY + " with an explicit deny",
                PolicyEvaluator.deniedMessage(ALICE, "kms:Decrypt", KEY, EXPLICIT_DENY));
        assertThrows(IllegalArgumentException.class, () -> PolicyEvaluator.deniedMessage(ALICE, "kms:Decrypt", KEY, ALLOW));
    }

    @Test
    void wildcardStarMatchesAnyRunIncludingEmptyColonsAndSlashes() {
        assertTrue(wildcardMatches("*", "", false));
        assertTrue(wildcardMatches("*", "arn:aws:kinesis:eu-west-1:1:stream/a/b", false));
        assertTrue(wildcardMatches("arn:*/foo", "arn:aws:kinesis:eu-west-1:1:stream/foo", false));
        assertTrue(wildcardMatches("a*b*c", "abc", false));
        assertTrue(wildcardMatches("a*b*c", "axxbyybzc", false));
        assertTrue(wildcardMatches("a**", "a", false));
        assertFalse(wildcardMatches("a*b", "axxbc", false));
        assertFalse(wildcardMatches("", "a", false));
        assertTrue(wildcardMatches("", "", false));
    }

    @Test
    void wildcardQuestionMarkNeedsExactlyOneCharacter() {
        assertTrue(wildcardMatches("?", "x", false));
        assertFalse(wildcardMatches("?", "", false));
        assertFalse(wildcardMatches("??", "x", false));
        assertTrue(wildcardMatches("*?", "x", false));
        assertFalse(wildcardMatches("*??", "x", false));
    }

    @Test
    void wildcardMatchingStaysFastOnAdversarialPatterns() {
        String text = "a".repeat(20_000);
        String pattern = "*a".repeat(50) + "*b";
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(2), () -> assertFalse(wildcardMatches(pattern, text, false)));
    }
}
