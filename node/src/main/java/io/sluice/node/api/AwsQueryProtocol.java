package io.sluice.node.api;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.codec.AwsQuery;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

import java.util.Map;

/**
 * The AWS Query protocol (IAM today, STS next): {@code POST /} with a form body naming the operation
 * in {@code Action}, answered in XML in the service's namespace. Errors are
 * {@code <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>} with the
 * error's status.
 */
final class AwsQueryProtocol implements WireProtocol {
    private static final ContentType.WithCharset TEXT_XML = ContentTypes.create(MediaTypes.TEXT_XML, HttpCharsets.UTF_8);
    /** Errors found before the operation is known are answered in IAM's namespace, the one Query service so far. */
    private static final String ERROR_NAMESPACE = Service.IAM.queryNamespace();

    private final Operations operations;

    AwsQueryProtocol(Operations operations) {
        this.operations = operations;
    }

    @Override
    public Operation<?> operation(HttpRequest request, byte[] body) {
        Map<String, String> form = AwsQuery.form(body);
        String action = form.getOrDefault("Action", "");
        return operations.byAction(action).orElseThrow(() -> AwsError.InvalidAction.exception("Could not find operation "
                + action + " for version " + form.getOrDefault("Version", "NO_VERSION_SPECIFIED")));
    }

    @Override
    public Object input(HttpRequest request, byte[] body, Operation<?> operation) {
        return AwsQuery.read(AwsQuery.form(body), operation.requestType());
    }

    @Override
    public HttpResponse answer(HttpRequest request, Operation<?> operation, Object result, String requestId) {
        return xml(StatusCodes.OK.intValue(), requestId,
                AwsQuery.answer(operation.service().queryNamespace(), operation.name(), result, requestId));
    }

    @Override
    public HttpResponse error(HttpRequest request, ApiException e, String requestId) {
        return xml(e.error().status(), requestId, AwsQuery.error(ERROR_NAMESPACE, e, requestId));
    }

    @Override
    public ApiException notServed() {
        return AwsError.InvalidAction.exception("Sluice serves the IAM Query protocol as POST / only.");
    }

    private static HttpResponse xml(int status, String requestId, String xml) {
        return HttpResponse.create().withStatus(status)
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .withEntity(HttpEntities.create(TEXT_XML, xml));
    }
}
