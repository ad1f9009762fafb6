package io.sluice.node.api;

import io.sluice.protocol.ApiException;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * One AWS wire shape (AWS JSON 1.0/1.1 and CBOR, AWS Query, the operator API's GET, later the event stream): finds the
 * operation a request names in the {@link Operations} table, decodes its input, and encodes its
 * answer or error. Every answer and every error of that shape is written here and nowhere else;
 * each carries the {@code x-amzn-RequestId} header.
 */
public interface WireProtocol {
    /** @throws ApiException the shape's unknown-operation error when the request names none that is served */
    Operation<?> operation(HttpRequest request, byte[] body);

    /** @throws ApiException the shape's error for a malformed body */
    Object input(HttpRequest request, byte[] body, Operation<?> operation);

    HttpResponse answer(HttpRequest request, Operation<?> operation, Object result, String requestId);

    HttpResponse error(HttpRequest request, ApiException e, String requestId);

    /** Whether the shape is spoken at this method and raw path: {@code POST /}, the only route AWS protocols use. */
    default boolean accepts(String method, String path) {
        return method.equals("POST") && path.equals("/");
    }

    /** The shape's error for a request it does not accept. */
    ApiException notServed();
}
