package io.sluice.node.it;

import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * HTTP/2 with prior knowledge (h2c) on the node's main port, beside HTTP/1.1, driven by the client
 * the Kinesis Client Library builds ({@code KinesisClientUtil}: the SDK's Netty client forced to
 * {@link Protocol#HTTP2}), which speaks nothing else: against an HTTP/1.1-only port its first call
 * fails with "First received frame was not SETTINGS". Each client counts the TCP connections it
 * opens, which shows that calls share one HTTP/2 connection and that the connection outlives idle
 * periods (the client's health-check PINGs are answered).
 */
class Http2Test {
    /** Shorter than the idle wait below: only the client's PINGs keep the connection open across it. */
    static final Duration SERVER_IDLE_TIMEOUT = Duration.ofSeconds(3);
    static final Duration PING_PERIOD = Duration.ofSeconds(1);

    static TestNode node;
    static Http2Client kinesis;

    /** An SDK Kinesis client on HTTP/2 and the number of TCP connections it has opened. */
    record Http2Client(KinesisAsyncClient client, AtomicInteger connections, NioEventLoopGroup loop,
                       ConcurrentLinkedQueue<String> contentTypes) implements AutoCloseable {
        static Http2Client of(TestNode node, String secretKey) {
            return of(node, secretKey, PING_PERIOD);
        }

        /** @param pingPeriod how often the client sends a health-check PING; zero for never */
        static Http2Client of(TestNode node, String secretKey, Duration pingPeriod) {
            AtomicInteger connections = new AtomicInteger();
            NioEventLoopGroup loop = new NioEventLoopGroup(1);
            ConcurrentLinkedQueue<String> contentTypes = new ConcurrentLinkedQueue<>();
            KinesisAsyncClient client = KinesisAsyncClient.builder()
                    .endpointOverride(node.endpoint())
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, secretKey)))
                    .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                            .protocol(Protocol.HTTP2)
                            .http2Configuration(h2 -> h2.healthCheckPingPeriod(pingPeriod))
                            // the client's own idle reaper must not be what closes the connection in the idle test
                            .connectionMaxIdleTime(Duration.ofSeconds(60))
                            .eventLoopGroup(SdkEventLoopGroup.create(loop, () -> {
                                connections.incrementAndGet();
                                return new NioSocketChannel();
                            })))
                    .overrideConfiguration(c -> c.addExecutionInterceptor(new ExecutionInterceptor() {
                        @Override
                        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                            context.httpRequest().firstMatchingHeader("Content-Type").ifPresent(contentTypes::add);
                        }
                    }))
                    .build();
            return new Http2Client(client, connections, loop, contentTypes);
        }

        @Override
        public void close() {
            client.close();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), "pekko.http.server.idle-timeout = " + SERVER_IDLE_TIMEOUT.toSeconds() + "s").start();
        kinesis = Http2Client.of(node, node.secretKey);
    }

    @AfterAll
    static void stop() {
        if (kinesis != null) kinesis.close();
        if (node != null) node.close();
    }

    static <T> T await(CompletableFuture<T> call) {
        return call.orTimeout(60, TimeUnit.SECONDS).join();
    }

    @Test
    void answersTheHttp2ConnectionPrefaceWithSettings() throws Exception {
        try (Socket socket = new Socket(node.endpoint().getHost(), node.endpoint().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 0x4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame on stream 0
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] header = new byte[9];
            in.readFully(header);
            assertEquals(0x4, header[3], "the first frame an HTTP/2 server sends is SETTINGS");
            assertEquals(0, (header[5] | header[6] | header[7] | header[8]), "SETTINGS is on stream 0");
        }
    }

    @Test
    void servesHttp11OnTheSamePort() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(node.endpoint().resolve("/health"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals(HttpClient.Version.HTTP_1_1, health.version());
    }

    @Test
    void roundTripsRecordsOverOneHttp2ConnectionInCbor() {
        try (Http2Client h2 = Http2Client.of(node, node.secretKey)) {
            KinesisAsyncClient client = h2.client();
            String stream = "h2-round-trip";
            await(client.createStream(b -> b.streamName(stream).shardCount(1)));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (await(client.describeStreamSummary(b -> b.streamName(stream))).streamDescriptionSummary().streamStatus()
                    != StreamStatus.ACTIVE) {
                assertTrue(System.nanoTime() < deadline, stream + " not ACTIVE in time");
                KinesisSdkContract.sleep(50);
            }
            await(client.putRecord(b -> b.streamName(stream).partitionKey("k").data(SdkBytes.fromUtf8String("one"))));
            var put = await(client.putRecords(b -> b.streamName(stream).records(
                    PutRecordsRequestEntry.builder().partitionKey("k").data(SdkBytes.fromUtf8String("two")).build(),
                    PutRecordsRequestEntry.builder().partitionKey("k").data(SdkBytes.fromUtf8String("three")).build())));
            assertEquals(0, put.failedRecordCount());
            String shard = await(client.listShards(b -> b.streamName(stream))).shards().get(0).shardId();
            String iterator = await(client.getShardIterator(b -> b.streamName(stream).shardId(shard)
                    .shardIteratorType(ShardIteratorType.TRIM_HORIZON))).shardIterator();
            List<Record> records = await(client.getRecords(b -> b.shardIterator(iterator))).records();

            assertEquals(List.of("one", "two", "three"), records.stream().map(r -> r.data().asUtf8String()).toList());
            assertTrue(h2.contentTypes().stream().allMatch(ct -> ct.startsWith("application/x-amz-cbor-1.1")),
                    h2.contentTypes().toString());
            assertEquals(1, h2.connections().get(), "every call went over one multiplexed HTTP/2 connection");
        }
    }

    @Test
    void rejectsAWrongSignatureOverHttp2() {
        try (Http2Client forged = Http2Client.of(node, node.secretKey + "-not-it")) {
            CompletionException failure = assertThrows(CompletionException.class,
                    () -> await(forged.client().listStreams(b -> {})));
            KinesisException e = assertInstanceOf(KinesisException.class, failure.getCause());
            assertEquals(400, e.statusCode());
            assertEquals("InvalidSignatureException", e.awsErrorDetails().errorCode());
            assertTrue(e.awsErrorDetails().errorMessage().startsWith("The request signature we calculated does not match"),
                    e.awsErrorDetails().errorMessage());
        }
    }

    @Test
    void answersErrorsInAwsShapeOverHttp2() {
        CompletionException failure = assertThrows(CompletionException.class,
                () -> await(kinesis.client().describeStreamSummary(b -> b.streamName("h2-no-such-stream"))));
        ResourceNotFoundException e = assertInstanceOf(ResourceNotFoundException.class, failure.getCause());
        assertEquals(400, e.statusCode());
        assertNotNull(e.requestId());
    }

    @Test
    void keepsAnIdleConnectionOpenWhileItsPingsAreAnswered() throws Exception {
        try (Http2Client pinging = Http2Client.of(node, node.secretKey);
             Http2Client silent = Http2Client.of(node, node.secretKey, Duration.ZERO)) {
            await(pinging.client().listStreams(b -> {}));
            await(silent.client().listStreams(b -> {}));
            // longer than several PING periods and than the server's idle-timeout: a PING left
            // unanswered makes the client drop its connection, and without PINGs the server closes it
            Thread.sleep(SERVER_IDLE_TIMEOUT.plus(PING_PERIOD.multipliedBy(2)).toMillis());
            await(pinging.client().listStreams(b -> {}));
            await(silent.client().listStreams(b -> {}));
            assertEquals(1, pinging.connections().get(), "the connection of a client that pings survives idle periods");
            assertEquals(2, silent.connections().get(), "the server closed the idle connection of a client that does not ping");
        }
    }
}
