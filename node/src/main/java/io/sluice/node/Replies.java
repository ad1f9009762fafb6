package io.sluice.node;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.pattern.StatusReply;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * Carries AWS errors through entity replies. Errors travel as text ({@code "ErrorName: message"})
 * so that a reply from an entity on another node needs no serializer for exception classes.
 */
public final class Replies {
    private Replies() {}

    public static <T> StatusReply<T> error(AwsError error, String message) {
        return StatusReply.error(error.wireName() + ": " + message);
    }

    /** Turns whatever an ask failed with into the ApiException the front end answers with. */
    public static ApiException toApiException(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ApiException api) {
            return api;
        }
        if (t instanceof StatusReply.ErrorMessage em) {
            String text = em.getMessage();
            int colon = text.indexOf(": ");
            if (colon > 0) {
                String name = text.substring(0, colon);
                for (AwsError e : AwsError.values()) {
                    if (e.wireName().equals(name)) {
                        return new ApiException(e, text.substring(colon + 2));
                    }
                }
            }
            return AwsError.InternalFailure.exception(text);
        }
        if (t instanceof TimeoutException) {
            return AwsError.ServiceUnavailable.exception("The request timed out inside the service; it may or may not have taken effect.");
        }
        return AwsError.InternalFailure.exception("Internal service error");
    }
}
