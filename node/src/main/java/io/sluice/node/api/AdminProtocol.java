package io.sluice.node.api;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.admin.Admin.DescribeClusterRequest;
import io.sluice.protocol.admin.Admin.GetNodeStatsRequest;
import io.sluice.protocol.admin.Admin.GetStreamTrafficRequest;
import io.sluice.protocol.codec.WireFormat;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Query;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The node's operator API: {@code GET /admin/stats}, {@code GET /admin/cluster} and
 * {@code GET /admin/traffic?stream=NAME}, SigV4-signed for service {@code sluice} and run through
 * the table as {@code sluice:GetNodeStats}, {@code sluice:DescribeCluster} and
 * {@code sluice:GetStreamTraffic}; the request is made from the query parameters, the answer is
 * plain JSON. Errors have the AWS JSON shape; a refused signature or permission is 403, as AWS's REST
 * services answer it (the JSON 1.1 services, Kinesis and KMS, answer the same errors with the
 * catalogue's 400).
 */
final class AdminProtocol implements WireProtocol {
    static final String PATH_PREFIX = "/admin/";

    /** One endpoint: the operation it runs and how its request is read from the URI's query. */
    private record Endpoint(String operation, Function<Query, Object> request) {}

    private static final Map<String, Endpoint> ENDPOINTS = Map.of(
            "/admin/stats", new Endpoint("GetNodeStats", q -> new GetNodeStatsRequest()),
            "/admin/cluster", new Endpoint("DescribeCluster", q -> new DescribeClusterRequest()),
            "/admin/traffic", new Endpoint("GetStreamTraffic", q -> new GetStreamTrafficRequest(q.get("stream").orElse(null))));
    private static final Set<AwsError> REFUSALS = EnumSet.of(AwsError.MissingAuthenticationTokenException,
            AwsError.IncompleteSignatureException, AwsError.InvalidSignatureException,
            AwsError.UnrecognizedClientException, AwsError.AccessDeniedException);

    private final Operations operations;

    AdminProtocol(Operations operations) {
        this.operations = operations;
    }

    @Override
    public boolean accepts(String method, String path) {
        return method.equals("GET") && ENDPOINTS.containsKey(path);
    }

    @Override
    public Operation<?> operation(HttpRequest request, byte[] body) {
        Endpoint endpoint = ENDPOINTS.get(request.getUri().path());
        return (endpoint == null ? java.util.Optional.<Operation<?>>empty() : operations.find(Service.SLUICE, endpoint.operation()))
                .orElseThrow(this::notServed);
    }

    @Override
    public Object input(HttpRequest request, byte[] body, Operation<?> operation) {
        Query query;
        try {
            query = request.getUri().query();
        } catch (RuntimeException malformed) {
            // a percent sign not followed by two hex digits: Pekko parses the query only when asked
            throw AwsError.ValidationException.exception("The query string is not well-formed.");
        }
        return ENDPOINTS.get(request.getUri().path()).request().apply(query);
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
        return AwsError.UnknownOperationException.exception("Sluice serves GET /admin/stats, GET /admin/cluster and GET /admin/traffic.");
    }
}
