package io.sluice.protocol.sigv4;

import io.sluice.protocol.AwsError;

/**
 * An {@code Authorization} header that cannot be used to check a signature. The message is worded the way
 * AWS words it, so it can go back to the client unchanged.
 */
public final class SigV4Exception extends RuntimeException {

    /** Why the header was refused; each maps onto the error AWS answers with. */
    public enum Kind {
        /** No header at all. */
        MISSING,
        /** The algorithm is right but a required parameter is absent or empty. */
        INCOMPLETE,
        /** A parameter is present but cannot be read (bad credential scope, no equal sign, other algorithm). */
        MALFORMED
    }

    private final Kind kind;

    public SigV4Exception(Kind kind, String message) {
        // thrown per rejected request, so the stack trace is cost without value
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** The error a Kinesis-compatible server answers with for this kind. */
    public AwsError awsError() {
        return kind == Kind.MISSING ? AwsError.MissingAuthenticationTokenException : AwsError.IncompleteSignatureException;
    }
}
