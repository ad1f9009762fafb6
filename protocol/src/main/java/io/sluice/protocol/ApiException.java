package io.sluice.protocol;

/** A failure that reaches the client as {@code {"__type": error, "message": message}} with the error's status. */
public final class ApiException extends RuntimeException {
    private final AwsError error;

    public ApiException(AwsError error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public AwsError error() {
        return error;
    }
}
