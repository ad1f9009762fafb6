package io.sluice.node.auth;

import io.sluice.node.runtime.Redaction;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.sigv4.SigV4;
import io.sluice.protocol.sigv4.SigV4Exception;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Verifies AWS Signature Version 4 on every request: recomputes the canonical request from what
 * was actually received, checks the credential scope and the 15-minute clock window, requires the
 * headers that steer a request (host, the date used, X-Amz-Target, X-Amz-Security-Token) to be
 * signed, and compares signatures in constant time. Answers with AWS's error names and message shapes.
 */
public final class SigV4Verifier implements RequestAuthenticator {
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    /** Headers that, when a request carries them, must be signed: they choose the operation or the credentials. */
    private static final List<String> STEERING_HEADERS = List.of("X-Amz-Target", "X-Amz-Security-Token");

    /** A secret and the identity it belongs to. */
    public record Key(String secretAccessKey, Caller caller) {
        @Override
        public String toString() {
            return Redaction.toString(this, "secretAccessKey");
        }
    }

    private final String region;
    private final Function<String, Optional<Key>> keys;
    private final Duration clockSkew;
    private final Clock clock;
    private final ConcurrentHashMap<String, byte[]> signingKeys = new ConcurrentHashMap<>();

    public SigV4Verifier(String region, Function<String, Optional<Key>> keys, Duration clockSkew, Clock clock) {
        this.region = region;
        this.keys = keys;
        this.clockSkew = clockSkew;
        this.clock = clock;
    }

    /** A verifier for the account's root credentials and, through the directory, its users' active access keys. */
    public static SigV4Verifier forAccount(String region, String accountId, RootCredentials root,
                                           IdentityDirectory users, Duration clockSkew) {
        Key rootKey = new Key(root.secretAccessKey(),
                new Caller(root.accessKeyId(), "arn:aws:iam::" + accountId + ":root", "root", true));
        return new SigV4Verifier(region, id -> id.equals(root.accessKeyId()) ? Optional.of(rootKey) : users.activeKey(id),
                clockSkew, Clock.systemUTC());
    }

    @Override
    public Verified authenticate(String method, String target, List<Map.Entry<String, String>> headers, byte[] body) {
        int q = target.indexOf('?');
        SigV4.HttpRequestParts parts = new SigV4.HttpRequestParts(method, q < 0 ? target : target.substring(0, q),
                q < 0 ? "" : target.substring(q + 1), headers, body);
        List<String> authHeaders = parts.headerValues("Authorization");
        SigV4.Authorization auth;
        try {
            auth = SigV4.parseAuthorization(authHeaders.isEmpty() ? null : authHeaders.get(0));
        } catch (SigV4Exception e) {
            throw e.awsError().exception(e.getMessage());
        }
        String authorization = authHeaders.get(0);
        List<String> amzDates = parts.headerValues("X-Amz-Date");
        Instant signedAt = signedAt(amzDates, parts.headerValues("Date"), authorization);
        String amzDate = AMZ_DATE.format(signedAt.atOffset(ZoneOffset.UTC));

        Instant now = clock.instant();
        if (signedAt.isBefore(now.minus(clockSkew))) {
            throw AwsError.InvalidSignatureException.exception("Signature expired: " + amzDate + " is now earlier than "
                    + AMZ_DATE.format(now.minus(clockSkew).atOffset(ZoneOffset.UTC)) + " ("
                    + AMZ_DATE.format(now.atOffset(ZoneOffset.UTC)) + " - " + clockSkew.toMinutes() + " min.)");
        }
        if (signedAt.isAfter(now.plus(clockSkew))) {
            throw AwsError.InvalidSignatureException.exception("Signature not yet current: " + amzDate
                    + " is still later than " + AMZ_DATE.format(now.plus(clockSkew).atOffset(ZoneOffset.UTC)) + " ("
                    + AMZ_DATE.format(now.atOffset(ZoneOffset.UTC)) + " + " + clockSkew.toMinutes() + " min.)");
        }
        if (!auth.date().equals(amzDate.substring(0, 8))) {
            throw AwsError.InvalidSignatureException.exception("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"
                    + auth.date() + "' != '" + amzDate.substring(0, 8) + "', from '" + amzDate + "'.");
        }
        // IAM and STS are global services: the CLI and SDKs sign them for us-east-1 whatever region is configured
        boolean global = auth.service().equals("iam") || auth.service().equals("sts");
        if (!auth.region().equals(region) && !(global && auth.region().equals("us-east-1"))) {
            throw AwsError.InvalidSignatureException.exception("Credential should be scoped to a valid region, not '"
                    + auth.region() + "'. ");
        }
        requireSigned(auth, parts, amzDates.isEmpty() ? "Date" : "X-Amz-Date");
        Key key = keys.apply(auth.accessKeyId()).orElseThrow(() -> (global
                ? AwsError.InvalidClientTokenId : AwsError.UnrecognizedClientException)
                .exception("The security token included in the request is invalid."));

        String canonical = SigV4.canonicalRequest(parts, auth.signedHeaders(), SigV4.sha256Hex(body));
        String stringToSign = SigV4.stringToSign(amzDate, auth.scope(), canonical);
        byte[] signingKey = signingKeys.computeIfAbsent(auth.accessKeyId() + '/' + key.secretAccessKey().hashCode() + '/' + auth.scope(),
                k -> SigV4.signingKey(key.secretAccessKey(), auth.date(), auth.region(), auth.service()));
        if (signingKeys.size() > 10_000) {
            signingKeys.clear();
        }
        String expected = SigV4.signature(signingKey, stringToSign);
        if (!SigV4.constantTimeEquals(expected, auth.signature())) {
            // the Query services (IAM, STS) name a wrong signature as they name a wrong key: their own way, 403
            throw (global ? AwsError.SignatureDoesNotMatch : AwsError.InvalidSignatureException).exception(
                    MISMATCH + " Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n"
                    + "The Canonical String for this request should have been\n'" + canonical + "'\n\n"
                    + "The String-to-Sign should have been\n'" + stringToSign + "'\n");
        }
        return new Verified(key.caller(), auth.service());
    }

    /**
     * Every header that steers a request must be covered by the signature, or it can be changed
     * under a valid one: an unsigned X-Amz-Target turns a signed DescribeStream body into a
     * DeleteStream, an unsigned date moves a captured request out of its clock window.
     */
    private static void requireSigned(SigV4.Authorization auth, SigV4.HttpRequestParts parts, String dateHeader) {
        Set<String> signed = new HashSet<>();
        for (String name : auth.signedHeaders()) signed.add(name.trim().toLowerCase(Locale.ROOT));
        // an HTTP/2 client may sign the host as the :authority pseudo-header it travels in (the JavaScript SDK does)
        if (!signed.contains("host") && !signed.contains(":authority")) {
            throw AwsError.InvalidSignatureException.exception("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        }
        requireSigned(signed, dateHeader);
        for (String steering : STEERING_HEADERS) {
            if (!parts.headerValues(steering).isEmpty()) requireSigned(signed, steering);
        }
    }

    private static void requireSigned(Set<String> signed, String header) {
        if (!signed.contains(header.toLowerCase(Locale.ROOT))) {
            throw AwsError.InvalidSignatureException.exception("'" + header + "' must be a 'SignedHeader' in the AWS Authorization.");
        }
    }

    private static Instant signedAt(List<String> amzDates, List<String> dates, String authorization) {
        try {
            if (!amzDates.isEmpty()) {
                return LocalDateTime.parse(amzDates.get(0).trim(), AMZ_DATE).toInstant(ZoneOffset.UTC);
            }
            if (!dates.isEmpty()) {
                return ZonedDateTime.parse(dates.get(0).trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            }
        } catch (DateTimeParseException e) {
            throw AwsError.IncompleteSignatureException.exception("Date must be in ISO-8601 'basic format'. Got '"
                    + (amzDates.isEmpty() ? dates.get(0) : amzDates.get(0)) + "'. See http://en.wikipedia.org/wiki/ISO_8601");
        }
        throw AwsError.IncompleteSignatureException.exception("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization="
                + authorization);
    }

}
