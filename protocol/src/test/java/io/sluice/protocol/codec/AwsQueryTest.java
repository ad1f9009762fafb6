package io.sluice.protocol.codec;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.iam.Iam.*;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Query codec against the exact answers Sluice's hand-written IAM XML gave before it (the
 * expected strings are that code's output for the same values), and reading forms as botocore and
 * the SDKs write them.
 */
class AwsQueryTest {
    static final String NS = "https://iam.amazonaws.com/doc/2010-05-08/";
    static final String RID = "6f1d7c52-8a3e-4b1f-9c1e-2f0a7b3c4d5e";
    static final Instant T1 = Instant.parse("2026-12-02T07:08:27.456Z");
    static final Instant T2 = Instant.parse("2027-01-15T23:59:59.999Z");
    static final User ANN = User.of("ann", "AIDAQWERTYUIOPASDFGH", "arn:aws:iam::000000000000:user/ann", T1);
    static final User BOB = User.of("bob.smith@example", "AIDAZXCVBNMLKJHGFDSA",
            "arn:aws:iam::000000000000:user/bob.smith@example", T2);

    static String answer(String action, Object result) {
        return AwsQuery.answer(NS, action, result, RID);
    }

    static byte[] body(String form) {
        return form.getBytes(StandardCharsets.UTF_8);
    }

    // ---- answers, element for element as before

    @Test
    void answersUserOperationsAsBefore() {
        assertEquals("<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateUserResult><User>"
                + "<Path>/</Path><UserName>ann</UserName><UserId>AIDAQWERTYUIOPASDFGH</UserId>"
                + "<Arn>arn:aws:iam::000000000000:user/ann</Arn><CreateDate>2026-12-02T07:08:27Z</CreateDate>"
                + "</User></CreateUserResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</CreateUserResponse>",
                answer("CreateUser", new CreateUserResponse(ANN)));
        assertEquals("<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult><User>"
                + "<Path>/</Path><UserName>bob.smith@example</UserName><UserId>AIDAZXCVBNMLKJHGFDSA</UserId>"
                + "<Arn>arn:aws:iam::000000000000:user/bob.smith@example</Arn>"
                + "<CreateDate>2027-01-15T23:59:59Z</CreateDate></User></GetUserResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata></GetUserResponse>",
                answer("GetUser", new GetUserResponse(BOB)));
        assertEquals("<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult><User>"
                + "<UserId>000000000000</UserId><Arn>arn:aws:iam::000000000000:root</Arn>"
                + "<CreateDate>1970-01-01T00:00:00Z</CreateDate></User></GetUserResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata></GetUserResponse>",
                answer("GetUser", new GetUserResponse(new User(null, null, "000000000000", "arn:aws:iam::000000000000:root",
                        Instant.EPOCH, null, null, null))));
    }

    @Test
    void answersListsAsMembersAsBefore() {
        assertEquals("<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUsersResult>"
                + "<IsTruncated>false</IsTruncated><Users><member><Path>/</Path><UserName>ann</UserName>"
                + "<UserId>AIDAQWERTYUIOPASDFGH</UserId><Arn>arn:aws:iam::000000000000:user/ann</Arn>"
                + "<CreateDate>2026-12-02T07:08:27Z</CreateDate></member><member><Path>/</Path>"
                + "<UserName>bob.smith@example</UserName><UserId>AIDAZXCVBNMLKJHGFDSA</UserId>"
                + "<Arn>arn:aws:iam::000000000000:user/bob.smith@example</Arn>"
                + "<CreateDate>2027-01-15T23:59:59Z</CreateDate></member></Users></ListUsersResult>"
                + "<ResponseMetadata><RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</ListUsersResponse>",
                answer("ListUsers", new ListUsersResponse(false, List.of(ANN, BOB), null)));
        assertEquals("<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUsersResult>"
                + "<IsTruncated>false</IsTruncated><Users></Users></ListUsersResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</ListUsersResponse>",
                answer("ListUsers", new ListUsersResponse(false, List.of(), null)));
        assertEquals("<ListUserPoliciesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                + "<ListUserPoliciesResult><PolicyNames><member>list</member><member>read-all</member>"
                + "</PolicyNames><IsTruncated>false</IsTruncated></ListUserPoliciesResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</ListUserPoliciesResponse>",
                answer("ListUserPolicies", new ListUserPoliciesResponse(List.of("list", "read-all"), false, null)));
        assertEquals("<ListUserPoliciesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                + "<ListUserPoliciesResult><PolicyNames></PolicyNames><IsTruncated>false</IsTruncated>"
                + "</ListUserPoliciesResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</ListUserPoliciesResponse>",
                answer("ListUserPolicies", new ListUserPoliciesResponse(List.of(), false, null)));
    }

    @Test
    void answersAccessKeyOperationsAsBefore() {
        assertEquals("<CreateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                + "<CreateAccessKeyResult><AccessKey><UserName>ann</UserName>"
                + "<AccessKeyId>AKIAABCDEFGHIJKLMNOP</AccessKeyId><Status>Active</Status>"
                + "<SecretAccessKey>q1w2e3r4t5y6u7i8o9p0+/asdfghjklzxcvbnm1234</SecretAccessKey>"
                + "<CreateDate>2026-12-02T07:08:27Z</CreateDate></AccessKey></CreateAccessKeyResult>"
                + "<ResponseMetadata><RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</CreateAccessKeyResponse>",
                answer("CreateAccessKey", new CreateAccessKeyResponse(new AccessKey("ann", "AKIAABCDEFGHIJKLMNOP", "Active",
                        "q1w2e3r4t5y6u7i8o9p0+/asdfghjklzxcvbnm1234", T1))));
        assertEquals("<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAccessKeysResult>"
                + "<UserName>ann</UserName><AccessKeyMetadata><member><UserName>ann</UserName>"
                + "<AccessKeyId>AKIAABCDEFGHIJKLMNOP</AccessKeyId><Status>Active</Status>"
                + "<CreateDate>2026-12-02T07:08:27Z</CreateDate></member><member><UserName>ann</UserName>"
                + "<AccessKeyId>AKIAPONMLKJIHGFEDCBA</AccessKeyId><Status>Inactive</Status>"
                + "<CreateDate>2027-01-15T23:59:59Z</CreateDate></member></AccessKeyMetadata>"
                + "<IsTruncated>false</IsTruncated></ListAccessKeysResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</ListAccessKeysResponse>",
                answer("ListAccessKeys", new ListAccessKeysResponse("ann", List.of(
                        new AccessKeyMetadata("ann", "AKIAABCDEFGHIJKLMNOP", "Active", T1),
                        new AccessKeyMetadata("ann", "AKIAPONMLKJIHGFEDCBA", "Inactive", T2)), false, null)));
        assertEquals("<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAccessKeysResult>"
                + "<UserName>ann</UserName><AccessKeyMetadata></AccessKeyMetadata><IsTruncated>false</IsTruncated>"
                + "</ListAccessKeysResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</ListAccessKeysResponse>",
                answer("ListAccessKeys", new ListAccessKeysResponse("ann", List.of(), false, null)));
    }

    @Test
    void answersPolicyDocumentsAsBefore() {
        assertEquals("<GetUserPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserPolicyResult>"
                + "<UserName>ann</UserName><PolicyName>list</PolicyName>"
                + "<PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22kinesis%3AListStreams%22%2C%22Resource%22%3A%22*%22%7D%5D%7D</PolicyDocument>"
                + "</GetUserPolicyResult><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</GetUserPolicyResponse>",
                answer("GetUserPolicy", new GetUserPolicyResponse("ann", "list",
                        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"
                                + "%22Action%22%3A%22kinesis%3AListStreams%22%2C%22Resource%22%3A%22*%22%7D%5D%7D")));
    }

    @Test
    void operationWithoutOutputHasNoResultElement() {
        assertEquals("<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata>"
                + "<RequestId>" + RID + "</RequestId></ResponseMetadata>"
                + "</DeleteUserResponse>",
                answer("DeleteUser", null));
    }

    @Test
    void recordWithoutMembersIsAnEmptyResult() {
        record Nothing(String absent) {}
        assertEquals("<PingResponse xmlns=\"" + NS + "\"><PingResult></PingResult><ResponseMetadata><RequestId>" + RID
                + "</RequestId></ResponseMetadata></PingResponse>", answer("Ping", new Nothing(null)));
    }

    // ---- errors

    @Test
    void errorsAreSenderFaultsOrReceiverFaultsAsBefore() {
        assertEquals("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
                + "<Code>NoSuchEntity</Code><Message>The user with name ann cannot be found.</Message></Error>"
                + "<RequestId>" + RID + "</RequestId></ErrorResponse>",
                AwsQuery.error(NS, AwsError.NoSuchEntity.exception("The user with name ann cannot be found."), RID));
        assertEquals("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Receiver</Type>"
                + "<Code>InternalFailure</Code><Message>Internal service error</Message></Error>"
                + "<RequestId>" + RID + "</RequestId></ErrorResponse>",
                AwsQuery.error(NS, AwsError.InternalFailure.exception("Internal service error"), RID));
        assertEquals("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Receiver</Type>"
                + "<Code>ServiceUnavailable</Code>"
                + "<Message>The service could not answer in time; retry the request.</Message></Error>"
                + "<RequestId>" + RID + "</RequestId></ErrorResponse>",
                AwsQuery.error(NS, AwsError.ServiceUnavailable.exception(
                        "The service could not answer in time; retry the request."), RID));
    }

    @Test
    void textIsEscapedWhereXmlRequiresAndReadsTheSameAsBefore() throws Exception {
        String before = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
                + "<Code>ValidationError</Code>"
                + "<Message>Value &apos;a&lt;b&gt;&amp;&quot;c&quot;&apos; at &apos;status&apos; failed</Message>"
                + "</Error><RequestId>" + RID + "</RequestId></ErrorResponse>";
        String now = AwsQuery.error(NS, AwsError.ValidationError.exception("Value 'a<b>&\"c\"' at 'status' failed"), RID);
        // quotes in text need no escaping; everything else is as before
        assertEquals(before.replace("&apos;", "'").replace("&quot;", "\""), now);
        assertTrue(parse(before).isEqualNode(parse(now)));
        assertEquals("Value 'a<b>&\"c\"' at 'status' failed",
                parse(now).getElementsByTagName("Message").item(0).getTextContent());
    }

    static Document parse(String xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document document = factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        document.normalizeDocument();
        return document;
    }

    @Test
    void anErrorWithoutMessageHasAnEmptyMessage() {
        assertTrue(AwsQuery.error(NS, new ApiException(AwsError.InternalFailure, null), RID)
                .contains("<Code>InternalFailure</Code><Message></Message></Error>"));
    }

    // ---- reading forms

    @Test
    void readsPascalCaseParametersIntoTheRequestRecord() {
        Map<String, String> form = AwsQuery.form(body("Action=PutUserPolicy&Version=2010-05-08&UserName=ann"
                + "&PolicyName=list&PolicyDocument=%7B%22Version%22%3A+%222012-10-17%22%7D"));
        assertEquals("PutUserPolicy", form.get("Action"));
        assertEquals(new PutUserPolicyRequest("ann", "list", "{\"Version\": \"2012-10-17\"}"),
                AwsQuery.read(form, PutUserPolicyRequest.class));
    }

    @Test
    void absentParametersAreNullAndEmptyOnesEmpty() {
        assertEquals(new UpdateAccessKeyRequest(null, "AKIAABCDEFGHIJKLMNOP", ""),
                AwsQuery.read(AwsQuery.form(body("Action=UpdateAccessKey&AccessKeyId=AKIAABCDEFGHIJKLMNOP&Status=")),
                        UpdateAccessKeyRequest.class));
        assertEquals(new GetUserRequest(null), AwsQuery.read(AwsQuery.form(body("Action=GetUser&&Version=2010-05-08")),
                GetUserRequest.class));
        assertEquals(new GetUserRequest(""), AwsQuery.read(AwsQuery.form(body("UserName")), GetUserRequest.class));
    }

    @Test
    void readsNumbers() {
        assertEquals(new ListAccessKeysRequest("ann", "m1", 5),
                AwsQuery.read(AwsQuery.form(body("UserName=ann&Marker=m1&MaxItems=5")), ListAccessKeysRequest.class));
    }

    @Test
    void readsListsOfStructuresAsMembers() {
        CreateUserRequest r = AwsQuery.read(AwsQuery.form(body("Action=CreateUser&UserName=ann&Path=%2Fteam%2F"
                + "&Tags.member.1.Key=team&Tags.member.1.Value=data&Tags.member.2.Key=cost%20centre&Tags.member.2.Value=42")),
                CreateUserRequest.class);
        assertEquals(new CreateUserRequest("/team/", "ann", null, List.of(new Tag("team", "data"), new Tag("cost centre", "42"))), r);
        assertEquals(List.of(), AwsQuery.read(AwsQuery.form(body("UserName=ann&Tags=")), CreateUserRequest.class).tags());
        assertNull(AwsQuery.read(AwsQuery.form(body("UserName=ann")), CreateUserRequest.class).tags());
    }

    @Test
    void readsListsOfScalarsAndNestedStructures() {
        record Filter(String name, Boolean exact) {}
        record Search(List<String> names, Filter filter, Instant since) {}
        assertEquals(new Search(List.of("a", "b"), new Filter("x", true), T2),
                AwsQuery.read(AwsQuery.form(body("Names.member.1=a&Names.member.2=b&Filter.Name=x&Filter.Exact=true"
                        + "&Since=2027-01-15T23:59:59.999Z")), Search.class));
        assertEquals(new Search(null, null, null), AwsQuery.read(AwsQuery.form(body("Names.member.2=b")), Search.class));
    }

    @Test
    void refusesValuesThatDoNotFitTheirMember() {
        ApiException notANumber = assertThrows(ApiException.class,
                () -> AwsQuery.read(AwsQuery.form(body("UserName=ann&MaxItems=many")), ListUsersRequest.class));
        assertEquals(AwsError.InvalidQueryParameter, notANumber.error());
        assertEquals("Value 'many' for parameter MaxItems is not a valid integer.", notANumber.getMessage());
        record Flag(Boolean on) {}
        assertEquals(AwsError.InvalidQueryParameter,
                assertThrows(ApiException.class, () -> AwsQuery.read(Map.of("On", "yes"), Flag.class)).error());
    }

    @Test
    void refusesMalformedPercentEncoding() {
        ApiException e = assertThrows(ApiException.class, () -> AwsQuery.form(body("Action=GetUser&UserName=%zz")));
        assertEquals(AwsError.InvalidQueryParameter, e.error());
        assertEquals(AwsError.Fault.CLIENT, e.error().fault());
        assertEquals("The form parameter 'UserName=%zz' is not properly percent-encoded.", e.getMessage());
    }

    @Test
    void writesNestedRecordsBooleansAndTimestampsInDeclarationOrder() {
        record Inner(Boolean flag, Integer count) {}
        record Outer(String name, Inner inner, List<Inner> items, Instant at) {}
        assertEquals("<DoResponse xmlns=\"" + NS + "\"><DoResult><Name>n &amp; m</Name><Inner><Flag>true</Flag><Count>3</Count>"
                        + "</Inner><Items><member><Flag>false</Flag></member></Items><At>2026-12-02T07:08:27Z</At></DoResult>"
                        + "<ResponseMetadata><RequestId>" + RID + "</RequestId></ResponseMetadata></DoResponse>",
                answer("Do", new Outer("n & m", new Inner(true, 3), List.of(new Inner(false, null)), T1)));
    }
}
