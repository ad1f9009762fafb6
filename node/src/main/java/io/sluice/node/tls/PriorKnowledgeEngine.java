package io.sluice.node.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A server {@link SSLEngine} that also lets a client start HTTP/2 without ALPN. The AWS SDK for Java's
 * Netty client set to HTTP/2, as the Kinesis Client Library builds it, sends no ALPN on an
 * {@code https://} endpoint unless told to ({@code ProtocolNegotiation.ALPN}): it finishes the
 * handshake and sends the HTTP/2 connection preface at once (prior knowledge, which AWS's endpoints
 * accept). Pekko HTTP picks the protocol of a TLS connection only by ALPN and falls back to HTTP/1.1,
 * which answers the preface with an error ("First received frame was not SETTINGS").
 *
 * <p>So this engine keeps the ALPN selector Pekko installs, and when a handshake ends without ALPN
 * and the first application bytes are the preface, it tells that selector the client chose
 * {@code h2}, before Pekko looks at the chosen protocol (which it does when those bytes reach its
 * protocol switch). Everything else is the wrapped engine's.
 */
final class PriorKnowledgeEngine extends SSLEngine {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** "PRI " tells the preface from every HTTP/1.1 request line ("PROPFIND", "PUT", "POST"). */
    private static final int DECIDING_BYTES = 4;

    private final SSLEngine engine;
    private BiFunction<SSLEngine, List<String>, String> selector;
    private volatile boolean negotiated;
    private boolean decided;

    PriorKnowledgeEngine(SSLEngine engine) {
        super(engine.getPeerHost(), engine.getPeerPort());
        this.engine = engine;
    }

    @Override
    public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
        this.selector = selector;
        engine.setHandshakeApplicationProtocolSelector(selector == null ? null : (e, offered) -> {
            negotiated = true;
            return selector.apply(this, offered);
        });
    }

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
        if (decided) return engine.unwrap(src, dsts, offset, length);
        int[] starts = new int[length];
        for (int i = 0; i < length; i++) starts[i] = dsts[offset + i].position();
        SSLEngineResult result = engine.unwrap(src, dsts, offset, length);
        if (result.bytesProduced() > 0) {
            decided = true;
            if (!negotiated && selector != null && startsWithPreface(dsts, offset, length, starts)) {
                selector.apply(this, List.of("h2"));
            }
        }
        return result;
    }

    private static boolean startsWithPreface(ByteBuffer[] dsts, int offset, int length, int[] starts) {
        int matched = 0;
        for (int i = 0; i < length && matched < PREFACE.length; i++) {
            ByteBuffer dst = dsts[offset + i];
            for (int p = starts[i]; p < dst.position() && matched < PREFACE.length; p++, matched++) {
                if (dst.get(p) != PREFACE[matched]) return false;
            }
        }
        return matched >= DECIDING_BYTES;
    }

    @Override
    public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
        return selector;
    }

    @Override
    public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
        return engine.wrap(srcs, offset, length, dst);
    }

    @Override
    public Runnable getDelegatedTask() {
        return engine.getDelegatedTask();
    }

    @Override
    public void closeInbound() throws SSLException {
        engine.closeInbound();
    }

    @Override
    public boolean isInboundDone() {
        return engine.isInboundDone();
    }

    @Override
    public void closeOutbound() {
        engine.closeOutbound();
    }

    @Override
    public boolean isOutboundDone() {
        return engine.isOutboundDone();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return engine.getSupportedCipherSuites();
    }

    @Override
    public String[] getEnabledCipherSuites() {
        return engine.getEnabledCipherSuites();
    }

    @Override
    public void setEnabledCipherSuites(String[] suites) {
        engine.setEnabledCipherSuites(suites);
    }

    @Override
    public String[] getSupportedProtocols() {
        return engine.getSupportedProtocols();
    }

    @Override
    public String[] getEnabledProtocols() {
        return engine.getEnabledProtocols();
    }

    @Override
    public void setEnabledProtocols(String[] protocols) {
        engine.setEnabledProtocols(protocols);
    }

    @Override
    public SSLSession getSession() {
        return engine.getSession();
    }

    @Override
    public SSLSession getHandshakeSession() {
        return engine.getHandshakeSession();
    }

    @Override
    public void beginHandshake() throws SSLException {
        engine.beginHandshake();
    }

    @Override
    public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
        return engine.getHandshakeStatus();
    }

    @Override
    public void setUseClientMode(boolean mode) {
        engine.setUseClientMode(mode);
    }

    @Override
    public boolean getUseClientMode() {
        return engine.getUseClientMode();
    }

    @Override
    public void setNeedClientAuth(boolean need) {
        engine.setNeedClientAuth(need);
    }

    @Override
    public boolean getNeedClientAuth() {
        return engine.getNeedClientAuth();
    }

    @Override
    public void setWantClientAuth(boolean want) {
        engine.setWantClientAuth(want);
    }

    @Override
    public boolean getWantClientAuth() {
        return engine.getWantClientAuth();
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
        engine.setEnableSessionCreation(flag);
    }

    @Override
    public boolean getEnableSessionCreation() {
        return engine.getEnableSessionCreation();
    }

    @Override
    public SSLParameters getSSLParameters() {
        return engine.getSSLParameters();
    }

    @Override
    public void setSSLParameters(SSLParameters parameters) {
        engine.setSSLParameters(parameters);
    }

    @Override
    public String getApplicationProtocol() {
        return engine.getApplicationProtocol();
    }

    @Override
    public String getHandshakeApplicationProtocol() {
        return engine.getHandshakeApplicationProtocol();
    }
}
