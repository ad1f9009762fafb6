package io.sluice.node.api;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.codec.WireFormat;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The node's operator API: {@code GET /admin/stats} and {@code GET /admin/cluster}, SigV4-signed for
 * service {@code sluice} and run through the table as {@code sluice:GetNodeStats} and
 * {@code sluice:DescribeCluster}; answered in plain JSON. Errors have the AWS JSON shape; a refused
 * signature or permission is 403, as AWS's REST services answer it (the JSON 1.1 services, Kinesis
 * and KMS, answer the same errors with the catalogue's 400).
 */
final class AdminProtocol implements WireProtocol {
    static final String PATH_PREFIX = "/admin/";
    private static final Map<String, String> OPERATIONS = Map.of(
            "/admin/stats", "GetNodeStats",
            "/admin/cluster", "DescribeCluster");
    private static final Set<AwsError> REFUSALS = EnumSet.of(AwsError.MissingAuthenticationTokenException,
            AwsError.IncompleteSignatureException, AwsError.InvalidSignatureException,
            AwsError.UnrecognizedClientException, AwsError.AccessDeniedException);

    private final Operations operations;

    AdminProtocol(Operations operations) {
        this.operations = operations;
    }

    @Override
    public boolean accepts(String method, String path) {
        return method.equals("GET") && OPERATIONS.containsKey(path);
    }

    @Override
    public Operation<?> operation(HttpRequest request, byte[] body) {
        String name = OPERATIONS.get(request.getUri().path());
        return (name == null ? java.util.Optional.<Operation<?>>empty() : operations.find(Service.SLUICE, name))
                .orElseThrow(this::notServed);
    }

    @Override
    public Object input(HttpRequest request, byte[] body, Operation<?> operation) {
        return WireFormat.JSON.read(body, operation.requestType());
    }

    @Override
    public HttpResponse answer(HttpRequest request, Operation<?> operation, Object result, String requestId) {
        return HttpResponse.create().withStatus(StatusCodes.OK)
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, WireFormat.JSON.write(result)));
    }

    @Override
    public HttpResponse error(HttpRequest request, ApiException e, String requestId) {
        return HttpResponse.create().withStatus(REFUSALS.contains(e.error()) ? 403 : e.error().status())
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .addHeader(RawHeader.create("x-amzn-ErrorType", e.error().wireName()))
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, WireFormat.JSON.error(e)));
    }

    @Override
    public ApiException notServed() {
        return AwsError.UnknownOperationException.exception("Sluice serves GET /admin/stats and GET /admin/cluster.");
    }
}
