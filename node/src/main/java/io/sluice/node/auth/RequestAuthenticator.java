package io.sluice.node.auth;

import java.util.List;
import java.util.Map;

/** Decides who sent a request, or refuses it with the AWS authentication error that fits. */
public interface RequestAuthenticator {
    /**
     * Who signed a request, and for which service their credential scope says the signature was
     * made (the front end checks it against the operation's service).
     */
    record Verified(Caller caller, String scopeService) {}

    /**
     * @param method  HTTP method
     * @param target  the request target as sent (path and query)
     * @param headers headers as sent, names in any case, repeats kept
     * @param body    the payload
     * @throws io.sluice.protocol.ApiException MissingAuthenticationTokenException, IncompleteSignatureException,
     *                                         InvalidSignatureException or UnrecognizedClientException
     */
    Verified authenticate(String method, String target, List<Map.Entry<String, String>> headers, byte[] body);

    /** The message every refusal of a signature that does not match begins with, whichever service names it. */
    String MISMATCH = "The request signature we calculated does not match the signature you provided.";

    /**
     * Whether a refusal says only that the signature did not match (InvalidSignatureException for the JSON
     * services, SignatureDoesNotMatch for IAM and STS), so that the same request read another way may match.
     */
    static boolean signatureMismatch(io.sluice.protocol.ApiException e) {
        return e.getMessage() != null && e.getMessage().startsWith(MISMATCH);
    }
}
