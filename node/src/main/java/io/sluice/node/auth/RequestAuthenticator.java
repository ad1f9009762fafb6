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
}
