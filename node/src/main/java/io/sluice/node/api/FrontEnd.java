package io.sluice.node.api;

import io.sluice.node.Replies;
import io.sluice.node.auth.Caller;
import io.sluice.node.auth.RequestAuthenticator;
import io.sluice.node.kms.KmsService;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.codec.WireFormat;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
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
import java.util.concurrent.CompletionStage;

/**
 * The HTTP front end every node runs: {@code POST /} with {@code X-Amz-Target} naming the
 * operation, the body in JSON 1.1 or CBOR, signed with SigV4. It authenticates, decodes, runs the
 * operation and encodes the answer (or the AWS-shaped error) in the request's format, with a
 * request id on every response. {@code GET /health} answers 200 for load balancers and scripts.
 */
public final class FrontEnd extends AllDirectives {
    private static final Logger log = LoggerFactory.getLogger(FrontEnd.class);
    private static final String KINESIS_PREFIX = "Kinesis_20131202.";
    private static final String KMS_PREFIX = "TrentService.";
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(30);

    private final RequestAuthenticator authenticator;
    private final Map<String, Operation<?>> kinesis;
    private final Map<String, Operation<?>> kms;

    private final java.util.function.Supplier<Map<String, Object>> stats;

    public FrontEnd(RequestAuthenticator authenticator, KinesisService kinesisService, KmsService kmsService,
                    java.util.function.Supplier<Map<String, Object>> stats) {
        this.authenticator = authenticator;
        this.stats = stats;
        this.kinesis = kinesisService.operations();
        this.kms = kmsService.operations();
    }

    public Route route() {
        return concat(
                path("health", () -> get(() -> complete(StatusCodes.OK, "OK"))),
                // node counters (no secrets) for operators and benchmarks: GET /admin/stats
                pathPrefix("admin", () -> path("stats", () -> get(() -> complete(HttpResponse.create()
                        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, WireFormat.JSON.write(stats.get()))))))),
                extractRequest(request -> extractStrictEntity(BODY_TIMEOUT,
                        strict -> completeWithFuture(handle(request, strict.getData().toArray())))));
    }

    CompletionStage<HttpResponse> handle(HttpRequest request, byte[] body) {
        String requestId = UUID.randomUUID().toString();
        WireFormat format = WireFormat.fromContentType(request.entity().getContentType().mediaType().toString());
        try {
            String rawTarget = rawRequestTarget(request);
            if (!request.method().value().equals("POST") || !pathOf(rawTarget).equals("/")) {
                throw AwsError.UnknownOperationException.exception("Sluice serves the AWS JSON protocol: POST / with an X-Amz-Target header.");
            }
            Caller caller = authenticator.authenticate(request.method().value(), rawTarget, headers(request, body.length), body);
            String target = request.getHeader("X-Amz-Target").map(HttpHeader::value).orElse("");
            Operation<?> operation = target.startsWith(KINESIS_PREFIX) ? kinesis.get(target.substring(KINESIS_PREFIX.length()))
                    : target.startsWith(KMS_PREFIX) ? kms.get(target.substring(KMS_PREFIX.length())) : null;
            if (operation == null) {
                throw AwsError.UnknownOperationException.exception(target.isEmpty()
                        ? "Missing X-Amz-Target header." : "Unknown operation " + target + ".");
            }
            Object decoded = format.read(body, operation.requestType());
            return operation.run(caller, decoded)
                    .thenApply(result -> ok(format, requestId, result))
                    .exceptionally(failure -> error(format, requestId, Replies.toApiException(failure), failure));
        } catch (ApiException e) {
            return CompletableFuture.completedFuture(error(format, requestId, e, e));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(error(format, requestId, Replies.toApiException(e), e));
        }
    }

    private static HttpResponse ok(WireFormat format, String requestId, Object result) {
        return HttpResponse.create().withStatus(StatusCodes.OK)
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .withEntity(HttpEntities.create(contentType(format), format.write(result)));
    }

    private static HttpResponse error(WireFormat format, String requestId, ApiException e, Throwable cause) {
        if (e.error().status() >= 500) {
            log.error("Request {} failed", requestId, cause);
        }
        return HttpResponse.create().withStatus(e.error().status())
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .addHeader(RawHeader.create("x-amzn-ErrorType", e.error().wireName()))
                .withEntity(HttpEntities.create(contentType(format), format.error(e)));
    }

    private static ContentType contentType(WireFormat format) {
        return ContentTypes.parse(format.contentType());
    }

    /** The request target exactly as the client sent it (SigV4 signs that, not a normalised form). */
    private static String rawRequestTarget(HttpRequest request) {
        return request.getHeader("Raw-Request-URI").map(HttpHeader::value)
                .orElseGet(() -> request.getUri().toRelative().toString());
    }

    private static String pathOf(String target) {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    /** Headers as the client sent them, including the two Pekko models on the entity. */
    private static List<Map.Entry<String, String>> headers(HttpRequest request, int bodyLength) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (HttpHeader h : request.getHeaders()) {
            if (!h.name().equalsIgnoreCase("Raw-Request-URI") && !h.name().equalsIgnoreCase("Timeout-Access")) {
                out.add(new AbstractMap.SimpleImmutableEntry<>(h.name(), h.value()));
            }
        }
        if (request.entity().getContentType() != ContentTypes.NO_CONTENT_TYPE) {
            out.add(new AbstractMap.SimpleImmutableEntry<>("Content-Type", request.entity().getContentType().toString()));
        }
        out.add(new AbstractMap.SimpleImmutableEntry<>("Content-Length", Integer.toString(bodyLength)));
        return out;
    }
}
