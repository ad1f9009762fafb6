package io.sluice.loadtest.gatling;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.CheckBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.sluice.loadtest.KinesisClient;
import io.sluice.protocol.sigv4.SigV4;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static io.gatling.javaapi.core.CoreDsl.ByteArrayBody;
import static io.gatling.javaapi.core.CoreDsl.bodyBytes;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

/**
 * What the four simulations share: their parameters (system properties, see {@code load-tests/README.md}),
 * the stream each run creates (and deletes) around its load, SigV4-signed Kinesis JSON 1.1 requests with
 * their checks, and the counters a run reports beyond Gatling's own (records and bytes acknowledged,
 * put-to-get propagation delay, and for a run with readers the {@link Ledger}'s comparison of what was read
 * with what was acknowledged) in a properties file that {@code load.sh} folds into its summary line.
 *
 * <p>Every request is signed in a session step just before it is sent: the body is built, signed by
 * {@link KinesisClient#signature} over exactly the headers Gatling sends (Content-Type, Host as derived from
 * the endpoint, X-Amz-Target), and carried to the request through the session. Nothing Sluice-specific is
 * sent, so the same run works against any Kinesis endpoint.
 */
final class KinesisLoad {

    static final ObjectMapper JSON = new ObjectMapper();

    final String simulation;
    final List<String> endpoints;
    final String region;
    final String stream;
    final int shards;
    final int size;
    final int batch;
    final double rate;
    final Duration duration;
    final Duration ramp;
    final String kmsKeyId;
    final boolean keepStream;
    final Duration poll;
    final Duration warmup;
    /** System.nanoTime() from which requests count as measured; set when the stream is ready. */
    private volatile long measuredFrom = Long.MAX_VALUE;
    /** One per endpoint (each signs its own Host); the first also does the control-plane calls. */
    final List<KinesisClient> clients;
    final KinesisClient client;

    /** Filled by {@link #createStream()}: the open shard ids. */
    volatile List<String> shardIds = List.of();

    final AtomicLong recordsAcked = new AtomicLong();
    final AtomicLong bytesAcked = new AtomicLong();
    final AtomicLong recordsRead = new AtomicLong();
    final Propagation propagation = new Propagation();
    /** Acknowledged records and what the tail readers read; compared in {@link #finish} when a run has readers. */
    final Ledger ledger = new Ledger();
    /** Puts sent and not answered yet, and when the last one was answered (nanoTime): the readers drain after them. */
    private final AtomicInteger putsInFlight = new AtomicInteger();
    private volatile long lastPutAnsweredAt = System.nanoTime();
    private final long runId = ThreadLocalRandom.current().nextLong();

    KinesisLoad(String simulation, double defaultRate) {
        this.simulation = simulation;
        this.endpoints = List.of(str("endpoint", "http://127.0.0.1:4567").split("\\s*,\\s*"));
        this.region = str("region", KinesisClient.defaultRegion());
        this.stream = str("stream", "gatling-" + simulation.toLowerCase(Locale.ROOT) + "-" + System.currentTimeMillis());
        this.shards = (int) num("shards", 4);
        this.size = (int) num("size", 1024);
        this.batch = (int) num("batch", 100);
        this.rate = Double.parseDouble(str("rate", Double.toString(defaultRate)));
        this.duration = Duration.ofSeconds(num("duration", 30));
        // rates climb over the warm-up instead of starting at full speed: a cold client opening its whole
        // pool in the first second is a connection storm no real producer fleet makes
        this.ramp = Duration.ofSeconds(num("ramp", 10));
        this.kmsKeyId = str("encryption", "none").equalsIgnoreCase("kms") ? str("keyId", "alias/aws/kinesis") : null;
        this.keepStream = Boolean.parseBoolean(str("keepStream", "false"));
        this.poll = Duration.ofMillis(num("poll", 50));
        this.warmup = Duration.ofSeconds(num("warmup", 10));
        Duration timeout = Duration.ofSeconds(num("timeout", 30));
        this.clients = endpoints.stream().map(e -> KinesisClient.fromEnvironment(e, region, timeout)).toList();
        this.client = clients.get(0);
        System.err.printf(Locale.ROOT, "%s: endpoint=%s stream=%s shards=%d rate=%s/s duration=%ds size=%d batch=%d encryption=%s%n",
                simulation, String.join(",", endpoints), stream, shards, rate, duration.toSeconds(), size, batch,
                kmsKeyId == null ? "none" : "kms (" + kmsKeyId + ")");
    }

    /**
     * HTTP/1.1 with a shared keep-alive pool, as an SDK client: an open model would otherwise open a connection
     * per user. Each request names its endpoint itself (see {@link #call}).
     */
    HttpProtocolBuilder protocol() {
        // bounded, as an SDK client's pool is (50 by default in the AWS SDK): unbounded, a stall made Gatling
        // open a connection per waiting request, past the server's max-connections (1024). Beyond saturation
        // requests wait here for a connection, and that wait counts in their latency and time-out.
        return http.shareConnections().maxConnectionsPerHost((int) num("connections", 64)).disableCaching().disableWarmUp()
                .acceptHeader(KinesisClient.CONTENT_TYPE).header("Accept-Encoding", "identity");
    }

    /** The EncryptionType every answer must carry: KMS on an encrypted stream, NONE (or nothing, as emulators do) otherwise. */
    String expectedEncryption() {
        return kmsKeyId == null ? "NONE" : "KMS";
    }

    // ---------------------------------------------------------------- stream around the run

    void createStream() {
        try {
            client.ensureStream(stream, shards, kmsKeyId);
            shardIds = List.copyOf(client.openShards(stream));
            measuredFrom = System.nanoTime() + warmup.toNanos();
            if (shardIds.isEmpty()) {
                throw new IllegalStateException("ListShards of " + stream + " named no open shard");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Deletes the run's stream (unless {@code keepStream=true}) and writes the run's own counters. */
    void finish(Map<String, Object> extra) {
        if (!keepStream) {
            try {
                client.deleteStream(stream);
            } catch (IOException | InterruptedException e) {
                System.err.println(simulation + ": could not delete " + stream + ": " + e.getMessage());
            }
        }
        Properties p = new Properties();
        p.setProperty("simulation", simulation);
        p.setProperty("endpoint", String.join(",", endpoints));
        p.setProperty("encryption", kmsKeyId == null ? "none" : "kms");
        p.setProperty("shards", Integer.toString(shards));
        p.setProperty("size", Integer.toString(size));
        p.setProperty("recordsAcked", Long.toString(recordsAcked.get()));
        p.setProperty("bytesAcked", Long.toString(bytesAcked.get()));
        p.setProperty("recordsRead", Long.toString(recordsRead.get()));
        propagation.into(p);
        if (ledger.used()) {
            // the readers have stopped (after their drain): every read and every acknowledgement is in
            ledger.verdict().forEach((k, v) -> p.setProperty(k, Long.toString(v)));
        }
        extra.forEach((k, v) -> p.setProperty(k, String.valueOf(v)));
        Path dir = Path.of(str("summaryDir", "target/gatling-summary"));
        try {
            Files.createDirectories(dir);
            try (var out = Files.newBufferedWriter(dir.resolve(simulation + ".properties"), StandardCharsets.UTF_8)) {
                p.store(out, "counters of the last " + simulation + " run, read by load.sh");
            }
        } catch (IOException e) {
            System.err.println(simulation + ": could not write the summary: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- requests

    /**
     * Builds the body, signs it, then sends it with the given checks. The request is named after the
     * operation (requests of the first {@code warmup} seconds under {@code <Op> warm-up}), so Gatling's
     * report has one line per operation and the measured lines leave the JIT warm-up out. With several
     * endpoints (a cluster), each virtual user sticks to one of them, the users spread over all in turn.
     */
    ChainBuilder call(String operation, Function<Session, Body> body, CheckBuilder... checks) {
        return exec(session -> {
            Body b = body.apply(session);
            int i = (int) Math.floorMod(session.userId(), (long) clients.size());
            List<Map.Entry<String, String>> signature = clients.get(i).signature(operation, b.bytes(), b.sha256());
            // the first warmup seconds (a fresh JVM on both sides compiling its hot paths) under their own name
            long now = System.nanoTime();
            String name = now < measuredFrom ? operation + " warm-up" : operation;
            return session.set("body", b.bytes())
                    .set("fingerprints", b.fingerprints())
                    .set("sentAt", now)
                    .set("requestName", name)
                    .set("url", clients.get(i).uri().toString())
                    .set("amzDate", signature.get(0).getValue())
                    .set("authorization", signature.get(1).getValue());
        }).exec(http("#{requestName}").post("#{url}")
                .header("Content-Type", KinesisClient.CONTENT_TYPE)
                .header("X-Amz-Target", KinesisClient.target(operation))
                .header("X-Amz-Date", "#{amzDate}")
                .header("Authorization", "#{authorization}")
                .body(ByteArrayBody("#{body}"))
                .check(withStatus(checks)));
    }

    /**
     * A PutRecord or PutRecords (of {@code records} records) as {@link #call}, whose answer's shard ids and
     * sequence numbers go into the {@link #ledger} with the fingerprints of the records sent, then counted by
     * {@link #acknowledged}. What the server acknowledged is in the ledger even when another check failed the
     * request: a reader will get it. The {@link #tailReader}s read on while such a put is in flight.
     */
    ChainBuilder put(String operation, Function<Session, Body> body, int records, CheckBuilder... checks) {
        CheckBuilder[] all = new CheckBuilder[checks.length + 1];
        all[0] = bodyBytes().transform(Ledger::placed).saveAs("placed");
        System.arraycopy(checks, 0, all, 1, checks.length);
        return exec(session -> {
                    putsInFlight.incrementAndGet();
                    return session.remove("placed");
                })
                .exec(call(operation, body, all))
                .exec(session -> {
                    long now = System.nanoTime();
                    if (session.contains("placed")) {
                        ledger.acknowledged(session.get("placed"), session.get("fingerprints"), session.getLong("sentAt"), now);
                    }
                    lastPutAnsweredAt = now;
                    putsInFlight.decrementAndGet();
                    return session;
                })
                .exec(acknowledged(records));
    }

    /** Counts {@code records} acknowledged records (and their bytes) when the request before it succeeded. */
    ChainBuilder acknowledged(int records) {
        return exec(session -> {
            if (!session.isFailed()) {
                recordsAcked.addAndGet(records);
                bytesAcked.addAndGet((long) records * size);
            }
            return session;
        });
    }

    private static CheckBuilder[] withStatus(CheckBuilder... checks) {
        CheckBuilder[] all = Arrays.copyOf(checks, checks.length + 1);
        all[checks.length] = status().is(200);
        return all;
    }

    CheckBuilder encryptionCheck() {
        return jmesPath("EncryptionType").withDefault("NONE").is(expectedEncryption());
    }

    /**
     * A request body, its SHA-256 (hex) for the signature, and for a put the {@link Ledger#fingerprint}s of
     * its records in request order.
     */
    record Body(byte[] bytes, String sha256, long[] fingerprints) {
        private static final long[] NONE = new long[0];

        static Body of(byte[] bytes) {
            return of(bytes, NONE);
        }

        static Body of(byte[] bytes, long[] fingerprints) {
            return new Body(bytes, SigV4.sha256Hex(bytes), fingerprints);
        }
    }

    /**
     * Bodies built (and hashed) once and sent many times, picked at random per request: building and hashing
     * a 100-record PutRecords per request cost the generator about as much CPU as the server spent on it,
     * CPU the server then lacked on a shared machine. {@code pool} distinct bodies, each with its own random
     * partition keys and data, still spread the records over every shard.
     */
    List<Body> pool(java.util.function.Supplier<Body> builder) {
        int n = (int) num("pool", 64);
        List<Body> bodies = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            bodies.add(builder.get());
        }
        return bodies;
    }

    static Body pick(List<Body> bodies) {
        return bodies.get(ThreadLocalRandom.current().nextInt(bodies.size()));
    }

    /** One record of {@code size} random bytes, stamped (run id, send time, sequence) for the end-to-end run. */
    byte[] stampedRecord(long seq) {
        byte[] data = new byte[Math.max(24, size)];
        ThreadLocalRandom.current().nextBytes(data);
        ByteBuffer.wrap(data).putLong(0, runId).putLong(8, System.nanoTime()).putLong(16, seq);
        return data;
    }

    byte[] randomRecord() {
        byte[] data = new byte[size];
        ThreadLocalRandom.current().nextBytes(data);
        return data;
    }

    /** A PutRecord of {@code data} with a random partition key. */
    Body putRecord(byte[] data) {
        String key = randomKey();
        return Body.of(json(g -> {
            g.writeStringField("StreamName", stream);
            g.writeBinaryField("Data", data);
            g.writeStringField("PartitionKey", key);
        }), new long[] {Ledger.fingerprint(data, key)});
    }

    /** A PutRecords of {@code batch} random records with random partition keys. */
    Body putRecords() {
        long[] fingerprints = new long[batch];
        return Body.of(json(g -> {
            g.writeStringField("StreamName", stream);
            g.writeArrayFieldStart("Records");
            for (int i = 0; i < batch; i++) {
                byte[] data = randomRecord();
                String key = randomKey();
                fingerprints[i] = Ledger.fingerprint(data, key);
                g.writeStartObject();
                g.writeBinaryField("Data", data);
                g.writeStringField("PartitionKey", key);
                g.writeEndObject();
            }
            g.writeEndArray();
        }), fingerprints);
    }

    byte[] getShardIteratorBody(String shardId, String type) {
        return json(g -> {
            g.writeStringField("StreamName", stream);
            g.writeStringField("ShardId", shardId);
            g.writeStringField("ShardIteratorType", type);
        });
    }

    static byte[] getRecordsBody(String iterator) {
        return json(g -> {
            g.writeStringField("ShardIterator", iterator);
            g.writeNumberField("Limit", 10000);
        });
    }

    // random keys spread the records over all shards through the MD5 of the key, as real producers do
    static String randomKey() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong());
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] json(Fields fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- reading

    /** How long readers wait for puts still in flight at most (Gatling's request time-out is 60 s). */
    static final Duration DRAIN_LIMIT = Duration.ofMinutes(2);

    /**
     * One tail reader per user, the users spread over the shards in turn: GetShardIterator of
     * {@code iteratorType}, then GetRecords following NextShardIterator, pausing {@code poll} only when an
     * answer was empty and MillisBehindLatest said the reader was at the tip. It reads for at least
     * {@code atLeast} (from the user's start: until the last put has arrived), then on as long as a
     * {@link #put} is in flight or one was answered less than {@code drain} ago, so that a slow put is still
     * read (never more than {@link #DRAIN_LIMIT} past {@code atLeast} though). Every reader keeps what it read
     * in the {@link #ledger}, compared with what was acknowledged when the run {@link #finish}es.
     */
    ChainBuilder tailReader(Duration atLeast, Duration drain, String iteratorType) {
        ledger.use();
        AtomicInteger nextShard = new AtomicInteger();
        return exec(session -> session.set("shardId",
                        shardIds.get(Math.floorMod(nextShard.getAndIncrement(), shardIds.size())))
                        .set("readUntil", System.nanoTime() + atLeast.toNanos()))
                .exec(call("GetShardIterator", session -> Body.of(getShardIteratorBody(session.getString("shardId"), iteratorType)),
                        jmesPath("ShardIterator").saveAs("iterator")))
                .exitHereIfFailed()
                // its LATEST position was fixed before this answer: every put sent from now on is due to it
                .exec(session -> session.set("reader", ledger.reader(session.getString("shardId"), System.nanoTime())))
                .asLongAs(session -> {
                    long now = System.nanoTime();
                    long until = session.getLong("readUntil");
                    return now < until || (now - until < DRAIN_LIMIT.toNanos()
                            && (putsInFlight.get() > 0 || now - lastPutAnsweredAt < drain.toNanos()));
                }).on(
                        exec(call("GetRecords", session -> Body.of(getRecordsBody(session.getString("iterator"))),
                                bodyBytes().transform(this::readBatch).saveAs("batch")))
                                .exitHereIfFailed()
                                .exec(session -> {
                                    Batch batch = session.get("batch");
                                    Ledger.Reader reader = session.get("reader");
                                    reader.read(batch.reads(), session.getLong("sentAt"));
                                    return session.set("iterator", batch.nextIterator() == null ? "" : batch.nextIterator())
                                            .set("atTip", batch.records() == 0 && batch.millisBehindLatest() == 0);
                                })
                                // a closed shard has no next iterator: that reader is done
                                .exitHereIf(session -> session.getString("iterator").isEmpty())
                                .doIf(session -> session.getBoolean("atTip")).then(pause(poll)));
    }

    /** What one GetRecords answer said, after its records were checked and timed. */
    record Batch(String nextIterator, long millisBehindLatest, List<Ledger.Read> reads) {
        int records() {
            return reads.size();
        }
    }

    /**
     * Reads a GetRecords answer: every record must carry the expected EncryptionType (an
     * {@link IllegalStateException} fails the request in Gatling's report otherwise), and records stamped by
     * this run add their put-to-get delay to {@link #propagation}. Each record's sequence number and
     * {@link Ledger#fingerprint} go to the reader's ledger in the session step that follows.
     */
    Batch readBatch(byte[] body) {
        try {
            long now = System.nanoTime();
            JsonNode answer = JSON.readTree(body);
            JsonNode records = answer.path("Records");
            String expected = expectedEncryption();
            List<Ledger.Read> reads = new ArrayList<>(records.size());
            for (JsonNode record : records) {
                String encryption = record.path("EncryptionType").asText("NONE");
                if (!encryption.equals(expected)) {
                    throw new IllegalStateException("record EncryptionType " + encryption + ", expected " + expected);
                }
                byte[] bytes = record.get("Data").binaryValue();
                reads.add(new Ledger.Read(new java.math.BigInteger(record.get("SequenceNumber").asText()),
                        Ledger.fingerprint(bytes, record.path("PartitionKey").asText())));
                ByteBuffer data = ByteBuffer.wrap(bytes);
                if (data.remaining() >= 24 && data.getLong(0) == runId) {
                    propagation.seen(data.getLong(16), now - data.getLong(8));
                }
            }
            recordsRead.addAndGet(records.size());
            JsonNode next = answer.get("NextShardIterator");
            return new Batch(next == null || next.isNull() ? null : next.asText(),
                    answer.path("MillisBehindLatest").asLong(0), reads);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- parameters

    static String str(String key, String fallback) {
        String v = System.getProperty(key);
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    static long num(String key, long fallback) {
        String v = str(key, null);
        try {
            return v == null ? fallback : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not " + v);
        }
    }

    /**
     * Put-to-get delays of the records this run stamped; each record counted once, at its first read
     * (duplicates are the {@link Ledger}'s to count).
     */
    static final class Propagation {
        private final java.util.concurrent.ConcurrentHashMap<Long, Boolean> seen = new java.util.concurrent.ConcurrentHashMap<>();
        private final List<Long> delaysNanos = new ArrayList<>();

        void seen(long seq, long delayNanos) {
            if (seen.putIfAbsent(seq, Boolean.TRUE) != null) {
                return;
            }
            synchronized (delaysNanos) {
                delaysNanos.add(delayNanos);
            }
        }

        void into(Properties p) {
            long[] sorted;
            synchronized (delaysNanos) {
                sorted = delaysNanos.stream().mapToLong(Long::longValue).sorted().toArray();
            }
            p.setProperty("propagation.count", Integer.toString(sorted.length));
            if (sorted.length > 0) {
                p.setProperty("propagation.p50.ms", ms(sorted, 0.50));
                p.setProperty("propagation.p95.ms", ms(sorted, 0.95));
                p.setProperty("propagation.p99.ms", ms(sorted, 0.99));
                p.setProperty("propagation.max.ms", String.format(Locale.ROOT, "%.1f", sorted[sorted.length - 1] / 1e6));
            }
        }

        private static String ms(long[] sorted, double p) {
            int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
            return String.format(Locale.ROOT, "%.1f", sorted[i] / 1e6);
        }
    }
}
