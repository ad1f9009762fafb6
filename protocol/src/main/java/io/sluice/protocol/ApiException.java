package io.sluice.protocol;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * A typed rejection: an {@link AwsError} and its message, reaching the client as
 * {@code {"__type": error, "message": message}} (or the Query protocol's {@code <Error>}) with the
 * error's status. Entities reply with it, handlers throw it, and each protocol renders it once.
 */
public final class ApiException extends RuntimeException {
    private final AwsError error;
    private final java.util.Map<String, Object> details;

    public ApiException(AwsError error, String message) {
        this(error, message, java.util.Map.of());
    }

    private ApiException(AwsError error, String message, java.util.Map<String, Object> details) {
        super(message, null, false, false);
        this.error = error;
        this.details = details;
    }

    /**
     * The same error with one more member in its JSON body, as DynamoDB's ConditionalCheckFailedException
     * carries the {@code Item}. Local to the node that answers: rejections crossing the cluster carry name and message only.
     */
    public ApiException with(String member, Object value) {
        java.util.Map<String, Object> more = new java.util.LinkedHashMap<>(details);
        more.put(member, value);
        return new ApiException(error, getMessage(), java.util.Collections.unmodifiableMap(more));
    }

    /** Members of the error body beyond {@code __type} and {@code message}. */
    public java.util.Map<String, Object> details() {
        return details;
    }

    public AwsError error() {
        return error;
    }

    /**
     * What a failed call answers the client: the rejection itself when there is one (however deeply
     * a future wrapped it), ServiceUnavailable when an ask ran out of time (it may or may not have
     * taken effect, so the client should retry), InternalFailure for anything else.
     */
    public static ApiException of(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ApiException api) {
            return api;
        }
        if (t instanceof TimeoutException) {
            return AwsError.ServiceUnavailable.exception("The request timed out inside the service; it may or may not have taken effect.");
        }
        return AwsError.InternalFailure.exception("Internal service error");
    }

    @Override
    public String toString() {
        return error.wireName() + ": " + getMessage();
    }
}
