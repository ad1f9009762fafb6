package io.sluice.node.tls;

import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * How the HTTPS listener speaks TLS: versions 1.3 and 1.2 only, and for 1.2 only forward-secret
 * AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305), all of them also allowed under HTTP/2
 * (RFC 9113, 9.2.2); TLS 1.3's three suites are all of that kind. The server's order decides.
 * Pekko HTTP adds ALPN to every engine made here ({@code h2}, then {@code http/1.1}) when
 * {@code pekko.http.server.enable-http2} is on; {@link PriorKnowledgeEngine} adds HTTP/2 for clients
 * that start it without ALPN.
 */
public final class TlsPolicy {
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsPolicy() {}

    /** The connection context for Pekko's {@code newServerAt(...).enableHttps}. */
    public static HttpsConnectionContext serverContext(ServerCertificate certificate) {
        SSLContext context = sslContext(certificate);
        return ConnectionContext.httpsServer(() -> new PriorKnowledgeEngine(serverEngine(context)));
    }

    static SSLContext sslContext(ServerCertificate certificate) {
        try {
            // the key store lives only in memory; its password guards nothing, so it is random
            char[] password = new char[24];
            SecureRandom random = new SecureRandom();
            for (int i = 0; i < password.length; i++) password[i] = (char) ('a' + random.nextInt(26));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", certificate.privateKey(), password, certificate.chain().toArray(new Certificate[0]));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            Arrays.fill(password, '\0');
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, random);
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot make a TLS context from " + certificate.certificateFile(), e);
        }
    }

    static SSLEngine serverEngine(SSLContext context) {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        Set<String> supported = Set.of(engine.getSupportedCipherSuites());
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(PROTOCOLS.toArray(String[]::new));
        parameters.setCipherSuites(CIPHER_SUITES.stream().filter(supported::contains).toArray(String[]::new));
        parameters.setUseCipherSuitesOrder(true);
        engine.setSSLParameters(parameters);
        return engine;
    }
}
