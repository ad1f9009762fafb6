package io.sluice.node.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.tls.PemFiles;
import io.sluice.node.tls.ServerCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The HTTPS listener every node runs beside its plain port: the same API over HTTP/1.1 and HTTP/2
 * (ALPN, or HTTP/2 started at once as the KCL's client does), with the self-signed certificate the
 * node generated into its data folder on first start and kept across a restart, or with the PEM
 * files it is given; TLS 1.2 and 1.3 with AEAD suites only; driven by the AWS SDK v2 (URLConnection
 * and Netty clients), both AWS CLIs, and raw sockets where a client library would refuse before the
 * server is asked.
 */
class TlsTest {
    static TestNode node;
    static final ListAppender<ILoggingEvent> startLog = new ListAppender<>();

    @BeforeAll
    static void start() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        startLog.start();
        root.addAppender(startLog);
        try {
            node = new TestNode(Clock.systemUTC(), "").start();
        } finally {
            root.detachAppender(startLog);
        }
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static String sha256(X509Certificate certificate) throws Exception {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    }

    static <T> T await(java.util.concurrent.CompletableFuture<T> call) {
        return call.orTimeout(60, TimeUnit.SECONDS).join();
    }

    /** A TLS socket to the node's HTTPS port, trusting its certificate, handshake done. */
    static SSLSocket handshake(SSLContext context, int port, java.util.function.Consumer<SSLParameters> configure) throws Exception {
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        configure.accept(parameters);
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    @Test
    void servesTheApiOverHttpsWithATrustStoreOfTheGeneratedCertificate() {
        try (KinesisClient kinesis = node.kinesisHttpsClient()) {
            TestNode.createActive(kinesis, "tls-http1", 1);
            kinesis.putRecord(b -> b.streamName("tls-http1").partitionKey("k").data(SdkBytes.fromUtf8String("over https")));
            List<String> read = TestNode.readShard(kinesis, "tls-http1", "shardId-000000000000", null).stream()
                    .map(r -> r.data().asUtf8String()).toList();
            assertEquals(List.of("over https"), read);
        }
    }

    @ParameterizedTest(name = "alpn={0}")
    @ValueSource(booleans = {true, false})
    void servesHttp2ToTheNettyClientWithAndWithoutAlpn(boolean alpn) {
        String stream = "tls-h2-" + (alpn ? "alpn" : "prior-knowledge");
        try (KinesisAsyncClient kinesis = node.kinesisHttp2TlsClient(alpn)) {
            await(kinesis.createStream(b -> b.streamName(stream).shardCount(1)));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!await(kinesis.describeStreamSummary(b -> b.streamName(stream))).streamDescriptionSummary()
                    .streamStatusAsString().equals("ACTIVE")) {
                assertTrue(System.nanoTime() < deadline, stream + " not ACTIVE in time");
                KinesisSdkContract.sleep(50);
            }
            await(kinesis.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String("h2 over tls"))));
            String iterator = await(kinesis.getShardIterator(b -> b.streamName(stream).shardId("shardId-000000000000")
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON))).shardIterator();
            assertEquals(List.of("h2 over tls"), await(kinesis.getRecords(b -> b.shardIterator(iterator))).records().stream()
                    .map(r -> r.data().asUtf8String()).toList());
        }
    }

    @Test
    void refusesAClientThatDoesNotTrustTheCertificate() throws Exception {
        try (KinesisClient untrusting = KinesisClient.builder().endpointOverride(node.httpsEndpoint()).region(Region.US_EAST_1)
                .credentialsProvider(() -> software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(node.accessKeyId, node.secretKey))
                .httpClient(UrlConnectionHttpClient.create()).build()) {
            SdkClientException e = assertThrows(SdkClientException.class, () -> untrusting.listStreams(b -> {}));
            assertTrue(causes(e).stream().anyMatch(c -> c instanceof SSLHandshakeException), e.toString());
        }
        SSLContext jdkDefaults = SSLContext.getDefault();
        assertThrows(SSLHandshakeException.class, () -> handshake(jdkDefaults, node.running().httpsPort(), p -> {}).close());
    }

    static List<Throwable> causes(Throwable t) {
        List<Throwable> out = new java.util.ArrayList<>();
        for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) out.add(c);
        return out;
    }

    @Test
    void negotiatesTls13OrTls12WithAnAeadSuite() throws Exception {
        try (SSLSocket defaults = handshake(node.sslContext(), node.running().httpsPort(), p -> {})) {
            assertEquals("TLSv1.3", defaults.getSession().getProtocol());
        }
        try (SSLSocket tls12 = handshake(node.sslContext(), node.running().httpsPort(), p -> p.setProtocols(new String[] {"TLSv1.2"}))) {
            assertEquals("TLSv1.2", tls12.getSession().getProtocol());
            String suite = tls12.getSession().getCipherSuite();
            assertTrue(suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("CHACHA20")), suite);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"})
    void refusesACipherSuiteWithoutAead(String suite) {
        assertThrows(SSLHandshakeException.class, () -> handshake(node.sslContext(), node.running().httpsPort(), p -> {
            p.setProtocols(new String[] {"TLSv1.2"});
            p.setCipherSuites(new String[] {suite});
        }).close());
    }

    /**
     * A JDK client will not even offer TLS 1.0 or 1.1 (jdk.tls.disabledAlgorithms), so the ClientHello
     * is written by hand: the server must answer it with a fatal alert, while the same hello for TLS 1.2
     * with an AEAD suite gets a ServerHello (which shows the hand-made hello is well formed).
     */
    @Test
    void refusesTls10AndTls11() throws Exception {
        int port = node.running().httpsPort();
        assertEquals("ServerHello", RawClientHello.answer(port, 0x0303, RawClientHello.ECDHE_ECDSA_AES_128_GCM_SHA256));
        assertEquals("alert protocol_version", RawClientHello.answer(port, 0x0302, RawClientHello.ECDHE_ECDSA_AES_128_CBC_SHA));
        assertEquals("alert protocol_version", RawClientHello.answer(port, 0x0301, RawClientHello.ECDHE_ECDSA_AES_128_CBC_SHA));
    }

    @Test
    void alpnChoosesH2WhenOfferedAndHttp11Otherwise() throws Exception {
        int port = node.running().httpsPort();
        try (SSLSocket h2 = handshake(node.sslContext(), port, p -> p.setApplicationProtocols(new String[] {"h2", "http/1.1"}))) {
            assertEquals("h2", h2.getApplicationProtocol());
            OutputStream out = h2.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 0x4, 0, 0, 0, 0, 0});
            out.flush();
            byte[] frame = new byte[9];
            new DataInputStream(h2.getInputStream()).readFully(frame);
            assertEquals(0x4, frame[3], "the server's first HTTP/2 frame is SETTINGS");
        }
        for (String[] offered : List.of(new String[] {"http/1.1"}, new String[0])) {
            try (SSLSocket http1 = handshake(node.sslContext(), port, p -> p.setApplicationProtocols(offered))) {
                assertEquals(offered.length == 0 ? "" : "http/1.1", http1.getApplicationProtocol());
                http1.getOutputStream().write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String answer = new String(http1.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            }
        }
    }

    /**
     * Restarts the node with PEM files of its own (an RSA certificate made by the test): it serves
     * that certificate and makes none; restarted again without them, it serves the certificate it
     * generated on first start.
     */
    @Test
    void servesTheCertificateItIsGivenAndReusesTheGeneratedOneAcrossRestarts() throws Exception {
        Path key = node.dataDir.resolve(ServerCertificate.KEY_FILE);
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE), Files.getPosixFilePermissions(key));
        assertEquals(node.dataDir.resolve(ServerCertificate.CERTIFICATE_FILE), node.tlsCertificateFile());
        X509Certificate generated = node.tlsCertificate();
        assertTrue(generated.getSubjectAlternativeNames().stream().map(n -> n.get(1)).toList()
                .containsAll(List.of("localhost", "127.0.0.1")), generated.getSubjectAlternativeNames().toString());
        String keyFile = Files.readString(key);

        Path dir = Files.createTempDirectory("sluice-tls-given");
        TestCertificates.Issued given = TestCertificates.rsa("sluice.example.test", dir);
        try {
            node.restartWith("sluice.http.tls.certificate = \"" + given.certificateFile() + "\"\n"
                    + "sluice.http.tls.private-key = \"" + given.keyFile() + "\"");
            SSLContext trustingGiven = TlsClients.sslContextOf(TlsClients.trustManagersOf(TlsClients.trustStoreOf(given.certificate())));
            try (SSLSocket socket = handshake(trustingGiven, node.running().httpsPort(), p -> {})) {
                assertEquals(sha256(given.certificate()), sha256((X509Certificate) socket.getSession().getPeerCertificates()[0]));
            }
            try (KinesisClient kinesis = node.kinesisHttpsClient()) {
                assertNotNull(kinesis.listStreams(b -> {}).streamNames(), "the SDK trusts the given certificate, as TestNode offers it");
            }
            assertEquals(keyFile, Files.readString(key), "the generated key is left alone while a certificate is given");
        } finally {
            node.restartWith("");
        }
        try (SSLSocket socket = handshake(node.sslContext(), node.running().httpsPort(), p -> {})) {
            assertEquals(sha256(generated), sha256((X509Certificate) socket.getSession().getPeerCertificates()[0]),
                    "the restarted node serves the certificate it made on first start");
        }
    }

    @Test
    void logsTheFingerprintAndHowToTrustButNeverThePrivateKey() throws Exception {
        String fingerprint = sha256(node.tlsCertificate());
        List<String> lines = startLog.list.stream().map(SecretsStayOutOfLogsTest::everythingIn).toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains(fingerprint) && l.contains("AWS_CA_BUNDLE=" + node.tlsCertificateFile())),
                "a start-up line gives the SHA-256 fingerprint and how to trust the certificate");
        var key = PemFiles.readPrivateKey(node.dataDir.resolve(ServerCertificate.KEY_FILE));
        String pem = Files.readString(node.dataDir.resolve(ServerCertificate.KEY_FILE));
        String body = pem.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
        Map<String, String> forms = Map.of(
                "PEM body line", pem.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow(),
                "PKCS#8 base64", body,
                "PKCS#8 hex", HexFormat.of().formatHex(key.getEncoded()),
                "private scalar hex", ((java.security.interfaces.ECPrivateKey) key).getS().toString(16),
                "private scalar decimal", ((java.security.interfaces.ECPrivateKey) key).getS().toString());
        for (String line : lines) {
            forms.forEach((name, secret) -> assertFalse(line.contains(secret), name + " of the TLS key in: " + line));
        }
    }

    public static List<String> clis() {
        return AwsCliTest.clis();
    }

    @ParameterizedTest
    @MethodSource("clis")
    void theAwsCliTalksHttpsWithNoVerifySslOrWithTheCertificateAsCaBundle(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        try (KinesisClient kinesis = node.kinesisClient()) {
            TestNode.createActive(kinesis, "tls-cli-" + version, 1);
        }
        AwsCliTest.Result untrusted = AwsCliTest.aws(node.httpsEndpoint(), node.accessKeyId, node.secretKey, Map.of(), cli,
                "kinesis", "list-streams");
        assertNotEquals(0, untrusted.exit(), untrusted.out());
        assertTrue(untrusted.err().contains("SSL validation failed") || untrusted.err().contains("CERTIFICATE_VERIFY_FAILED"),
                untrusted.err());

        AwsCliTest.Result insecure = AwsCliTest.aws(node.httpsEndpoint(), node.accessKeyId, node.secretKey, Map.of(), cli,
                "--no-verify-ssl", "kinesis", "list-streams");
        assertEquals(0, insecure.exit(), insecure.err());
        assertTrue(insecure.out().contains("tls-cli-" + version), insecure.out());

        Map<String, String> bundle = Map.of("AWS_CA_BUNDLE", node.tlsCertificateFile().toString());
        AwsCliTest.Result trusted = AwsCliTest.aws(node.httpsEndpoint(), node.accessKeyId, node.secretKey, bundle, cli,
                "kinesis", "describe-stream-summary", "--stream-name", "tls-cli-" + version);
        assertEquals(0, trusted.exit(), trusted.err());
        JsonNode summary = AwsCliTest.json.readTree(trusted.out()).get("StreamDescriptionSummary");
        assertEquals("ACTIVE", summary.get("StreamStatus").asText());
        assertFalse(trusted.err().contains("InsecureRequestWarning"), trusted.err());
    }

    /** A hand-written TLS ClientHello, for versions and suites no JDK client will offer. */
    static final class RawClientHello {
        static final int ECDHE_ECDSA_AES_128_GCM_SHA256 = 0xC02B;
        static final int ECDHE_ECDSA_AES_128_CBC_SHA = 0xC009;

        /** What the server answers a ClientHello of {@code version} offering {@code suite}: "ServerHello" or "alert NAME". */
        static String answer(int port, int version, int suite) throws Exception {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(record(version, suite));
                InputStream in = socket.getInputStream();
                int type = in.read();
                byte[] rest = in.readNBytes(6);
                if (type == 0x16 && rest[4] == 0x02) return "ServerHello";
                if (type == 0x15) return "alert " + switch (rest[5] & 0xff) {
                    case 40 -> "handshake_failure";
                    case 70 -> "protocol_version";
                    case 71 -> "insufficient_security";
                    default -> Integer.toString(rest[5] & 0xff);
                };
                return "record type " + type;
            }
        }

        private static byte[] record(int version, int suite) {
            java.io.ByteArrayOutputStream extensions = new java.io.ByteArrayOutputStream();
            extension(extensions, 0x000a, new byte[] {0, 2, 0, 0x17});             // supported_groups: secp256r1
            extension(extensions, 0x000b, new byte[] {1, 0});                      // ec_point_formats: uncompressed
            extension(extensions, 0x000d, new byte[] {0, 4, 0x04, 0x03, 0x04, 0x01}); // signature_algorithms
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            body.write(version >> 8);
            body.write(version);
            byte[] random = new byte[32];
            new java.security.SecureRandom().nextBytes(random);
            body.writeBytes(random);
            body.write(0);                                                         // no session id
            body.writeBytes(new byte[] {0, 2, (byte) (suite >> 8), (byte) suite});
            body.writeBytes(new byte[] {1, 0});                                    // null compression
            byte[] ext = extensions.toByteArray();
            body.write(ext.length >> 8);
            body.write(ext.length);
            body.writeBytes(ext);
            byte[] hello = body.toByteArray();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.writeBytes(new byte[] {0x16, 0x03, 0x01, (byte) ((hello.length + 4) >> 8), (byte) (hello.length + 4)});
            out.writeBytes(new byte[] {0x01, 0, (byte) (hello.length >> 8), (byte) hello.length});
            out.writeBytes(hello);
            return out.toByteArray();
        }

        private static void extension(java.io.ByteArrayOutputStream out, int type, byte[] data) {
            out.writeBytes(new byte[] {(byte) (type >> 8), (byte) type, (byte) (data.length >> 8), (byte) data.length});
            out.writeBytes(data);
        }
    }
}
