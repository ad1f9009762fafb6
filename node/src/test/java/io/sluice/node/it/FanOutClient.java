package io.sluice.node.it;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.model.ConsumerStatus;
import software.amazon.awssdk.services.kinesis.model.StartingPosition;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEvent;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardEventStream;
import software.amazon.awssdk.services.kinesis.model.SubscribeToShardResponseHandler;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The SDK v2's asynchronous Kinesis client on HTTP/2 (the only way the SDK subscribes), and one
 * running SubscribeToShard as a test sees it: each event with the time it arrived, and how it ended.
 */
final class FanOutClient implements AutoCloseable {
    final KinesisAsyncClient client;

    FanOutClient(URI endpoint, String accessKeyId, String secretKey) {
        this(endpoint, accessKeyId, secretKey, null);
    }

    /** @param tls how to trust the node's certificate on an https endpoint, null for h2c */
    FanOutClient(URI endpoint, String accessKeyId, String secretKey, software.amazon.awssdk.http.TlsTrustManagersProvider tls) {
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP2)
                .readTimeout(Duration.ofSeconds(30));
        if (tls != null) http.tlsTrustManagersProvider(tls);
        this.client = KinesisAsyncClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretKey)))
                .httpClientBuilder(http).build();
    }

    /** An event as it arrived. */
    record Arrived(SubscribeToShardEvent event, long atNanos) {}

    /**
     * A subscription: its events as they arrive, and {@code ended}, which completes when the stream ends
     * normally and fails with the exception that ended it otherwise. {@code demand} is how many events the
     * subscriber asks for at first (a slow consumer asks for few and then {@link #request}s more).
     */
    static final class Subscribed {
        final LinkedBlockingQueue<Arrived> events = new LinkedBlockingQueue<>();
        final CompletableFuture<Void> ended;
        private final AtomicReference<Subscription> subscription = new AtomicReference<>();

        Subscribed(KinesisAsyncClient client, String consumerArn, String shardId, StartingPosition start, long demand) {
            SubscribeToShardResponseHandler handler = SubscribeToShardResponseHandler.builder()
                    .onEventStream(publisher -> publisher.subscribe(new Subscriber<SubscribeToShardEventStream>() {
                        @Override
                        public void onSubscribe(Subscription s) {
                            subscription.set(s);
                            s.request(demand);
                        }

                        @Override
                        public void onNext(SubscribeToShardEventStream e) {
                            if (e instanceof SubscribeToShardEvent event) events.add(new Arrived(event, System.nanoTime()));
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onComplete() {
                        }
                    }))
                    .build();
            this.ended = client.subscribeToShard(b -> b.consumerARN(consumerArn).shardId(shardId).startingPosition(start), handler);
        }

        void request(long n) {
            subscription.get().request(n);
        }

        void cancel() {
            Subscription s = subscription.get();
            if (s != null) s.cancel();
        }

        /**
         * Takes events, adding their records to {@code into}, until the subscription has ended (and every event
         * it sent is taken) or {@code into} holds {@code until} records; the last event taken, null if none.
         */
        SubscribeToShardEvent drain(java.util.List<software.amazon.awssdk.services.kinesis.model.Record> into, int until)
                throws InterruptedException {
            SubscribeToShardEvent last = null;
            while (into.size() < until) {
                Arrived a = next(Duration.ofMillis(200));
                if (a != null) {
                    into.addAll(a.event().records());
                    last = a.event();
                } else if (ended.isDone() && events.isEmpty()) {
                    break; // events come before the end: once ended, the queue holds all of them
                }
            }
            return last;
        }

        /** The next event, or null when none arrives in time. */
        Arrived next(Duration within) throws InterruptedException {
            return events.poll(within.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    Subscribed subscribe(String consumerArn, String shardId, StartingPosition start) {
        return new Subscribed(client, consumerArn, shardId, start, Long.MAX_VALUE);
    }

    Subscribed subscribe(String consumerArn, String shardId, StartingPosition start, long demand) {
        return new Subscribed(client, consumerArn, shardId, start, demand);
    }

    /** Registers a consumer and waits until it is ACTIVE; its ARN. */
    String registerActive(String streamArn, String name) {
        String arn = client.registerStreamConsumer(b -> b.streamARN(streamArn).consumerName(name)).join().consumer().consumerARN();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (client.describeStreamConsumer(b -> b.consumerARN(arn)).join().consumerDescription().consumerStatus()
                != ConsumerStatus.ACTIVE) {
            if (System.nanoTime() > deadline) throw new AssertionError("consumer " + arn + " not ACTIVE in time");
            KinesisSdkContract.sleep(50);
        }
        return arn;
    }

    @Override
    public void close() {
        client.close();
    }
}
