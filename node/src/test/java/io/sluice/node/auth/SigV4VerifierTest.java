package io.sluice.node.auth;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.sigv4.SigV4;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class SigV4VerifierTest {
    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");
    private static final Caller ALICE = new Caller("AKIDALICE", "arn:aws:iam::000000000000:user/alice", "alice", false);
    private final SigV4Verifier verifier = new SigV4Verifier("us-east-1",
            id -> id.equals("AKIDALICE") ? Optional.of(new SigV4Verifier.Key("alice-secret", ALICE)) : Optional.empty(),
            Duration.ofMinutes(15), Clock.fixed(NOW, ZoneOffset.UTC));
    private final byte[] body = "{\"StreamName\":\"foo\"}".getBytes(StandardCharsets.UTF_8);

    private List<Map.Entry<String, String>> signed(String keyId, String secret, String region, Instant at, byte[] payload) {
        List<Map.Entry<String, String>> headers = new ArrayList<>(List.of(
                new AbstractMap.SimpleImmutableEntry<>("Host", "127.0.0.1:4567"),
                new AbstractMap.SimpleImmutableEntry<>("Content-Type", "application/x-amz-json-1.1"),
                new AbstractMap.SimpleImmutableEntry<>("X-Amz-Target", "Kinesis_20131202.DescribeStream")));
        headers.addAll(SigV4.sign(new SigV4.HttpRequestParts("POST", "/", "", headers, payload), keyId, secret, region,
                "kinesis", at));
        return headers;
    }

    private ApiException refused(List<Map.Entry<String, String>> headers, byte[] payload) {
        return assertThrows(ApiException.class, () -> verifier.authenticate("POST", "/", headers, payload));
    }

    @Test
    void acceptsACorrectSignatureAndNamesTheCaller() {
        assertEquals(ALICE, verifier.authenticate("POST", "/", signed("AKIDALICE", "alice-secret", "us-east-1", NOW, body), body).caller());
    }

    @Test
    void refusesAnAlteredBody() {
        ApiException e = refused(signed("AKIDALICE", "alice-secret", "us-east-1", NOW, body), "{\"StreamName\":\"bar\"}".getBytes());
        assertEquals(AwsError.InvalidSignatureException, e.error());
        assertTrue(e.getMessage().startsWith("The request signature we calculated does not match the signature you provided."));
    }

    @Test
    void refusesTheWrongSecret() {
        assertEquals(AwsError.InvalidSignatureException,
                refused(signed("AKIDALICE", "not-the-secret", "us-east-1", NOW, body), body).error());
    }

    @Test
    void refusesUnknownKeys() {
        ApiException e = refused(signed("AKIDNOBODY", "x", "us-east-1", NOW, body), body);
        assertEquals(AwsError.UnrecognizedClientException, e.error());
        assertEquals("The security token included in the request is invalid.", e.getMessage());
    }

    @Test
    void refusesRequestsSignedOutsideTheFifteenMinuteWindow() {
        ApiException old = refused(signed("AKIDALICE", "alice-secret", "us-east-1", NOW.minus(Duration.ofMinutes(16)), body), body);
        assertEquals(AwsError.InvalidSignatureException, old.error());
        assertTrue(old.getMessage().startsWith("Signature expired: 20261128T114400Z is now earlier than 20261128T114500Z"), old.getMessage());
        ApiException future = refused(signed("AKIDALICE", "alice-secret", "us-east-1", NOW.plus(Duration.ofMinutes(16)), body), body);
        assertTrue(future.getMessage().startsWith("Signature not yet current"));
        assertEquals(ALICE, verifier.authenticate("POST", "/",
                signed("AKIDALICE", "alice-secret", "us-east-1", NOW.minus(Duration.ofMinutes(14)), body), body).caller());
    }

    @Test
    void refusesAnotherRegion() {
        assertTrue(refused(signed("AKIDALICE", "alice-secret", "eu-west-1", NOW, body), body).getMessage()
                .startsWith("Credential should be scoped to a valid region"));
    }

    @Test
    void missingOrIncompleteAuthorizationHasItsOwnErrors() {
        List<Map.Entry<String, String>> none = List.of(new AbstractMap.SimpleImmutableEntry<>("Host", "h"));
        assertEquals(AwsError.MissingAuthenticationTokenException, refused(none, body).error());
        List<Map.Entry<String, String>> incomplete = List.of(new AbstractMap.SimpleImmutableEntry<>("Host", "h"),
                new AbstractMap.SimpleImmutableEntry<>("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDALICE/20261128/us-east-1/kinesis/aws4_request"));
        assertEquals(AwsError.IncompleteSignatureException, refused(incomplete, body).error());
    }

    private static Map.Entry<String, String> header(String name, String value) {
        return new AbstractMap.SimpleImmutableEntry<>(name, value);
    }

    /**
     * Alice's valid signature over exactly {@code signedNames} ({@link SigV4#sign} signs every x-amz-* header),
     * dated {@code amzDate}: a request whose only fault is which headers it leaves unsigned.
     */
    private List<Map.Entry<String, String>> signedOnly(List<Map.Entry<String, String>> headers, String amzDate,
                                                       String... signedNames) {
        SigV4.HttpRequestParts parts = new SigV4.HttpRequestParts("POST", "/", "", headers, body);
        String canonical = SigV4.canonicalRequest(parts, List.of(signedNames), SigV4.sha256Hex(body));
        String date = amzDate.substring(0, 8);
        String signature = SigV4.signature("alice-secret", date, "us-east-1", "kinesis",
                SigV4.stringToSign(amzDate, SigV4.scope(date, "us-east-1", "kinesis"), canonical));
        List<Map.Entry<String, String>> out = new ArrayList<>(headers);
        out.add(header("Authorization", new SigV4.Authorization("AKIDALICE", date, "us-east-1", "kinesis",
                List.of(signedNames), signature).toHeaderValue()));
        return out;
    }

    private static List<Map.Entry<String, String>> describeStream(String target) {
        return List.of(header("Host", "127.0.0.1:4567"), header("Content-Type", "application/x-amz-json-1.1"),
                header("X-Amz-Date", "20261128T120000Z"), header("X-Amz-Target", target));
    }

    @Test
    void refusesAnUnsignedTargetSoASignedBodyCannotBeSentToAnotherOperation() {
        // {"StreamName":"foo"} signed for DescribeStream is just as valid a DeleteStream body
        List<Map.Entry<String, String>> retargeted = signedOnly(describeStream("Kinesis_20131202.DeleteStream"),
                "20261128T120000Z", "content-type", "host", "x-amz-date");
        ApiException e = refused(retargeted, body);
        assertEquals(AwsError.InvalidSignatureException, e.error());
        assertEquals("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.", e.getMessage());
        assertEquals(ALICE, verifier.authenticate("POST", "/", signedOnly(describeStream("Kinesis_20131202.DescribeStream"),
                "20261128T120000Z", "content-type", "host", "x-amz-date", "x-amz-target"), body).caller());
    }

    @Test
    void refusesAnUnsignedXAmzDate() {
        ApiException e = refused(signedOnly(describeStream("Kinesis_20131202.DescribeStream"), "20261128T120000Z",
                "content-type", "host", "x-amz-target"), body);
        assertEquals(AwsError.InvalidSignatureException, e.error());
        assertEquals("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.", e.getMessage());
    }

    @Test
    void requiresTheDateHeaderSignedWhenItIsTheDateTheRequestCarries() {
        List<Map.Entry<String, String>> headers = List.of(header("Host", "127.0.0.1:4567"),
                header("Content-Type", "application/x-amz-json-1.1"), header("Date", "Sat, 28 Nov 2026 12:00:00 GMT"),
                header("X-Amz-Target", "Kinesis_20131202.DescribeStream"));
        ApiException e = refused(signedOnly(headers, "20261128T120000Z", "content-type", "host", "x-amz-target"), body);
        assertEquals(AwsError.InvalidSignatureException, e.error());
        assertEquals("'Date' must be a 'SignedHeader' in the AWS Authorization.", e.getMessage());
        assertEquals(ALICE, verifier.authenticate("POST", "/",
                signedOnly(headers, "20261128T120000Z", "content-type", "date", "host", "x-amz-target"), body).caller());
    }

    @Test
    void refusesAnUnsignedSecurityToken() {
        List<Map.Entry<String, String>> headers = new ArrayList<>(describeStream("Kinesis_20131202.DescribeStream"));
        headers.add(header("X-Amz-Security-Token", "session-token"));
        ApiException e = refused(signedOnly(headers, "20261128T120000Z", "content-type", "host", "x-amz-date", "x-amz-target"), body);
        assertEquals(AwsError.InvalidSignatureException, e.error());
        assertEquals("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.", e.getMessage());
        assertEquals(ALICE, verifier.authenticate("POST", "/", signedOnly(headers, "20261128T120000Z",
                "content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"), body).caller());
    }

    @Test
    void refusesAnUnsignedHost() {
        ApiException e = refused(signedOnly(describeStream("Kinesis_20131202.DescribeStream"), "20261128T120000Z",
                "content-type", "x-amz-date", "x-amz-target"), body);
        assertEquals(AwsError.InvalidSignatureException, e.error());
        assertEquals("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", e.getMessage());
    }

    @Test
    void acceptsUnsignedHeadersThatSteerNothing() {
        List<Map.Entry<String, String>> headers = new ArrayList<>(describeStream("Kinesis_20131202.DescribeStream"));
        headers.add(header("User-Agent", "aws-cli/2"));
        assertEquals(ALICE, verifier.authenticate("POST", "/", signedOnly(headers, "20261128T120000Z",
                "host", "x-amz-date", "x-amz-target"), body).caller());
    }

    @Test
    void acceptsTheHostSignedAsTheHttp2AuthorityPseudoHeader() {
        // the JavaScript SDK over HTTP/2 signs ":authority" and sends no Host; the front end hands the pseudo-header over
        List<Map.Entry<String, String>> headers = List.of(header(":authority", "127.0.0.1:4567"),
                header("Content-Type", "application/x-amz-json-1.1"), header("X-Amz-Date", "20261128T120000Z"),
                header("X-Amz-Target", "Kinesis_20131202.DescribeStream"));
        List<Map.Entry<String, String>> signed = signedOnly(headers, "20261128T120000Z",
                ":authority", "content-type", "x-amz-date", "x-amz-target");
        assertEquals(ALICE, verifier.authenticate("POST", "/", signed, body).caller());

        List<Map.Entry<String, String>> elsewhere = new ArrayList<>(signed);
        elsewhere.set(0, header(":authority", "127.0.0.1:4568"));
        assertEquals(AwsError.InvalidSignatureException, refused(elsewhere, body).error());
    }
}
