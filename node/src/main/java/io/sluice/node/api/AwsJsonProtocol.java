package io.sluice.node.api;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.codec.EventStream;
import io.sluice.protocol.codec.WireFormat;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The AWS JSON protocols (Kinesis and KMS today, DynamoDB's JSON 1.0 next): {@code POST /} with
 * {@code X-Amz-Target: <prefix>.<Operation>}, the body in JSON or, for Kinesis, CBOR, answered in
 * the request's encoding. Errors are {@code {"__type": name, "message": text}} with the error's
 * status and {@code x-amzn-ErrorType}.
 */
final class AwsJsonProtocol implements WireProtocol {

    private final Operations operations;

    AwsJsonProtocol(Operations operations) {
        this.operations = operations;
    }

    @Override
    public Operation<?> operation(HttpRequest request, byte[] body) {
        String target = request.getHeader("X-Amz-Target").map(HttpHeader::value).orElse("");
        if (target.isEmpty()) {
            throw AwsError.UnknownOperationException.exception("Missing X-Amz-Target header.");
        }
        return operations.byTarget(target)
                .orElseThrow(() -> AwsError.UnknownOperationException.exception("Unknown operation " + target + "."));
    }

    @Override
    public Object input(HttpRequest request, byte[] body, Operation<?> operation) {
        return format(request).read(body, operation.requestType());
    }

    @Override
    public HttpResponse answer(HttpRequest request, Operation<?> operation, Object result, String requestId) {
        WireFormat format = format(request);
        if (result instanceof KinesisFanOut.Subscription subscription) {
            return eventStream(format, subscription, requestId);
        }
        return HttpResponse.create().withStatus(StatusCodes.OK)
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .withEntity(HttpEntities.create(ContentTypes.parse(format.contentType()), format.write(result)));
    }

    @Override
    public HttpResponse error(HttpRequest request, ApiException e, String requestId) {
        WireFormat format = format(request);
        // DynamoDB names its errors by their shape's full id; clients take the part after '#'
        boolean dynamodb = request.getHeader("X-Amz-Target").map(h -> h.value().startsWith(DYNAMODB_PREFIX)).orElse(false);
        String type = dynamodb ? DYNAMODB_ERROR_NAMESPACE + e.error().wireName() : e.error().wireName();
        return HttpResponse.create().withStatus(e.error().status())
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .addHeader(RawHeader.create("x-amzn-ErrorType", type))
                .withEntity(HttpEntities.create(ContentTypes.parse(format.contentType()), format.error(e, type)));
    }

    /**
     * SubscribeToShard's answer: 200 at once, then the subscription's messages as an AWS event stream
     * of unknown length (HTTP/2 DATA frames, or chunks on HTTP/1.1), each payload in the request's encoding.
     */
    private static HttpResponse eventStream(WireFormat format, KinesisFanOut.Subscription subscription, String requestId) {
        Source<ByteString, NotUsed> bytes = subscription.messages().map(published -> {
            EventStream.Message message;
            if (published instanceof KinesisFanOut.Event event) {
                message = EventStream.Message.event(event.eventType(), format.contentType(), format.write(event.body()));
            } else {
                ApiException e = ((KinesisFanOut.Failure) published).error();
                String type = e.error().wireName();
                message = EventStream.Message.exception(type, format.contentType(), format.error(e, type));
            }
            return ByteString.fromArrayUnsafe(EventStream.encode(message));
        });
        return HttpResponse.create().withStatus(StatusCodes.OK)
                .addHeader(RawHeader.create("x-amzn-RequestId", requestId))
                .withEntity(HttpEntities.create(EVENT_STREAM, bytes));
    }

    private static final ContentType EVENT_STREAM = ContentTypes.parse(EventStream.CONTENT_TYPE);

    private static final String DYNAMODB_PREFIX = Service.DYNAMODB.targetPrefix() + ".";
    private static final String DYNAMODB_ERROR_NAMESPACE = "com.amazonaws.dynamodb.v20120810#";

    @Override
    public ApiException notServed() {
        return AwsError.UnknownOperationException.exception("Sluice serves the AWS JSON protocol: POST / with an X-Amz-Target header.");
    }

    private static WireFormat format(HttpRequest request) {
        return WireFormat.fromContentType(request.entity().getContentType().mediaType().toString());
    }

}
