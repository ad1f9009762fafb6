package io.sluice.protocol.sigv4;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Signature Version 4 ({@code AWS4-HMAC-SHA256} in the {@code Authorization} header), written against the
 * JDK alone. The server uses it to verify requests ({@link #parseAuthorization}, {@link #canonicalRequest},
 * {@link #stringToSign}, {@link #signingKey}, {@link #signature}, {@link #constantTimeEquals}); load-test
 * clients use {@link #sign} to produce the headers a real SDK would send.
 */
public final class SigV4 {

    public static final String ALGORITHM = "AWS4-HMAC-SHA256";
    public static final String TERMINATOR = "aws4_request";
    /** SHA-256 of zero bytes, the payload hash of every body-less request. */
    public static final String EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static final DateTimeFormatter AMZ_DATE =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    // STRICT, so that 20150230 is refused instead of quietly becoming 20150228
    private static final DateTimeFormatter SCOPE_DATE =
            DateTimeFormatter.ofPattern("uuuuMMdd", Locale.ROOT).withResolverStyle(ResolverStyle.STRICT);
    private static final HexFormat HEX = HexFormat.of();
    private static final char[] UPPER_HEX = "0123456789ABCDEF".toCharArray();

    private SigV4() {
    }

    /**
     * The parts of an HTTP request that take part in the signature.
     *
     * @param method   the request method as sent, e.g. {@code POST}
     * @param rawPath  the path exactly as it arrived on the wire (still percent-encoded, not decoded by the
     *                 HTTP stack): the canonical URI is computed from these bytes
     * @param rawQuery the query string as it arrived, without {@code ?}; {@code null} or empty when absent
     * @param headers  header names as received (any case), in order, a name repeated once per occurrence
     * @param payload  the body; {@code null} for none
     */
    public record HttpRequestParts(String method, String rawPath, String rawQuery,
                                   List<Map.Entry<String, String>> headers, byte[] payload) {
        public HttpRequestParts {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(rawPath, "rawPath");
            rawQuery = rawQuery == null ? "" : rawQuery;
            // Map.entry copies, so a caller's mutable entry cannot change what was signed
            headers = headers == null ? List.of()
                    : headers.stream().map(e -> Map.entry(e.getKey(), e.getValue())).toList();
            payload = payload == null ? new byte[0] : payload;
        }

        /** Every value of the header named {@code name} (case-insensitive), in the order received. */
        public List<String> headerValues(String name) {
            List<String> values = new ArrayList<>();
            for (Map.Entry<String, String> header : headers) {
                if (header.getKey().equalsIgnoreCase(name)) {
                    values.add(header.getValue());
                }
            }
            return values;
        }

        /** A copy with one more header at the end. */
        public HttpRequestParts withHeader(String name, String value) {
            List<Map.Entry<String, String>> more = new ArrayList<>(headers);
            more.add(Map.entry(name, value));
            return new HttpRequestParts(method, rawPath, rawQuery, more, payload);
        }
    }

    /**
     * The parameters of an {@code AWS4-HMAC-SHA256} {@code Authorization} header.
     *
     * @param signedHeaders the names exactly as listed after {@code SignedHeaders=}
     */
    public record Authorization(String accessKeyId, String date, String region, String service,
                                List<String> signedHeaders, String signature) {
        public Authorization {
            signedHeaders = List.copyOf(signedHeaders);
        }

        /** {@code date/region/service/aws4_request}. */
        public String scope() {
            return SigV4.scope(date, region, service);
        }

        /** The header value, in the layout the AWS SDKs send. */
        public String toHeaderValue() {
            return ALGORITHM + " Credential=" + accessKeyId + "/" + scope()
                    + ", SignedHeaders=" + String.join(";", signedHeaders)
                    + ", Signature=" + signature;
        }
    }

    /** How the path becomes the canonical URI. */
    public enum PathMode {
        /**
         * Every service but S3: remove {@code .} and {@code ..} segments and empty segments, then URI-encode the
         * wire path once more, so a {@code %20} sent by the client appears as {@code %2520}.
         */
        NORMALIZED,
        /** As {@link #NORMALIZED} but without removing segments (the test suite's {@code "normalize": false}). */
        UNNORMALIZED,
        /** S3: the path as is, encoded exactly once, i.e. the wire path decoded and re-encoded. */
        S3;

        public static PathMode forService(String service) {
            return "s3".equals(service) ? S3 : NORMALIZED;
        }
    }

    /** {@code yyyyMMdd'T'HHmmss'Z'}, the format of {@code X-Amz-Date}. */
    public static String amzDate(Instant instant) {
        return AMZ_DATE.format(instant);
    }

    /** {@code date/region/service/aws4_request}. */
    public static String scope(String date, String region, String service) {
        return date + "/" + region + "/" + service + "/" + TERMINATOR;
    }

    /** The canonical request with the path handled as for every service but S3. */
    public static String canonicalRequest(HttpRequestParts parts, List<String> signedHeaderNames, String payloadHashHex) {
        return canonicalRequest(parts, signedHeaderNames, payloadHashHex, PathMode.NORMALIZED);
    }

    /**
     * The canonical request. Signed header names are compared case-insensitively and listed lowercased and
     * sorted; a signed header absent from the request is written with an empty value, which can only match a
     * signature made over an empty value.
     */
    public static String canonicalRequest(HttpRequestParts parts, List<String> signedHeaderNames, String payloadHashHex,
                                          PathMode pathMode) {
        TreeSet<String> signed = new TreeSet<>();
        for (String name : signedHeaderNames) {
            signed.add(name.trim().toLowerCase(Locale.ROOT));
        }
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> header : parts.headers()) {
            String name = header.getKey().trim().toLowerCase(Locale.ROOT);
            if (signed.contains(name)) {
                values.computeIfAbsent(name, n -> new ArrayList<>()).add(canonicalHeaderValue(header.getValue()));
            }
        }
        StringBuilder out = new StringBuilder(256);
        out.append(parts.method()).append('\n');
        out.append(canonicalUri(parts.rawPath(), pathMode)).append('\n');
        out.append(canonicalQueryString(parts.rawQuery())).append('\n');
        for (String name : signed) {
            out.append(name).append(':').append(String.join(",", values.getOrDefault(name, List.of()))).append('\n');
        }
        out.append('\n');
        out.append(String.join(";", signed)).append('\n');
        out.append(payloadHashHex);
        return out.toString();
    }

    /** The canonical URI for a path as received on the wire. */
    public static String canonicalUri(String rawPath, PathMode pathMode) {
        if (rawPath.isEmpty()) {
            return "/";
        }
        switch (pathMode) {
            case UNNORMALIZED:
                return uriEncode(rawPath.getBytes(StandardCharsets.UTF_8), true);
            case S3: {
                StringBuilder out = new StringBuilder(rawPath.length() + 16);
                String[] segments = rawPath.split("/", -1);
                for (int i = 0; i < segments.length; i++) {
                    if (i > 0) {
                        out.append('/');
                    }
                    out.append(uriEncode(percentDecode(segments[i]), false));
                }
                return out.toString();
            }
            default: {
                String[] segments = rawPath.split("/", -1);
                Deque<String> kept = new ArrayDeque<>();
                for (String segment : segments) {
                    if (segment.equals("..")) {
                        kept.pollLast();
                    } else if (!segment.isEmpty() && !segment.equals(".")) {
                        kept.addLast(segment);
                    }
                }
                String last = segments[segments.length - 1];
                // RFC 3986 keeps the directory form after a trailing "/", "." or ".."
                boolean trailingSlash = last.isEmpty() || last.equals(".") || last.equals("..");
                StringBuilder out = new StringBuilder(rawPath.length() + 16);
                for (String segment : kept) {
                    out.append('/').append(uriEncode(segment.getBytes(StandardCharsets.UTF_8), false));
                }
                if (out.length() == 0 || trailingSlash) {
                    out.append('/');
                }
                return out.toString();
            }
        }
    }

    /**
     * The canonical query string: each name and value percent-decoded then encoded once (so a client's
     * encoding choices do not matter), pairs sorted by encoded name then value. {@code +} is a literal plus,
     * as in RFC 3986, not a space.
     */
    public static String canonicalQueryString(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> pairs = new ArrayList<>();
        for (String piece : rawQuery.split("&")) {
            if (piece.isEmpty()) {
                continue;
            }
            int eq = piece.indexOf('=');
            String name = eq < 0 ? piece : piece.substring(0, eq);
            String value = eq < 0 ? "" : piece.substring(eq + 1);
            pairs.add(new String[] {uriEncode(percentDecode(name), false), uriEncode(percentDecode(value), false)});
        }
        // encoded strings are ASCII, so String order is byte order as the specification asks
        pairs.sort(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]));
        StringBuilder out = new StringBuilder(rawQuery.length() + 16);
        for (String[] pair : pairs) {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(pair[0]).append('=').append(pair[1]);
        }
        return out.toString();
    }

    /** RFC 3986 encoding of the UTF-8 bytes of {@code value}: only {@code A-Za-z0-9-_.~} stay as they are. */
    public static String uriEncode(String value) {
        return uriEncode(value.getBytes(StandardCharsets.UTF_8), false);
    }

    /** {@code AWS4-HMAC-SHA256}, the date, the scope and the hash of the canonical request, one per line. */
    public static String stringToSign(String amzDate, String scope, String canonicalRequest) {
        return ALGORITHM + '\n' + amzDate + '\n' + scope + '\n'
                + sha256Hex(canonicalRequest.getBytes(StandardCharsets.UTF_8));
    }

    /** The key for one day, region and service: HMAC-SHA256 of each in turn, starting from {@code "AWS4" + secret}. */
    public static byte[] signingKey(String secret, String date, String region, String service) {
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, service);
        return hmac(key, TERMINATOR);
    }

    /** The lowercase hex HMAC-SHA256 of the string to sign. */
    public static String signature(byte[] signingKey, String stringToSign) {
        return HEX.formatHex(hmac(signingKey, stringToSign));
    }

    /** {@link #signature(byte[], String)} with the key derived from the secret. */
    public static String signature(String secret, String date, String region, String service, String stringToSign) {
        return signature(signingKey(secret, date, region, service), stringToSign);
    }

    public static String sha256Hex(byte[] data) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Signs a request as an AWS SDK would, for clients and tests. Signs {@code host} (which must be present,
     * even when the HTTP client sets it itself), {@code x-amz-date}, {@code content-type} if present and every
     * {@code x-amz-*} header present ({@code x-amz-target}, {@code x-amz-security-token}, ...), since AWS
     * requires those to be signed. Any {@code X-Amz-Date} or {@code Authorization} already in {@code parts}
     * is ignored, so a request can be signed again.
     *
     * @return the headers to add: {@code X-Amz-Date} then {@code Authorization}
     */
    public static List<Map.Entry<String, String>> sign(HttpRequestParts parts, String accessKeyId, String secret,
                                                       String region, String service, Instant now) {
        return sign(parts, sha256Hex(parts.payload()), accessKeyId, secret, region, service, now);
    }

    /**
     * {@link #sign(HttpRequestParts, String, String, String, String, Instant)} with the payload's SHA-256 (hex)
     * already known, for a client that sends the same body many times (a load generator); the payload in
     * {@code parts} is then not read.
     */
    public static List<Map.Entry<String, String>> sign(HttpRequestParts parts, String payloadSha256Hex, String accessKeyId,
                                                       String secret, String region, String service, Instant now) {
        String amzDate = amzDate(now);
        String date = amzDate.substring(0, 8);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        TreeSet<String> signed = new TreeSet<>();
        for (Map.Entry<String, String> header : parts.headers()) {
            String name = header.getKey().trim().toLowerCase(Locale.ROOT);
            if (name.equals("x-amz-date") || name.equals("authorization")) {
                continue;
            }
            headers.add(header);
            if (name.equals("host") || name.equals("content-type") || name.startsWith("x-amz-")) {
                signed.add(name);
            }
        }
        if (!signed.contains("host")) {
            throw new IllegalArgumentException("a SigV4 request must carry a Host header to sign");
        }
        headers.add(Map.entry("X-Amz-Date", amzDate));
        signed.add("x-amz-date");
        HttpRequestParts toSign = new HttpRequestParts(parts.method(), parts.rawPath(), parts.rawQuery(), headers,
                parts.payload());
        List<String> signedNames = List.copyOf(signed);
        String canonical = canonicalRequest(toSign, signedNames, payloadSha256Hex, PathMode.forService(service));
        String scope = scope(date, region, service);
        String signature = signature(signingKey(secret, date, region, service), stringToSign(amzDate, scope, canonical));
        Authorization authorization = new Authorization(accessKeyId, date, region, service, signedNames, signature);
        return List.of(Map.entry("X-Amz-Date", amzDate), Map.entry("Authorization", authorization.toHeaderValue()));
    }

    /**
     * Reads {@code AWS4-HMAC-SHA256 Credential=<key>/<yyyyMMdd>/<region>/<service>/aws4_request,
     * SignedHeaders=<a;b>, Signature=<hex>}; parameters may come in any order, with or without a space after
     * each comma. Checks the form only: whether the scope's date, region and service are the right ones is
     * for the caller to decide.
     *
     * @throws SigV4Exception when the header is absent, lacks a parameter or cannot be read
     */
    public static Authorization parseAuthorization(String header) {
        if (header == null || header.isBlank()) {
            throw new SigV4Exception(SigV4Exception.Kind.MISSING, "Missing Authentication Token");
        }
        String value = header.strip();
        int space = indexOfWhitespace(value);
        String algorithm = space < 0 ? value : value.substring(0, space);
        if (!algorithm.equals(ALGORITHM)) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED,
                    "Unsupported AWS 'algorithm': '" + algorithm + "'. Authorization=" + header);
        }
        Map<String, String> params = new LinkedHashMap<>();
        String rest = space < 0 ? "" : value.substring(space + 1);
        for (String element : rest.split(",")) {
            String pair = element.strip();
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq < 0) {
                throw new SigV4Exception(SigV4Exception.Kind.MALFORMED, "'" + pair
                        + "' not a valid key=value pair (missing equal-sign) in Authorization header: '" + header + "'.");
            }
            String name = pair.substring(0, eq).strip();
            // a second value for the same parameter would make "which one was checked" ambiguous
            if (params.putIfAbsent(name, pair.substring(eq + 1).strip()) != null) {
                throw new SigV4Exception(SigV4Exception.Kind.MALFORMED,
                        "Authorization header has more than one '" + name + "' parameter. Authorization=" + header);
            }
        }
        StringBuilder missing = new StringBuilder();
        for (String required : List.of("Credential", "SignedHeaders", "Signature")) {
            String v = params.get(required);
            if (v == null || v.isEmpty()) {
                missing.append("Authorization header requires '").append(required).append("' parameter. ");
            }
        }
        if (missing.length() > 0) {
            throw new SigV4Exception(SigV4Exception.Kind.INCOMPLETE, missing + "Authorization=" + header);
        }

        String credential = params.get("Credential");
        String[] scope = credential.split("/", -1);
        if (scope.length != 5 || scope[0].isEmpty()) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED, "Credential should have the form "
                    + "'<AccessKeyId>/<yyyyMMdd>/<region>/<service>/aws4_request', not '" + credential + "'.");
        }
        if (!isScopeDate(scope[1])) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED,
                    "Invalid credential date. Date is not the required format: yyyyMMdd.");
        }
        if (scope[2].isEmpty()) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED, "Credential should be scoped to a valid region, not ''.");
        }
        if (scope[3].isEmpty()) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED, "Credential should be scoped to a valid service, not ''.");
        }
        if (!scope[4].equals(TERMINATOR)) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED,
                    "Credential should be scoped with a valid terminator: 'aws4_request', not '" + scope[4] + "'.");
        }
        List<String> signedHeaders = Arrays.asList(params.get("SignedHeaders").split(";", -1));
        if (signedHeaders.stream().anyMatch(String::isEmpty)) {
            throw new SigV4Exception(SigV4Exception.Kind.MALFORMED,
                    "Authorization header's SignedHeaders parameter has an empty header name. Authorization=" + header);
        }
        return new Authorization(scope[0], scope[1], scope[2], scope[3], signedHeaders, params.get("Signature"));
    }

    /** Equality that takes as long whatever the first differing character, so signatures cannot be guessed by timing. */
    public static boolean constantTimeEquals(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    // trim, and every run of whitespace (including the CR LF of an obsolete folded line) becomes one space
    private static String canonicalHeaderValue(String value) {
        StringBuilder out = new StringBuilder(value.length());
        boolean pendingSpace = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                pendingSpace = out.length() > 0;
            } else {
                if (pendingSpace) {
                    out.append(' ');
                    pendingSpace = false;
                }
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String uriEncode(byte[] bytes, boolean keepSlash) {
        StringBuilder out = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
                out.append((char) c);
            } else {
                out.append('%').append(UPPER_HEX[c >> 4]).append(UPPER_HEX[c & 0xf]);
            }
        }
        return out.toString();
    }

    // works on bytes: %FF is not valid UTF-8 and must survive decoding unchanged
    private static byte[] percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length && hexValue(in[i + 1]) >= 0 && hexValue(in[i + 2]) >= 0) {
                out.write(hexValue(in[i + 1]) << 4 | hexValue(in[i + 2]));
                i += 2;
            } else {
                // a stray '%' is kept literally and will be encoded as %25
                out.write(in[i]);
            }
        }
        return out.toByteArray();
    }

    private static int hexValue(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isScopeDate(String date) {
        if (date.length() != 8) {
            return false;
        }
        try {
            LocalDate.parse(date, SCOPE_DATE);
            return true;
        } catch (DateTimeException e) {
            return false;
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
    }
}
