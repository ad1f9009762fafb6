package io.sluice.node.api;

import io.sluice.node.TestConfigs;
import io.sluice.node.runtime.Timings;
import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.Caller;
import io.sluice.node.auth.RequestAuthenticator;
import io.sluice.protocol.sigv4.SigV4;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.iam.Iam.*;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The front end serving the AWS Query protocol over real HTTP: a {@link FrontEnd} bound on a free
 * port, a stub authenticator that lets the root in, and an operation table of IAM-shaped test
 * operations, so that every answer and error seen here is the protocol's, not a handler's.
 */
class AwsQueryProtocolRouteTest {
    static final String NS = "https://iam.amazonaws.com/doc/2010-05-08/";
    static final String FORM = "application/x-www-form-urlencoded; charset=utf-8";
    static final String IAM_SCOPE = "AWS4-HMAC-SHA256 Credential=AKIAROOT/20261202/us-east-1/iam/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date, Signature=0000";
    static final Caller ROOT = new Caller("AKIAROOT", "arn:aws:iam::000000000000:root", "root", true);
    static final Instant CREATED = Instant.parse("2026-12-02T07:08:27.456Z");

    static ActorTestKit testKit;
    static ServerBinding binding;
    static URI endpoint;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        testKit = ActorTestKit.create(TestConfigs.entityTests(""));
        Operations operations = new Operations(new Authorizer(null), List.of(List.of(   // the root never consults the directory
                Operation.of(Service.IAM, "GetUser", GetUserRequest.class, (c, r) -> "*",
                        (c, r, arn) -> CompletableFuture.completedFuture(new GetUserResponse(
                                User.of(r.userName(), "AIDAQWERTYUIOPASDFGH", "arn:aws:iam::000000000000:user/" + r.userName(), CREATED)))),
                Operation.of(Service.IAM, "DeleteUser", DeleteUserRequest.class, (c, r) -> "*",
                        (c, r, arn) -> CompletableFuture.failedFuture(
                                AwsError.NoSuchEntity.exception("The user with name " + r.userName() + " cannot be found."))),
                Operation.of(Service.IAM, "ListUserPolicies", ListUserPoliciesRequest.class, (c, r) -> "*",
                        (c, r, arn) -> CompletableFuture.completedFuture(new ListUserPoliciesResponse(
                                List.of("p<1>", "p&2"), r.maxItems() != null && r.maxItems() < 2, null))),
                Operation.of(Service.IAM, "DeleteUserPolicy", DeleteUserPolicyRequest.class, (c, r) -> "*",
                        (c, r, arn) -> CompletableFuture.completedFuture(null)),
                Operation.of(Service.IAM, "ListUsers", ListUsersRequest.class, (c, r) -> "*", (c, r, arn) -> {
                    throw new IllegalStateException("a bug in a handler");
                }))));
        FrontEnd frontEnd = new FrontEnd((method, target, headers, body) -> new RequestAuthenticator.Verified(ROOT,
                // the scope's service as a verifier reads it from the credential
                SigV4.parseAuthorization(headers.stream().filter(h -> h.getKey().equalsIgnoreCase("Authorization"))
                        .map(Map.Entry::getValue).findFirst().orElseThrow()).service()), operations,
                Timings.get(testKit.system()), () -> true, FrontEnd.requestTimeout(testKit.system().settings().config()));
        binding = Http.get(testKit.system()).newServerAt("127.0.0.1", 0).bind(frontEnd.route())
                .toCompletableFuture().get();
        endpoint = URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + "/");
    }

    @AfterAll
    static void stop() throws Exception {
        if (binding != null) binding.unbind().toCompletableFuture().get();
        if (testKit != null) testKit.shutdownTestKit();
    }

    static HttpResponse<String> post(String form) throws Exception {
        return send("POST", IAM_SCOPE, form);
    }

    static HttpResponse<String> send(String method, String authorization, String form) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
                .header("Content-Type", FORM)
                .header("Authorization", authorization)
                .method(method, HttpRequest.BodyPublishers.ofString(form))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    static String requestId(HttpResponse<?> r) {
        String id = r.headers().firstValue("x-amzn-RequestId").orElseThrow(() -> new AssertionError("no x-amzn-RequestId"));
        assertTrue(id.matches("[0-9a-f-]{36}"), id);
        return id;
    }

    static void assertXml(HttpResponse<?> r) {
        assertEquals("text/xml; charset=UTF-8", r.headers().firstValue("Content-Type").orElse(""));
    }

    static void assertError(HttpResponse<String> r, int status, String type, String code, String message) {
        assertEquals(status, r.statusCode(), r.body());
        assertXml(r);
        assertEquals("<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>" + type + "</Type><Code>" + code + "</Code><Message>"
                + message + "</Message></Error><RequestId>" + requestId(r) + "</RequestId></ErrorResponse>", r.body());
    }

    @Test
    void decodesTheFormAndAnswersInXml() throws Exception {
        HttpResponse<String> r = post("Action=GetUser&Version=2010-05-08&UserName=bob.smith%40example");
        assertEquals(200, r.statusCode(), r.body());
        assertXml(r);
        assertEquals("<GetUserResponse xmlns=\"" + NS + "\"><GetUserResult><User><Path>/</Path><UserName>bob.smith@example</UserName>"
                + "<UserId>AIDAQWERTYUIOPASDFGH</UserId><Arn>arn:aws:iam::000000000000:user/bob.smith@example</Arn>"
                + "<CreateDate>2026-12-02T07:08:27Z</CreateDate></User></GetUserResult><ResponseMetadata><RequestId>"
                + requestId(r) + "</RequestId></ResponseMetadata></GetUserResponse>", r.body());
    }

    @Test
    void decodesNumbersAndEscapesTextInLists() throws Exception {
        HttpResponse<String> r = post("Action=ListUserPolicies&Version=2010-05-08&UserName=ann&MaxItems=1");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("<ListUserPoliciesResponse xmlns=\"" + NS + "\"><ListUserPoliciesResult><PolicyNames>"
                + "<member>p&lt;1&gt;</member><member>p&amp;2</member></PolicyNames><IsTruncated>true</IsTruncated>"
                + "</ListUserPoliciesResult><ResponseMetadata><RequestId>" + requestId(r)
                + "</RequestId></ResponseMetadata></ListUserPoliciesResponse>", r.body());
    }

    @Test
    void anOperationWithoutOutputAnswersWithoutAResult() throws Exception {
        HttpResponse<String> r = post("Action=DeleteUserPolicy&Version=2010-05-08&UserName=ann&PolicyName=p");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("<DeleteUserPolicyResponse xmlns=\"" + NS + "\"><ResponseMetadata><RequestId>" + requestId(r)
                + "</RequestId></ResponseMetadata></DeleteUserPolicyResponse>", r.body());
    }

    @Test
    void unknownActionIsInvalidAction() throws Exception {
        assertError(post("Action=FlyToTheMoon&Version=2010-05-08"), 400, "Sender", "InvalidAction",
                "Could not find operation FlyToTheMoon for version 2010-05-08");
        assertError(post("UserName=ann"), 400, "Sender", "InvalidAction",
                "Could not find operation  for version NO_VERSION_SPECIFIED");
    }

    @Test
    void aHandlersRejectionIsAnsweredWithItsCodeAndStatus() throws Exception {
        assertError(post("Action=DeleteUser&Version=2010-05-08&UserName=ghost"), 404, "Sender", "NoSuchEntity",
                "The user with name ghost cannot be found.");
    }

    @Test
    void aMalformedFormIsASenderFault() throws Exception {
        assertError(post("Action=GetUser&Version=2010-05-08&UserName=%zz"), 400, "Sender", "InvalidQueryParameter",
                "The form parameter 'UserName=%zz' is not properly percent-encoded.");
        assertError(post("Action=ListUserPolicies&UserName=ann&MaxItems=many"), 400, "Sender", "InvalidQueryParameter",
                "Value 'many' for parameter MaxItems is not a valid integer.");
    }

    @Test
    void aServerFaultIsAReceiverFaultWithStatus500() throws Exception {
        assertError(post("Action=ListUsers&Version=2010-05-08"), 500, "Receiver", "InternalFailure", "Internal service error");
    }

    @Test
    void onlyPostToTheRootIsServed() throws Exception {
        assertError(send("PUT", IAM_SCOPE, "Action=GetUser&UserName=ann"), 400, "Sender", "InvalidAction",
                "Sluice serves the IAM Query protocol as POST / only.");
    }

    @Test
    void aCredentialScopedToAnotherServiceIsRefused() throws Exception {
        assertError(send("POST", IAM_SCOPE.replace("/iam/", "/kinesis/"), "Action=GetUser&UserName=ann"), 400, "Sender",
                "InvalidSignatureException", "Credential should be scoped to correct service: 'iam'. ");
    }
}
