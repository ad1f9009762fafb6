package io.sluice.node.auth;

import io.sluice.node.auth.PolicyDocument.Effect;
import io.sluice.node.auth.PolicyDocument.MalformedPolicyDocumentException;
import io.sluice.node.auth.PolicyDocument.Statement;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class PolicyDocumentTest {
    /** The producer policy of the seed blog post, as printed there. */
    static final String SEED_PRODUCER = """
            {
                "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": [
                            "kms:GenerateDataKey"
                        ],
                        "Resource": "arn:aws:kms:eu-west-1:123456789012:key/Dummy"
                        }, {
                        "Effect": "Allow",
                        "Action": [
                            "kinesis:PutRecord",
                            "kinesis:PutRecords"
                        ],
                        "Resource": "arn:aws:kinesis:*:123456789012:foo"
                   }
                ]
            }
            """;

    /** The consumer policy of the seed blog post, as printed there: its second statement lost the "Resource" key. */
    static final String SEED_CONSUMER = """
            {
                "Version": "2012-10-17",
                    "Statement": [{
                        "Effect": "Allow",
                        "Action": [
                            "kms:Decrypt"
                        ],
                        "Resource": "arn:aws:kms:eu-west-1:123456789012:key/Dummy"
                        }, {
                        "Effect": "Allow",
                        "Action": [
                            "kinesis:GetRecords",
                            "kinesis:DescribeStream"
                        ],
                        "arn:aws:kinesis:*:123456789012:foo"
                    }
                ]
            }
            """;

    static final String SEED_CONSUMER_CORRECTED = SEED_CONSUMER.replace(
            "\"arn:aws:kinesis:*:123456789012:foo\"", "\"Resource\": \"arn:aws:kinesis:*:123456789012:foo\"");

    private static String statement(String body) {
        return "{\"Version\": \"2012-10-17\", \"Statement\": {" + body + "}}";
    }

    private static String rejected(String json) {
        return assertThrows(MalformedPolicyDocumentException.class, () -> PolicyDocument.parse(json)).getMessage();
    }

    @Test
    void parsesTheSeedProducerPolicy() {
        PolicyDocument policy = PolicyDocument.parse(SEED_PRODUCER);
        assertEquals(Optional.of("2012-10-17"), policy.version());
        assertEquals(List.of(
                new Statement(Optional.empty(), Effect.ALLOW, List.of("kms:GenerateDataKey"), false,
                        List.of("arn:aws:kms:eu-west-1:123456789012:key/Dummy"), false),
                new Statement(Optional.empty(), Effect.ALLOW, List.of("kinesis:PutRecord", "kinesis:PutRecords"), false,
                        List.of("arn:aws:kinesis:*:123456789012:foo"), false)), policy.statements());
    }

    @Test
    void rejectsTheSeedConsumerPolicyAsPrintedBecauseItIsNotJson() {
        assertEquals("Syntax errors in policy.", rejected(SEED_CONSUMER));
    }

    @Test
    void parsesTheSeedConsumerPolicyOnceItsResourceKeyIsRestored() {
        PolicyDocument policy = PolicyDocument.parse(SEED_CONSUMER_CORRECTED);
        assertEquals(2, policy.statements().size());
        Statement kinesis = policy.statements().get(1);
        assertEquals(List.of("kinesis:GetRecords", "kinesis:DescribeStream"), kinesis.actions());
        assertEquals(List.of("arn:aws:kinesis:*:123456789012:foo"), kinesis.resources());
    }

    @Test
    void keepsTheOriginalTextForGetUserPolicy() {
        assertEquals(SEED_PRODUCER, PolicyDocument.parse(SEED_PRODUCER).json());
    }

    @Test
    void acceptsASingleStatementObject() {
        PolicyDocument policy = PolicyDocument.parse(statement(
                "\"Sid\": \"Put1\", \"Effect\": \"Deny\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\""));
        assertEquals(List.of(new Statement(Optional.of("Put1"), Effect.DENY, List.of("kinesis:PutRecord"), false,
                List.of("*"), false)), policy.statements());
    }

    @Test
    void acceptsActionAndResourceAsAStringOrAList() {
        Statement fromStrings = PolicyDocument.parse(statement(
                "\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")).statements().get(0);
        Statement fromLists = PolicyDocument.parse(statement(
                "\"Effect\": \"Allow\", \"Action\": [\"kinesis:PutRecord\"], \"Resource\": [\"*\"]")).statements().get(0);
        assertEquals(fromStrings, fromLists);
    }

    @Test
    void readsNotActionAndNotResourceAsNegatedLists() {
        Statement s = PolicyDocument.parse(statement("\"Effect\": \"Allow\", \"NotAction\": [\"kinesis:DeleteStream\"],"
                + " \"NotResource\": \"arn:aws:kinesis:us-east-1:123456789012:stream/audit\"")).statements().get(0);
        assertTrue(s.notAction());
        assertTrue(s.notResource());
        assertEquals(List.of("kinesis:DeleteStream"), s.actions());
        assertEquals(List.of("arn:aws:kinesis:us-east-1:123456789012:stream/audit"), s.resources());
    }

    @Test
    void acceptsWildcardActionsAndBothVersionsOrNone() {
        String body = "\"Statement\": {\"Effect\": \"Allow\", \"Action\": [\"*\", \"kinesis:*\", \"kinesis:Get*\","
                + " \"kinesis:PutRecord?\", \"kinesis-video:Get*\"], \"Resource\": \"arn:aws:kinesis:*:*:stream/*\"}";
        assertEquals(Optional.empty(), PolicyDocument.parse("{" + body + "}").version());
        assertEquals(Optional.of("2008-10-17"), PolicyDocument.parse("{\"Version\": \"2008-10-17\", " + body + "}").version());
        assertEquals(5, PolicyDocument.parse("{\"Version\": \"2012-10-17\", \"Id\": \"p1\", " + body + "}")
                .statements().get(0).actions().size());
    }

    @Test
    void isImmutable() {
        PolicyDocument policy = PolicyDocument.parse(SEED_PRODUCER);
        assertThrows(UnsupportedOperationException.class, () -> policy.statements().clear());
        assertThrows(UnsupportedOperationException.class, () -> policy.statements().get(1).actions().clear());
    }

    @Test
    void rejectsAStatementWithoutEffect() {
        assertEquals("Missing required field Effect", rejected(statement("\"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
    }

    @Test
    void rejectsAnEffectOtherThanAllowOrDenyIncludingWrongCase() {
        assertEquals("Invalid effect: allow",
                rejected(statement("\"Effect\": \"allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
        assertEquals("Invalid effect: Permit",
                rejected(statement("\"Effect\": \"Permit\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
    }

    @Test
    void rejectsAPrincipalOrNotPrincipal() {
        assertEquals("Policy document should not specify a principal.", rejected(statement(
                "\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"*\"}, \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
        assertEquals("Policy document should not specify a principal.", rejected(statement(
                "\"Effect\": \"Deny\", \"NotPrincipal\": \"*\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
    }

    @Test
    void rejectsAConditionRatherThanIgnoringIt() {
        assertEquals("Condition is not supported by Sluice yet", rejected(statement(
                "\"Effect\": \"Deny\", \"Action\": \"kinesis:*\", \"Resource\": \"*\","
                        + " \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}")));
    }

    @Test
    void rejectsUnknownKeysInAStatementOrTheDocument() {
        assertEquals("Syntax errors in policy.", rejected(statement(
                "\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\", \"Resources\": \"*\"")));
        assertEquals("Syntax errors in policy.", rejected(statement(
                "\"effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
        assertEquals("Syntax errors in policy.", rejected(
                "{\"Version\": \"2012-10-17\", \"Comment\": \"x\", \"Statement\": []}"));
    }

    @Test
    void rejectsTextThatIsNotAJsonObject() {
        assertEquals("Syntax errors in policy.", rejected("Allow everything"));
        assertEquals("Syntax errors in policy.", rejected(""));
        assertEquals("Syntax errors in policy.", rejected("[]"));
        assertEquals("Syntax errors in policy.", rejected("\"Statement\""));
        assertEquals("Syntax errors in policy.", rejected(SEED_PRODUCER + "{}"));
    }

    @Test
    void rejectsDuplicateKeysInsteadOfKeepingTheLast() {
        assertEquals("Syntax errors in policy.", rejected(statement(
                "\"Effect\": \"Deny\", \"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"")));
    }

    @Test
    void rejectsAMissingOrEmptyStatement() {
        assertEquals("Missing required field Statement", rejected("{\"Version\": \"2012-10-17\"}"));
        assertEquals("Syntax errors in policy.", rejected("{\"Version\": \"2012-10-17\", \"Statement\": []}"));
        assertEquals("Syntax errors in policy.", rejected("{\"Version\": \"2012-10-17\", \"Statement\": [\"Allow\"]}"));
    }

    @Test
    void rejectsAnUnknownVersion() {
        assertEquals("The policy must contain a valid version string", rejected(
                "{\"Version\": \"2020-01-01\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}}"));
    }

    @Test
    void rejectsAnActionWithoutAServicePrefix() {
        assertEquals("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": \"PutRecord\", \"Resource\": \"*\"")));
        assertEquals("Invalid action: kinesis:", rejected(statement("\"Effect\": \"Allow\", \"Action\": \"kinesis:\", \"Resource\": \"*\"")));
        assertEquals("Invalid action: kinesis:Put Record",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": \"kinesis:Put Record\", \"Resource\": \"*\"")));
    }

    @Test
    void rejectsStatementsWithoutExactlyOneActionAndOneResourceElement() {
        assertEquals("Policy statement must contain actions.", rejected(statement("\"Effect\": \"Allow\", \"Resource\": \"*\"")));
        assertEquals("Policy statement must contain actions.",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": [], \"Resource\": \"*\"")));
        assertEquals("Policy statement must contain resources.",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\"")));
        assertEquals("Syntax errors in policy.", rejected(statement(
                "\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"NotAction\": \"kms:Decrypt\", \"Resource\": \"*\"")));
        assertEquals("Syntax errors in policy.", rejected(statement(
                "\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\", \"NotResource\": \"*\"")));
    }

    @Test
    void rejectsValuesOfTheWrongType() {
        assertEquals("Syntax errors in policy.", rejected(statement("\"Effect\": \"Allow\", \"Action\": 7, \"Resource\": \"*\"")));
        assertEquals("Syntax errors in policy.",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": [\"kinesis:PutRecord\", null], \"Resource\": \"*\"")));
        assertEquals("Syntax errors in policy.", rejected(statement("\"Effect\": true, \"Action\": \"*\", \"Resource\": \"*\"")));
    }

    @Test
    void rejectsAResourceThatIsNeitherAnArnNorStar() {
        assertEquals("Resource foo must be in ARN format or \"*\".",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"foo\"")));
        assertEquals("Resource arn:aws:kinesis:foo must be in ARN format or \"*\".",
                rejected(statement("\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"arn:aws:kinesis:foo\"")));
    }

    @Test
    void rejectsSidsThatAreNotAlphanumericOrNotUnique() {
        assertTrue(rejected(statement("\"Sid\": \"put-1\", \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\""))
                .startsWith("Statement IDs (SID) must be alpha-numeric."));
        assertEquals("Statement IDs (SID) in a single policy must be unique.", rejected("{\"Statement\": ["
                + "{\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},"
                + "{\"Sid\": \"A\", \"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}]}"));
    }
}
