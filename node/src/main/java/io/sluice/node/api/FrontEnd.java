package io.sluice.node.api;

import com.typesafe.config.Config;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.Timings;
import io.sluice.node.auth.Caller;
import io.sluice.node.auth.RequestAuthenticator;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.TimeoutAccess;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

/**
 * The HTTP front end every node runs, one front door for every AWS service Sluice speaks and for its
 * operator API: it picks the request's {@link WireProtocol} (AWS JSON, AWS Query, or the signed
 * {@code GET /admin/...}), authenticates the SigV4 signature, finds the operation in the
 * {@link Operations} table, checks the credential is scoped to that operation's service, decodes,
 * runs (authorization comes from the table) and encodes the answer or the AWS-shaped error, with a
 * request id on every response. Only {@code GET /health} is open: it answers 200 for load
 * balancers and scripts once the node's warm-up ({@code Warmup}) is done. The same route serves
 * HTTP/1.1 and HTTP/2 (h2c, prior knowledge: the Kinesis Client Library and the JavaScript SDK), and
 * answers both alike; see docs/design.md, "HTTP/2".
 */
public final class FrontEnd extends AllDirectives {
    private static final Logger log = LoggerFactory.getLogger(FrontEnd.class);
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(30);

    private final RequestAuthenticator authenticator;
    private final Operations operations;
    private final WireProtocol json;
    private final WireProtocol query;
    private final WireProtocol admin;
    private final Timings timings;
    private final java.util.function.BooleanSupplier warm;
    private final Duration requestTimeout;
    private Console console;

    /**
     * @param warm whether the node's warm-up is done: until then {@code GET /health} answers 503
     * @param requestTimeout the server's request-timeout ({@link #requestTimeout(Config)}), which this
     *                       front end enforces itself where Pekko does not (HTTP/2); zero for none
     */
    public FrontEnd(RequestAuthenticator authenticator, Operations operations, Timings timings,
                    java.util.function.BooleanSupplier warm, Duration requestTimeout) {
        this.authenticator = authenticator;
        this.operations = operations;
        this.json = new AwsJsonProtocol(operations);
        this.query = new AwsQueryProtocol(operations);
        this.admin = new AdminProtocol(operations);
        this.warm = warm;
        this.timings = timings;
        this.requestTimeout = requestTimeout;
    }

    /**
     * Serves the web console under {@code /console/} too (docs/design.md, "Console"), its sessions kept by
     * the node's clock and ended as soon as {@code keyActive} no longer holds for their access key.
     *
     * @param httpsPort the node's HTTPS port (0: none), where the page sends a browser that cannot sign in over plain HTTP
     */
    public FrontEnd withConsole(Config console, java.time.Clock clock, java.util.function.Predicate<String> keyActive,
                                String region, int httpsPort, Duration clockSkew) {
        if (console.getBoolean("enabled")) {
            this.console = new Console(authenticator, ConsoleSessions.from(console, clock, keyActive), this::dispatchAs,
                    region, httpsPort, clockSkew);
        }
        return this;
    }

    /** {@code pekko.http.server.request-timeout}, zero when it is {@code infinite}. */
    public static Duration requestTimeout(Config config) {
        String key = "pekko.http.server.request-timeout";
        return config.getString(key).equals("infinite") ? Duration.ZERO : config.getDuration(key);
    }

    public Route route() {
        return concat(
                // requests are served from the start; health (what load balancers and scripts wait for) after the
                // warm-up. The one door open to anyone: it says nothing but "up". /admin/* goes through handle.
                path("health", () -> get(() -> warm.getAsBoolean() ? complete(StatusCodes.OK, "OK")
                        : complete(StatusCodes.SERVICE_UNAVAILABLE, "warming up"))),
                // past the server's request-timeout the client gets AWS's retryable 503, not Pekko's plain text.
                // Pekko's HTTP/1.1 server keeps that timer (and hands it over in Timeout-Access); its HTTP/2
                // server keeps none, so there the same bound and answer are kept here.
                extractRequest(request -> request.getHeader(TimeoutAccess.class).isPresent()
                        ? withRequestTimeoutResponse(this::timedOut, () -> served(request, this::handle))
                        : served(request, (r, body) -> withinRequestTimeout(r, handle(r, body)))));
    }

    private Route served(HttpRequest request, BiFunction<HttpRequest, byte[], CompletionStage<HttpResponse>> handler) {
        return extractStrictEntity(BODY_TIMEOUT, strict -> completeWithFuture(handler.apply(request, strict.getData().toArray())));
    }

    private CompletionStage<HttpResponse> withinRequestTimeout(HttpRequest request, CompletionStage<HttpResponse> response) {
        if (requestTimeout.isZero()) return response;
        return Futures.direct(response).orTimeout(requestTimeout.toNanos(), TimeUnit.NANOSECONDS).exceptionally(failure -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof TimeoutException) return timedOut(request);
            throw failure instanceof CompletionException c ? c : new CompletionException(failure);
        });
    }

    private HttpResponse timedOut(HttpRequest request) {
        ApiException e = AwsError.ServiceUnavailable.exception("The service could not answer in time; retry the request.");
        return protocolOf(request).error(request, e, UUID.randomUUID().toString());
    }

    private WireProtocol protocolOf(HttpRequest request) {
        if (request.getUri().path().startsWith(AdminProtocol.PATH_PREFIX)) return admin;
        return isQuery(request) ? query : json;
    }

    /** The Query protocol (IAM, later STS): a form post without X-Amz-Target, answered in XML. */
    private static boolean isQuery(HttpRequest request) {
        return request.entity().getContentType().mediaType().toString().startsWith("application/x-www-form-urlencoded")
                && request.getHeader("X-Amz-Target").isEmpty();
    }

    CompletionStage<HttpResponse> handle(HttpRequest request, byte[] body) {
        long start = System.nanoTime();
        String rawTarget = rawRequestTarget(request);
        if (console != null && Console.serves(request.getUri().path())) return console.handle(request, rawTarget, body);
        WireProtocol protocol = protocolOf(request);
        try {
            if (!protocol.accepts(request.method().value(), pathOf(rawTarget))) {
                throw protocol.notServed();
            }
            RequestAuthenticator.Verified signed = protocol == query ? authenticateForm(request, rawTarget, body)
                    : authenticator.authenticate(request.method().value(), rawTarget, headers(request, body.length), body);
            timings.since("authenticate", start);
            return run(protocol, request, body, signed.caller(), signed, start);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(protocol, request, UUID.randomUUID().toString(), e));
        }
    }

    /**
     * Runs a request whose caller is already known (the console's session) exactly as a signed one:
     * the same protocols, operation table, authorization, answers and errors.
     */
    private CompletionStage<HttpResponse> dispatchAs(HttpRequest request, byte[] body, Caller caller) {
        WireProtocol protocol = protocolOf(request);
        try {
            if (!protocol.accepts(request.method().value(), request.getUri().path())) throw protocol.notServed();
            return run(protocol, request, body, caller, null, System.nanoTime());
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(protocol, request, UUID.randomUUID().toString(), e));
        }
    }

    /** @param signed the signature's scope, checked against the operation's service; null when the caller came another way */
    private CompletionStage<HttpResponse> run(WireProtocol protocol, HttpRequest request, byte[] body, Caller caller,
                                              RequestAuthenticator.Verified signed, long start) {
        String requestId = UUID.randomUUID().toString();
        try {
            Operation<?> operation = protocol.operation(request, body);
            if (signed != null) requireScopedTo(signed, operation.service());
            Object input = protocol.input(request, body, operation);
            String step = "request." + operation.name();
            return operations.run(operation, caller, input)
                    .thenApply(result -> protocol.answer(request, operation, result, requestId))
                    .exceptionally(failure -> failed(protocol, request, requestId, failure))
                    .whenComplete((response, failure) -> timings.since(step, start));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(protocol, request, requestId, e));
        }
    }

    /** The one place a failure becomes an answer: AWS-shaped in the request's protocol, logged when it is Sluice's fault. */
    private static HttpResponse failed(WireProtocol protocol, HttpRequest request, String requestId, Throwable failure) {
        ApiException e = ApiException.of(failure);
        if (e.error().fault() == AwsError.Fault.SERVER) {
            log.error("Request {} failed", requestId, failure);
        }
        return protocol.error(request, e, requestId);
    }

    /** A signature made for another service does not open this one (AWS checks the credential scope's service too). */
    private static void requireScopedTo(RequestAuthenticator.Verified signed, Service service) {
        if (!signed.scopeService().equals(service.signingName())) {
            throw AwsError.InvalidSignatureException.exception("Credential should be scoped to correct service: '"
                    + service.signingName() + "'. ");
        }
    }

    /**
     * Pekko keeps a form post's Content-Type only as a parsed model, which renders the charset
     * parameter differently from what the client signed (botocore sends "; charset=utf-8"). So the
     * signature is checked against the spellings clients use, in order of likelihood.
     */
    private RequestAuthenticator.Verified authenticateForm(HttpRequest request, String rawTarget, byte[] body) {
        String media = request.entity().getContentType().mediaType().toString();
        List<String> spellings = List.of(media + "; charset=utf-8", media, media + "; charset=UTF-8");
        ApiException last = null;
        for (String contentType : spellings) {
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            for (Map.Entry<String, String> h : headers(request, body.length)) {
                headers.add(h.getKey().equalsIgnoreCase("Content-Type") ? new AbstractMap.SimpleImmutableEntry<>("Content-Type", contentType) : h);
            }
            try {
                return authenticator.authenticate(request.method().value(), rawTarget, headers, body);
            } catch (ApiException e) {
                // only a signature that did not match may match under another spelling (IAM and STS name it
                // SignatureDoesNotMatch, the JSON services InvalidSignatureException)
                if (!RequestAuthenticator.signatureMismatch(e)) throw e;
                last = e;
            }
        }
        throw last;
    }

    /**
     * The request target exactly as the client sent it (SigV4 signs that, not a normalised form).
     * HTTP/2 has no Raw-Request-URI: its {@code :path} reaches us only parsed, and is rendered back,
     * which is the same text for the paths AWS clients send (percent-encoded per RFC 3986).
     */
    private static String rawRequestTarget(HttpRequest request) {
        return request.getHeader("Raw-Request-URI").map(HttpHeader::value)
                .orElseGet(() -> request.getUri().toRelative().toString());
    }

    private static String pathOf(String target) {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    /**
     * Headers as the client sent them, including the two Pekko models on the entity. Over HTTP/2 the
     * host travels as the {@code :authority} pseudo-header, which Pekko puts into the request URI and
     * not among the headers. Clients sign it under either name: the Java SDK signs {@code host} (its
     * Netty client then moves Host into {@code :authority}), the JavaScript SDK signs {@code :authority}
     * itself. So both are given back to the verifier, as AWS accepts both.
     */
    static List<Map.Entry<String, String>> headers(HttpRequest request, int bodyLength) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        boolean host = false;
        for (HttpHeader h : request.getHeaders()) {
            if (!h.name().equalsIgnoreCase("Raw-Request-URI") && !h.name().equalsIgnoreCase("Timeout-Access")) {
                out.add(new AbstractMap.SimpleImmutableEntry<>(h.name(), h.value()));
                host |= h.name().equalsIgnoreCase("Host");
            }
        }
        if (request.protocol().value().equals("HTTP/2.0") && !request.getUri().asScala().authority().isEmpty()) {
            String authority = request.getUri().asScala().authority().toString();
            authority = authority.substring(authority.lastIndexOf('@') + 1);
            out.add(new AbstractMap.SimpleImmutableEntry<>(":authority", authority));
            if (!host) out.add(new AbstractMap.SimpleImmutableEntry<>("host", authority));
        }
        if (request.entity().getContentType() != ContentTypes.NO_CONTENT_TYPE) {
            out.add(new AbstractMap.SimpleImmutableEntry<>("Content-Type", request.entity().getContentType().toString()));
        }
        out.add(new AbstractMap.SimpleImmutableEntry<>("Content-Length", Integer.toString(bodyLength)));
        return out;
    }
}
