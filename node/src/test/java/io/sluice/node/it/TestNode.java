package io.sluice.node.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.SluiceNode;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;

/**
 * A real Sluice node in the test JVM, started through the production {@link SluiceNode#start}
 * against the test Cassandra, in a keyspace of its own (so every test run starts empty).
 */
public final class TestNode implements AutoCloseable {
    public final String keyspace;
    public final Path dataDir;
    public final String accessKeyId;
    public final String secretKey;
    private final Clock clock;
    private String extraConfig;
    private int httpPort;
    private int httpsPort;
    private SluiceNode.Running running;

    public TestNode(Clock clock, String extraConfig) throws IOException {
        this(clock, extraConfig, "sluice_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12),
                "AKIA" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase(),
                UUID.randomUUID() + "/" + UUID.randomUUID());
    }

    private TestNode(Clock clock, String extraConfig, String keyspace, String accessKeyId, String secretKey) throws IOException {
        this.keyspace = keyspace;
        this.dataDir = Files.createTempDirectory("sluice-node");
        this.clock = clock;
        this.extraConfig = extraConfig;
        this.accessKeyId = accessKeyId;
        this.secretKey = secretKey;
    }

    /**
     * {@code size} nodes in this JVM forming one Pekko cluster on one keyspace, with one root identity,
     * iterator secret and KMS root key (what every node of a cluster must share), each with
     * {@code extraConfig} on top: the first applies the schema and forms the cluster, the others join
     * it. Returns once every node sees every member Up; the caller closes each node.
     */
    public static java.util.List<TestNode> cluster(int size, Clock clock, String extraConfig) throws Exception {
        int seedPort = CassandraForTests.freePort();
        String shared = extraConfig + """

                sluice.iterator-secret = "%s"
                sluice.kms.root-key = "%s"
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                """.formatted(random32(), random32());
        java.util.List<TestNode> nodes = new java.util.ArrayList<>();
        try {
            TestNode seed = new TestNode(clock, shared + "pekko.remote.artery.canonical.port = " + seedPort + "\n").start();
            nodes.add(seed);
            for (int i = 1; i < size; i++) {
                nodes.add(new TestNode(clock, shared + """
                        sluice.cassandra.apply-schema = off
                        pekko.cluster.seed-nodes = ["pekko://sluice@127.0.0.1:%d"]
                        """.formatted(seedPort), seed.keyspace, seed.accessKeyId, seed.secretKey).start());
            }
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
            for (TestNode node : nodes) {
                var cluster = org.apache.pekko.cluster.typed.Cluster.get(node.running().system());
                while (java.util.stream.StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
                        .filter(m -> m.status() == org.apache.pekko.cluster.MemberStatus.up()).count() < size) {
                    if (System.nanoTime() > deadline) throw new AssertionError("the " + size + " nodes were not all Up within 60 s");
                    KinesisSdkContract.sleep(50);
                }
            }
            return nodes;
        } catch (Exception | AssertionError e) {
            nodes.forEach(TestNode::close);
            throw e;
        }
    }

    private static String random32() {
        byte[] bytes = new byte[32];
        new java.security.SecureRandom().nextBytes(bytes);
        return java.util.Base64.getEncoder().encodeToString(bytes);
    }

    public TestNode start() throws Exception {
        if (httpPort == 0) {
            httpPort = CassandraForTests.freePort();
            httpsPort = CassandraForTests.freePort();
        }
        Config config = SluiceNode.config(ConfigFactory.parseString(extraConfig)
                .withFallback(ConfigFactory.parseMap(Map.of(
                        "sluice.http.port", httpPort,
                        "sluice.http.tls-port", httpsPort,
                        "sluice.data-dir", dataDir.toString(),
                        "sluice.root-access-key-id", accessKeyId,
                        "sluice.root-secret-access-key", secretKey,
                        "sluice.cassandra.keyspace", keyspace,
                        "sluice.cassandra.contact-points", java.util.List.of(CassandraForTests.contactPoint()),
                        "pekko.remote.artery.canonical.port", 0,
                        // tests talk to the node at once; WarmupTest turns the warm-up on
                        "sluice.warmup.duration", "0s",
                        // and see a deleted stream gone within seconds (no test writes while it deletes)
                        "sluice.stream.delete-drain", "1s")))
                // and an encryption or mode update settle at once (the console's walk-through waits for it)
                .withFallback(ConfigFactory.parseString("sluice.stream.update-delay = 0s")));
        running = SluiceNode.start(config, clock);
        return this;
    }

    /**
     * The config line that starts a node with these IAM users, keys and policies (the bootstrap file's
     * JSON, {@code {"Users": [...]}}), written to a temporary file.
     */
    public static String iamBootstrap(String usersJson) throws IOException {
        Path file = Files.createTempFile("iam-bootstrap", ".json");
        Files.writeString(file, usersJson);
        return "sluice.iam.bootstrap-file = \"" + file + "\"";
    }

    /** An AWS SDK Kinesis client (CBOR, the SDK's default) of this node's root, with the SDK's default retries. */
    public software.amazon.awssdk.services.kinesis.KinesisClient kinesisClient() {
        return ofRoot(software.amazon.awssdk.services.kinesis.KinesisClient.builder(),
                software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.builder()
                        .socketTimeout(java.time.Duration.ofSeconds(60)).build());
    }

    /** An AWS SDK KMS client of this node's root. */
    public software.amazon.awssdk.services.kms.KmsClient kmsClient() {
        return ofRoot(software.amazon.awssdk.services.kms.KmsClient.builder(),
                software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create());
    }

    /** An AWS SDK DynamoDB client (AWS JSON 1.0) of this node's root. */
    public software.amazon.awssdk.services.dynamodb.DynamoDbClient dynamoDbClient() {
        return ofRoot(software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder(),
                software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create());
    }

    /** An AWS SDK IAM client (the Query protocol) of this node's root. */
    public software.amazon.awssdk.services.iam.IamClient iamClient() {
        return ofRoot(software.amazon.awssdk.services.iam.IamClient.builder(),
                software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create());
    }

    /** Any service's SDK client pointed at this node, in us-east-1, signing as its root. */
    private <B extends software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<B, C>
            & software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder<B, C>, C> C ofRoot(
            B builder, software.amazon.awssdk.http.SdkHttpClient http) {
        return builder.endpointOverride(endpoint()).region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                        software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(accessKeyId, secretKey)))
                .httpClient(http)
                .build();
    }

    /** Creates a stream and waits until it is ACTIVE. */
    public static void createActive(software.amazon.awssdk.services.kinesis.KinesisClient kinesis, String stream, int shards) {
        kinesis.createStream(b -> b.streamName(stream).shardCount(shards));
        awaitActive(kinesis, stream);
    }

    public static void awaitActive(software.amazon.awssdk.services.kinesis.KinesisClient kinesis, String stream) {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (kinesis.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus()
                != software.amazon.awssdk.services.kinesis.model.StreamStatus.ACTIVE) {
            if (System.nanoTime() > deadline) throw new AssertionError("stream " + stream + " not ACTIVE in time");
            KinesisSdkContract.sleep(50);
        }
    }

    /** Every record of a shard from TRIM_HORIZON up to the tip, as a reader following the contract gets them. */
    public static java.util.List<software.amazon.awssdk.services.kinesis.model.Record> readShard(
            software.amazon.awssdk.services.kinesis.KinesisClient kinesis, String stream, String shardId, Integer limit) {
        String it = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shardId)
                .shardIteratorType(software.amazon.awssdk.services.kinesis.model.ShardIteratorType.TRIM_HORIZON)).shardIterator();
        java.util.List<software.amazon.awssdk.services.kinesis.model.Record> records = new java.util.ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            String current = it;
            var r = kinesis.getRecords(b -> b.shardIterator(current).limit(limit));
            records.addAll(r.records());
            it = r.nextShardIterator();
            if (r.records().isEmpty() && r.millisBehindLatest() == 0) return records;
        }
        throw new AssertionError("never caught up with " + stream + "/" + shardId);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + httpPort);
    }

    /** The HTTPS listener (h2 and HTTP/1.1 by ALPN), valid for the node's self-signed certificate (unless configured otherwise). */
    public URI httpsEndpoint() {
        return URI.create("https://127.0.0.1:" + running.httpsPort());
    }

    /** The certificate the HTTPS listener presents (the first of its chain). */
    public java.security.cert.X509Certificate tlsCertificate() {
        return running.tlsCertificate().orElseThrow().leaf();
    }

    /** The PEM file of that certificate: what AWS_CA_BUNDLE or curl's --cacert take. */
    public Path tlsCertificateFile() {
        return running.tlsCertificate().orElseThrow().certificateFile();
    }

    /** A trust store (PKCS12, in memory, no password) holding only this node's certificate. */
    public java.security.KeyStore trustStore() {
        return TlsClients.trustStoreOf(tlsCertificate());
    }

    /** Trust managers that trust this node's certificate and nothing else. */
    public javax.net.ssl.TrustManager[] trustManagers() {
        return TlsClients.trustManagersOf(trustStore());
    }

    /** A TLS context (TLS 1.2/1.3, the JDK's defaults) that trusts this node's certificate and nothing else. */
    public javax.net.ssl.SSLContext sslContext() {
        return TlsClients.sslContextOf(trustManagers());
    }

    /** An AWS SDK Kinesis client (CBOR) of this node's root over HTTPS (HTTP/1.1), trusting this node's certificate. */
    public software.amazon.awssdk.services.kinesis.KinesisClient kinesisHttpsClient() {
        javax.net.ssl.TrustManager[] trust = trustManagers();
        return software.amazon.awssdk.services.kinesis.KinesisClient.builder().endpointOverride(httpsEndpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(credentials())
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.builder()
                        .tlsTrustManagersProvider(() -> trust)
                        .socketTimeout(java.time.Duration.ofSeconds(60)).build())
                .build();
    }

    /**
     * An AWS SDK Kinesis async client of this node's root over HTTPS with HTTP/2 (the Netty client as
     * the KCL configures it), trusting this node's certificate. Close the client when done.
     *
     * @param alpn negotiate h2 by ALPN; false: the SDK's default for HTTP/2, which sends no ALPN and
     *             starts HTTP/2 at once after the handshake (what the KCL's client does)
     */
    public software.amazon.awssdk.services.kinesis.KinesisAsyncClient kinesisHttp2TlsClient(boolean alpn) {
        javax.net.ssl.TrustManager[] trust = trustManagers();
        return software.amazon.awssdk.services.kinesis.KinesisAsyncClient.builder().endpointOverride(httpsEndpoint())
                .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                .credentialsProvider(credentials())
                .httpClientBuilder(software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient.builder()
                        .protocol(software.amazon.awssdk.http.Protocol.HTTP2)
                        .protocolNegotiation(alpn ? software.amazon.awssdk.http.ProtocolNegotiation.ALPN
                                : software.amazon.awssdk.http.ProtocolNegotiation.ASSUME_PROTOCOL)
                        .tlsTrustManagersProvider(() -> trust))
                .build();
    }

    private software.amazon.awssdk.auth.credentials.AwsCredentialsProvider credentials() {
        return software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(accessKeyId, secretKey));
    }

    public SluiceNode.Running running() {
        return running;
    }

    /** Stops the node the way an operator would; start() brings it back on the same port and keyspace. */
    public void stop() {
        if (running != null) {
            running.stop();
            running = null;
        }
    }

    /** Stops the node and starts it again (same ports, keyspace and data folder) with other extra configuration. */
    public void restartWith(String extraConfig) throws Exception {
        stop();
        this.extraConfig = extraConfig;
        start();
    }

    @Override
    public void close() {
        stop();
    }
}
