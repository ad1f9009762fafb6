package io.sluice.node;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.auth.RootCredentials;
import io.sluice.node.crypto.EnvelopeCipher;
import io.sluice.node.shard.AppendBatcher;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardPurger;
import io.sluice.node.shard.ShardReader;
import io.sluice.protocol.codec.WireFormat;
import io.sluice.protocol.kinesis.Kinesis.DescribeStreamSummaryRequest;
import io.sluice.protocol.kinesis.Kinesis.GetRecordsRequest;
import io.sluice.protocol.kinesis.Kinesis.PutRecordRequest;
import io.sluice.protocol.kinesis.Kinesis.PutRecordsRequest;
import io.sluice.protocol.kinesis.Kinesis.PutRecordsRequestEntry;
import io.sluice.protocol.sigv4.SigV4;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A node that has just started has compiled nothing: its first minute of traffic ran at a fraction
 * of its speed, with second-long tails (load-tests/RESULTS.md, "A node that has just started"). So
 * before a node reports healthy it drives its own hot paths for a while, through the real code:
 * signed requests over HTTP to its own port (decoding, SigV4, validation, routing, error
 * rendering, in JSON and CBOR), and sealed appends and reads of a shard of its own (the group
 * commit, Cluster Sharding, the shard entity, the Cassandra journal, AES-GCM). Nothing of it is
 * visible through the API: the requests name a stream that does not exist, and the warm-up shard
 * belongs to no stream and is deleted from the journal when the warm-up ends.
 */
public final class Warmup {
    private static final Logger log = LoggerFactory.getLogger(Warmup.class);
    private static final int HTTP_CALLERS = 8;
    private static final int APPENDERS = 4;

    private final ActorSystem<?> system;
    private final NodeSettings settings;
    private final RootCredentials credentials;
    private final ActorRef<AppendBatcher.Command> batcher;
    private final ShardReader reader;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String missingStream = "sluice-warmup-" + UUID.randomUUID();
    private final String shardEntityId = ShardEntity.entityId("sluice-warmup-" + UUID.randomUUID(), System.currentTimeMillis(), 0);
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong appends = new AtomicLong();

    public Warmup(ActorSystem<?> system, NodeSettings settings, RootCredentials credentials,
                  ActorRef<AppendBatcher.Command> batcher, ShardReader reader) {
        this.system = system;
        this.settings = settings;
        this.credentials = credentials;
        this.batcher = batcher;
        this.reader = reader;
    }

    /** Runs for {@code duration} against the node's HTTP port; completes when the warm-up shard is deleted again. */
    public CompletionStage<Done> run(int httpPort, Duration duration) {
        if (duration.isZero()) {
            return CompletableFuture.completedFuture(Done.getInstance());
        }
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        String host = settings.httpInterface().equals("0.0.0.0") ? "127.0.0.1" : settings.httpInterface();
        URI endpoint = URI.create("http://" + host + ":" + httpPort + "/");
        List<CompletableFuture<Void>> loops = new ArrayList<>();
        for (int i = 0; i < HTTP_CALLERS; i++) loops.add(httpLoop(endpoint, deadline, i));
        for (int i = 0; i < APPENDERS; i++) loops.add(appendLoop(deadline));
        return CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new))
                .handle((v, failure) -> {
                    if (failure != null) log.warn("Warm-up ended early", failure);
                    return null;
                })
                .thenCompose(v -> deleteWarmupShard())
                .thenApply(done -> {
                    log.info("Warm-up done in {} ms: {} requests, {} appends", (System.nanoTime() - start) / 1_000_000,
                            requests.get(), appends.get());
                    return Done.getInstance();
                });
    }

    private CompletableFuture<Void> httpLoop(URI endpoint, long deadline, int caller) {
        if (System.nanoTime() >= deadline) {
            return CompletableFuture.completedFuture(null);
        }
        long n = requests.incrementAndGet();
        return http.sendAsync(request(endpoint, (int) ((n + caller) % 5)), HttpResponse.BodyHandlers.discarding())
                .thenCompose(response -> httpLoop(endpoint, deadline, caller));
    }

    /** One of the data-plane requests clients send most, in both wire formats; each is refused (no such stream). */
    private HttpRequest request(URI endpoint, int kind) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        byte[] data = new byte[1024];
        rnd.nextBytes(data);
        String key = Long.toHexString(rnd.nextLong());
        WireFormat format = kind % 2 == 0 ? WireFormat.JSON : WireFormat.CBOR;
        String operation;
        Object body;
        switch (kind) {
            case 0, 1 -> {
                operation = "PutRecord";
                body = new PutRecordRequest(missingStream, null, data, key, null, null);
            }
            case 2, 3 -> {
                operation = "PutRecords";
                List<PutRecordsRequestEntry> entries = new ArrayList<>();
                for (int i = 0; i < 20; i++) entries.add(new PutRecordsRequestEntry(data, null, key + i));
                body = new PutRecordsRequest(missingStream, null, entries);
            }
            default -> {
                operation = rnd.nextBoolean() ? "GetRecords" : "DescribeStreamSummary";
                body = operation.equals("GetRecords") ? new GetRecordsRequest("AAAA" + key, 100, null)
                        : new DescribeStreamSummaryRequest(missingStream, null);
            }
        }
        byte[] payload = format.write(body);
        String target = "Kinesis_20131202." + operation;
        List<Map.Entry<String, String>> headers = List.of(Map.entry("Host", endpoint.getHost() + ":" + endpoint.getPort()),
                Map.entry("Content-Type", format.contentType()), Map.entry("X-Amz-Target", target));
        List<Map.Entry<String, String>> signature = SigV4.sign(new SigV4.HttpRequestParts("POST", "/", null, headers, payload),
                credentials.accessKeyId(), credentials.secretAccessKey(), settings.region(), "kinesis", Instant.now());
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
                .header("Content-Type", format.contentType()).header("X-Amz-Target", target);
        signature.forEach(h -> b.header(h.getKey(), h.getValue()));
        return b.build();
    }

    /** Sealed appends to the warm-up shard through the group commit, each read back and opened. */
    private CompletableFuture<Void> appendLoop(long deadline) {
        if (System.nanoTime() >= deadline) {
            return CompletableFuture.completedFuture(null);
        }
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        byte[] dataKey = new byte[EnvelopeCipher.KEY_BYTES];
        rnd.nextBytes(dataKey);
        byte[] aad = shardEntityId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        List<ShardEntity.StoredRecord> records = new ArrayList<>();
        for (int i = 1 + rnd.nextInt(10); i > 0; i--) {
            byte[] plain = new byte[1024];
            rnd.nextBytes(plain);
            byte[] nonce = EnvelopeCipher.newNonce();
            // the key stays here: a throw-away key for random bytes, but no key of any kind goes to the journal in clear
            records.add(new ShardEntity.StoredRecord("k" + i, EnvelopeCipher.standard().seal(dataKey, nonce, plain, aad), -1, nonce));
        }
        return Futures.direct(AskPattern.<AppendBatcher.Command, StatusReply<AppendBatcher.Landed>>ask(batcher,
                        replyTo -> new AppendBatcher.Enqueue(shardEntityId, "sluice-warmup", 0, records, List.of(), replyTo),
                        settings.askTimeout(), system.scheduler()))
                .thenCompose(reply -> {
                    appends.incrementAndGet();
                    AppendBatcher.Landed landed = reply.getValue();
                    return reader.read(ClusterSharding.get(system).entityRefFor(ShardEntity.ENTITY_KEY, shardEntityId),
                            shardEntityId, landed.eventSeqNr(), landed.firstIndex(), records.size(), 1 << 20, 0);
                })
                .thenCompose(read -> {
                    for (var r : read.records()) EnvelopeCipher.standard().open(dataKey, r.nonce(), r.data(), aad);
                    return appendLoop(deadline);
                });
    }

    /** Stops the warm-up shard's entity and deletes all it wrote. */
    private CompletionStage<Done> deleteWarmupShard() {
        return ShardPurger.cassandra(system, settings.askTimeout()).purge(shardEntityId)
                .handle((done, failure) -> {
                    if (failure != null) log.warn("Could not delete the warm-up shard {}", shardEntityId, failure);
                    return Done.getInstance();
                });
    }
}
