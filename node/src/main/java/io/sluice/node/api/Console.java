package io.sluice.node.api;

import io.sluice.node.auth.Caller;
import io.sluice.node.auth.RequestAuthenticator;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.codec.WireFormat;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web console every node serves under {@code /console/}: its assets from the jar, and the doors
 * its page uses (docs/design.md, "Console"):
 * <ul>
 *   <li>{@code POST /console/session} opens a session with a SigV4 proof: the page signs this very
 *       request with the access key's secret (WebCrypto), so the secret never leaves the browser; the
 *       answer sets an HttpOnly, SameSite=Strict cookie and gives the page its CSRF token.
 *       {@code GET} tells the page who is signed in (after a reload), {@code DELETE} signs out.</li>
 *   <li>{@code POST /console/api} runs a public API request (Kinesis and KMS in JSON 1.1, IAM in the
 *       Query protocol) and {@code GET /console/api/admin/...} an operator one, as the signed-in
 *       principal: the same operation table, IAM authorization, answers and errors as a client gets.</li>
 * </ul>
 * Every call on a session must carry the session's token in {@code X-Sluice-Csrf} and must not come
 * from another origin ({@code Origin}, {@code Sec-Fetch-Site}): a page elsewhere can neither read the
 * token nor send the header, and SameSite=Strict keeps the cookie off its requests besides.
 */
final class Console {
    static final String PATH = "/console";
    /** The session cookie's name, followed by {@code -PORT}: see {@link #cookieName}. */
    static final String COOKIE = "sluice-console";
    static final String CSRF_HEADER = "X-Sluice-Csrf";
    /** The credential scope service a sign-in proof is signed for: STS, whose GetCallerIdentity it stands for. */
    static final String PROOF_SERVICE = "sts";

    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    private static final Pattern PORT = Pattern.compile(":(\\d{1,5})$");
    private static final Pattern ASSET = Pattern.compile("[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\\.(html|js|css|svg|png|ico|json)");
    private static final Map<String, ContentType> TYPES = Map.of(
            "html", ContentTypes.TEXT_HTML_UTF8,
            "js", MediaTypes.applicationWithOpenCharset("javascript").toContentType(org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
            "css", MediaTypes.TEXT_CSS.toContentType(org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
            "svg", MediaTypes.IMAGE_SVG_XML.toContentType(),
            "png", MediaTypes.IMAGE_PNG.toContentType(),
            "ico", MediaTypes.IMAGE_X_ICON.toContentType(),
            "json", ContentTypes.APPLICATION_JSON);

    /** Runs an API request (its path already the public one) as a caller, in the request's wire protocol. */
    interface Dispatcher {
        CompletionStage<HttpResponse> dispatch(HttpRequest request, byte[] body, Caller caller);
    }

    private final RequestAuthenticator authenticator;
    private final ConsoleSessions sessions;
    private final Dispatcher dispatcher;
    private final String region;
    private final int httpsPort;
    private final Duration proofValidFor;
    private final Map<String, Optional<byte[]>> assets = new ConcurrentHashMap<>();

    /** @param httpsPort the node's HTTPS port, which the page names where it cannot sign in over plain HTTP; 0: none */
    Console(RequestAuthenticator authenticator, ConsoleSessions sessions, Dispatcher dispatcher, String region,
            int httpsPort, Duration clockSkew) {
        this.authenticator = authenticator;
        this.sessions = sessions;
        this.dispatcher = dispatcher;
        this.region = region;
        this.httpsPort = httpsPort;
        this.proofValidFor = clockSkew.multipliedBy(2);
    }

    static boolean serves(String path) {
        return path.equals(PATH) || path.startsWith(PATH + "/");
    }

    CompletionStage<HttpResponse> handle(HttpRequest request, String rawTarget, byte[] body) {
        String path = request.getUri().path();
        String method = request.method().value();
        try {
            if (path.equals(PATH)) {
                return done(HttpResponse.create().withStatus(StatusCodes.PERMANENT_REDIRECT)
                        .addHeader(RawHeader.create("Location", PATH + "/")));
            }
            String rest = path.substring(PATH.length() + 1);
            if (rest.equals("session")) {
                return done(switch (method) {
                    case "POST" -> signIn(request, rawTarget, body);
                    case "GET" -> current(request);
                    case "DELETE" -> signOut(request);
                    default -> error(405, AwsError.ValidationException, "The console's session takes POST, GET or DELETE.");
                });
            }
            if (rest.equals("api") || rest.startsWith("api/admin/")) return api(request, rest, body);
            if (rest.equals("config.json") && method.equals("GET")) return done(config());
            if (!method.equals("GET") && !method.equals("HEAD")) {
                return done(error(405, AwsError.ValidationException, "The console's pages are read with GET."));
            }
            return done(asset(rest.isEmpty() ? "index.html" : rest));
        } catch (ApiException e) {
            return done(error(400, e.error(), e.getMessage()));
        }
    }

    /** What the page reads before signing in: the region it signs for, and the HTTPS port (when there is one). */
    private HttpResponse config() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("region", region);
        if (httpsPort > 0) config.put("httpsPort", httpsPort);
        return secured(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
                WireFormat.JSON.write(config))));
    }

    private HttpResponse signIn(HttpRequest request, String rawTarget, byte[] body) {
        if (crossSite(request)) return crossSiteRefused();
        RequestAuthenticator.Verified proof;
        try {
            proof = authenticator.authenticate("POST", rawTarget, FrontEnd.headers(request, body.length), body);
        } catch (ApiException e) {
            // the verifier's words for the JSON services; the canonical request it may print is the page's own
            return error(403, e.error(), e.getMessage());
        }
        if (!proof.scopeService().equals(PROOF_SERVICE)) {
            return error(403, AwsError.InvalidSignatureException, "Credential should be scoped to correct service: '"
                    + PROOF_SERVICE + "'. ");
        }
        String signature = request.getHeader("Authorization").map(HttpHeader::value).orElse("");
        Optional<ConsoleSessions.Opened> opened = sessions.open(proof.caller(), signature, proofValidFor);
        if (opened.isEmpty()) {
            return error(403, AwsError.InvalidSignatureException, "This sign-in request was already used; sign in again.");
        }
        StringBuilder cookie = new StringBuilder(cookieName(request)).append('=').append(opened.get().id())
                .append("; Path=").append(PATH).append("; Max-Age=").append(sessions.maxAge().toSeconds())
                .append("; HttpOnly; SameSite=Strict");
        if (overTls(request)) cookie.append("; Secure");
        return sessionAnswer(opened.get().session()).addHeader(RawHeader.create("Set-Cookie", cookie.toString()));
    }

    private HttpResponse current(HttpRequest request) {
        if (crossSite(request)) return crossSiteRefused();
        // no session is an answer, not a failure: the page asks this at every load, before anyone signed in
        return sessionOf(request).map(this::sessionAnswer).orElseGet(() -> secured(HttpResponse.create()
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"principal\":null}"))));
    }

    private HttpResponse signOut(HttpRequest request) {
        if (crossSite(request)) return crossSiteRefused();
        Optional<ConsoleSessions.Session> session = sessionOf(request);
        if (session.isEmpty()) return noSession();
        if (!ConsoleSessions.sameToken(session.get().csrfToken(), request.getHeader(CSRF_HEADER).map(HttpHeader::value).orElse(null))) {
            return crossSiteRefused();
        }
        sessions.close(cookie(request));
        return secured(HttpResponse.create().withStatus(StatusCodes.NO_CONTENT))
                .addHeader(RawHeader.create("Set-Cookie", cookieName(request) + "=; Path=" + PATH
                        + "; Max-Age=0; HttpOnly; SameSite=Strict"));
    }

    private CompletionStage<HttpResponse> api(HttpRequest request, String rest, byte[] body) {
        if (crossSite(request)) return done(crossSiteRefused());
        Optional<ConsoleSessions.Session> session = sessionOf(request);
        if (session.isEmpty()) return done(noSession());
        if (!ConsoleSessions.sameToken(session.get().csrfToken(), request.getHeader(CSRF_HEADER).map(HttpHeader::value).orElse(null))) {
            return done(crossSiteRefused());
        }
        boolean admin = rest.startsWith("api/admin/");
        if (admin ? !request.method().value().equals("GET") : !request.method().value().equals("POST")) {
            return done(error(405, AwsError.ValidationException, admin ? "The operator API is read with GET."
                    : "The console's API calls are POSTs, as the public API's are."));
        }
        Uri inner = Uri.create(admin ? "/" + rest.substring("api/".length()) : "/");
        Optional<String> query = request.getUri().rawQueryString();
        if (query.isPresent()) inner = inner.rawQueryString(query.get());
        return dispatcher.dispatch(request.withUri(inner), body, session.get().caller())
                .thenApply(Console::secured);
    }

    private HttpResponse sessionAnswer(ConsoleSessions.Session session) {
        Caller caller = session.caller();
        Map<String, Object> principal = new LinkedHashMap<>();
        principal.put("arn", caller.arn());
        principal.put("name", caller.name());
        principal.put("root", caller.root());
        principal.put("accessKeyId", caller.accessKeyId());
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("principal", principal);
        answer.put("csrfToken", session.csrfToken());
        answer.put("expiresAt", sessions.expiresAt(session).toEpochMilli());
        return secured(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, WireFormat.JSON.write(answer))));
    }

    private Optional<ConsoleSessions.Session> sessionOf(HttpRequest request) {
        return sessions.touch(cookie(request));
    }

    private static String cookie(HttpRequest request) {
        String name = cookieName(request) + "=";
        for (HttpHeader h : request.getHeaders()) {
            if (!h.name().equalsIgnoreCase("Cookie")) continue;
            for (String part : h.value().split(";")) {
                String p = part.trim();
                if (p.startsWith(name)) return p.substring(name.length());
            }
        }
        return null;
    }

    /**
     * {@code sluice-console-PORT}, the port the browser reached this node on: a browser keeps one set of
     * cookies for a host whatever the port, and the nodes of a cluster on one machine (deploy/local:
     * 127.0.0.1:4567, :4568, ...) each keep their own sessions, so under one name signing in on one node
     * would overwrite, and sign out, the session of another.
     */
    private static String cookieName(HttpRequest request) {
        String authority = authority(request);
        Matcher port = PORT.matcher(authority == null ? "" : authority);
        return COOKIE + "-" + (port.find() ? port.group(1) : overTls(request) ? "443" : "80");
    }

    /**
     * Whether the browser says the request comes from a page of another origin. Browsers send
     * {@code Sec-Fetch-Site} and, on POSTs and cross-origin fetches, {@code Origin}; a client outside a
     * browser sends neither and is held by the cookie and the CSRF token alone.
     */
    private static boolean crossSite(HttpRequest request) {
        Optional<String> site = request.getHeader("Sec-Fetch-Site").map(HttpHeader::value);
        if (site.isPresent() && !site.get().equals("same-origin") && !site.get().equals("none")) return true;
        Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
        if (origin.isEmpty()) return false;
        String authority = authority(request);
        return origin.get().equals("null") || authority == null
                || !(origin.get().equals("http://" + authority) || origin.get().equals("https://" + authority));
    }

    private static String authority(HttpRequest request) {
        for (Map.Entry<String, String> h : FrontEnd.headers(request, 0)) {
            if (h.getKey().equalsIgnoreCase("Host")) return h.getValue();
        }
        return null;
    }

    private static boolean overTls(HttpRequest request) {
        return request.getUri().getScheme().equals("https");
    }

    private HttpResponse asset(String name) {
        if (!ASSET.matcher(name).matches()) return notFound();
        Optional<byte[]> bytes = assets.computeIfAbsent(name, Console::load);
        if (bytes.isEmpty()) return notFound();
        ContentType type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        // revalidated on every load, so a node's new version is picked up at once
        return secured(HttpResponse.create().withEntity(HttpEntities.create(type, bytes.get()))
                .addHeader(RawHeader.create("Cache-Control", "no-cache")));
    }

    private static Optional<byte[]> load(String name) {
        try (InputStream in = Console.class.getResourceAsStream("/console/" + name)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse notFound() {
        return secured(HttpResponse.create().withStatus(StatusCodes.NOT_FOUND)
                .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, "Not found")));
    }

    private static HttpResponse noSession() {
        return error(401, AwsError.ExpiredTokenException,
                "The console session is missing, has expired or was signed out; sign in again.");
    }

    private static HttpResponse crossSiteRefused() {
        return error(403, AwsError.AccessDeniedException, "Cross-site request refused: the console accepts calls only "
                + "from its own pages, with the session's " + CSRF_HEADER + " token.");
    }

    private static HttpResponse error(int status, AwsError type, String message) {
        return secured(HttpResponse.create().withStatus(status)
                .addHeader(RawHeader.create("x-amzn-ErrorType", type.wireName()))
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, WireFormat.JSON.error(type, message))));
    }

    /** The headers every console answer carries: what it may load, that it is never framed or sniffed, never cached. */
    private static HttpResponse secured(HttpResponse response) {
        List<HttpHeader> headers = List.of(
                RawHeader.create("Content-Security-Policy", CSP),
                RawHeader.create("X-Content-Type-Options", "nosniff"),
                RawHeader.create("X-Frame-Options", "DENY"),
                RawHeader.create("Referrer-Policy", "no-referrer"),
                RawHeader.create("Cross-Origin-Opener-Policy", "same-origin"),
                RawHeader.create("Cross-Origin-Resource-Policy", "same-origin"));
        HttpResponse out = response.addHeaders(headers);
        return out.getHeader("Cache-Control").isPresent() ? out : out.addHeader(RawHeader.create("Cache-Control", "no-store"));
    }

    private static CompletionStage<HttpResponse> done(HttpResponse response) {
        return CompletableFuture.completedFuture(response);
    }
}
