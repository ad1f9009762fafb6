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
}
