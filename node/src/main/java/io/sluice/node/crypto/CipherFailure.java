package io.sluice.node.crypto;

/**
 * Sealed data did not open: its tag does not verify under the given key, nonce and AAD (wrong key,
 * wrong AAD, altered or truncated data), or it is not in a format this node writes. Deliberately
 * says no more than that, so callers cannot tell a wrong key from tampering.
 */
public final class CipherFailure extends RuntimeException {
    public CipherFailure(String message) {
        super(message);
    }

    public CipherFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
