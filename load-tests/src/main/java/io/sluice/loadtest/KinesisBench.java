package io.sluice.loadtest;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.protocol.sigv4.SigV4;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small load generator for a Kinesis Data Streams endpoint (Sluice, or anything speaking the same API):
 * JSON 1.1 over HTTP/1.1 with {@link java.net.http.HttpClient}, every request SigV4-signed with
 * {@link SigV4#sign}. Scenarios: {@code put-records}, {@code put-record}, {@code propagation}; each creates its
 * stream when missing, runs for a bounded time and a bounded number of requests, and prints one summary line.
 * Parameters are system properties ({@code -Dconcurrency=8}) or arguments ({@code --concurrency=8}, arguments
 * win); credentials come from {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY}. See
 * {@code load-tests/README.md} for what each number means.
 */
public final class KinesisBench {

    private static final ObjectMapper JSON = KinesisClient.JSON;

    private final BenchArgs args;
    private final KinesisClient kinesis;
    private final HttpClient client;

    private KinesisBench(BenchArgs args) {
        this.args = args;
        this.kinesis = new KinesisClient(URI.create(args.str("endpoint", "http://127.0.0.1:4567")),
                args.str("region", KinesisClient.defaultRegion()), System.getenv("AWS_ACCESS_KEY_ID"),
                System.getenv("AWS_SECRET_ACCESS_KEY"), Duration.ofSeconds(args.num("timeout", 30)));
        this.client = kinesis.http();
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs line = BenchArgs.parse(argv, KinesisBench::usage);
        String scenario = line.scenario();
        KinesisBench bench;
        try {
            bench = new KinesisBench(line);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }
        try {
            switch (scenario) {
                case "put-records" -> bench.putRecords();
                case "put-record" -> bench.putRecord();
                case "propagation" -> bench.propagation();
                case "reshard" -> bench.reshard();
                default -> usage("unknown scenario " + scenario);
            }
        } catch (KinesisClient.ApiError e) {
            // set-up failures (wrong credentials, node down) need one line, not a stack trace
            System.err.println("KinesisBench: " + e.getMessage());
            System.exit(1);
        } catch (java.net.ConnectException e) {
            System.err.println("KinesisBench: cannot connect to " + bench.kinesis.uri() + " (is the node up?)");
            System.exit(1);
        }
    }

    private static void usage(String problem) {
        System.err.println("KinesisBench: " + problem);
        System.err.println("usage: KinesisBench put-records|put-record|propagation|reshard [--key=value ...]  (or -Dkey=value)");
        System.err.println("  endpoint=http://127.0.0.1:4567 region=us-east-1 stream=bench-<scenario> shards=4 (propagation: 1)");
        System.err.println("  duration=20 warmup=5 (seconds) concurrency=8 (put-record: 32) size=1024 batch=100");
        System.err.println("  maxRequests=2000000 timeout=30 (s)  propagation: interval=10 (ms) poll=50 (ms) drain=5 (s)");
        System.err.println("  encryption=none|kms keyId=alias/aws/kinesis (server-side encryption of the stream)");
        System.err.println("  put-records/put-record: resharding=true reshardEvery=10 (s; UpdateShardCount shards<->2*shards meanwhile)");
        System.err.println("  reshard: shards=4 target=8 rounds=1 (time from UpdateShardCount to ACTIVE, up and back down)");
        System.err.println("  credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY");
        System.exit(2);
    }

    // ---------------------------------------------------------------- scenarios

    /** C callers, each looping PutRecords of B records of S bytes with random partition keys. */
    private void putRecords() throws Exception {
        int concurrency = (int) args.num("concurrency", 8);
        int batch = (int) args.num("batch", 100);
        int size = (int) args.num("size", 1024);
        int shards = (int) args.num("shards", 4);
        boolean resharding = Boolean.parseBoolean(args.str("resharding", "false"));
        String stream = args.str("stream", resharding ? "bench-put-records-resharding" : "bench-put-records");
        kinesis.ensureStream(stream, shards, kmsKeyId());
        Resharder resharder = resharding ? new Resharder(stream, shards, args.num("reshardEvery", 10)) : null;
        RunResult r;
        try {
            r = runCallers(concurrency, (rnd, data) -> putRecordsBody(stream, batch, data, rnd), "PutRecords", batch, size);
        } finally {
            if (resharder != null) resharder.stop();
        }
        System.out.printf(Locale.ROOT,
                "put-records c=%d b=%d size=%d shards=%d d=%ds%s: %.0f records/s, %.1f MiB/s, %.0f req/s, %s, "
                        + "failures=%d%s, client-cpu=%.2f cores%n",
                concurrency, batch, size, shards, r.seconds(), resharder == null ? "" : " " + resharder.summary(),
                r.records / r.elapsed, r.records * (double) size / r.elapsed / (1 << 20),
                r.requests / r.elapsed, LatencySamples.summary(r.samples), r.failedRequests, r.failureDetail(), r.clientCores);
    }

    /** 32 (by default) callers looping PutRecord of one S-byte record with a random partition key. */
    private void putRecord() throws Exception {
        int concurrency = (int) args.num("concurrency", 32);
        int size = (int) args.num("size", 1024);
        int shards = (int) args.num("shards", 4);
        String stream = args.str("stream", "bench-put-record");
        kinesis.ensureStream(stream, shards, kmsKeyId());
        RunResult r = runCallers(concurrency, (rnd, data) -> putRecordBody(stream, data, randomKey(rnd)),
                "PutRecord", 1, size);
        System.out.printf(Locale.ROOT,
                "put-record c=%d size=%d shards=%d d=%ds: %.0f req/s, %.1f MiB/s, %s, failures=%d%s, client-cpu=%.2f cores%n",
                concurrency, size, shards, r.seconds(), r.requests / r.elapsed, r.records * (double) size / r.elapsed / (1 << 20),
                LatencySamples.summary(r.samples), r.failedRequests, r.failureDetail(), r.clientCores);
    }

    /** N shards to 2N and back, again and again, in the background of a put run (resharding=true). */
    private final class Resharder {
        private final Thread thread;
        private final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        private final List<Long> millis = java.util.Collections.synchronizedList(new ArrayList<>());
        private volatile Exception failure;

        Resharder(String stream, int shards, long everySeconds) {
            thread = new Thread(() -> {
                try {
                    int target = shards * 2;
                    while (running.get()) {
                        long next = System.nanoTime() + TimeUnit.SECONDS.toNanos(everySeconds);
                        millis.add(kinesis.reshard(stream, target));
                        target = target == shards ? shards * 2 : shards;
                        while (running.get() && System.nanoTime() < next) {
                            Thread.sleep(20);
                        }
                    }
                    // leave the stream as it was found
                    JsonNode summary = kinesis.call("DescribeStreamSummary", KinesisClient.object().put("StreamName", stream));
                    if (summary.path("StreamDescriptionSummary").path("OpenShardCount").asInt() != shards) {
                        kinesis.reshard(stream, shards);
                    }
                } catch (Exception e) {
                    failure = e;
                }
            }, "resharder");
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
            if (failure != null) {
                throw new IllegalStateException("resharding failed", failure);
            }
        }

        String summary() {
            return "while resharding (" + millis.size() + " reshards, ms each " + millis + ")";
        }
    }

    /** UpdateShardCount from N to the target and back, each timed from the call to ACTIVE, on a fresh stream. */
    private void reshard() throws Exception {
        int shards = (int) args.num("shards", 4);
        int target = (int) args.num("target", shards * 2);
        int rounds = (int) args.num("rounds", 1);
        String stream = args.str("stream", "bench-reshard-" + shards + "-" + System.currentTimeMillis());
        kinesis.ensureStream(stream, shards, kmsKeyId());
        try {
            for (int i = 0; i < rounds; i++) {
                long up = kinesis.reshard(stream, target);
                long down = kinesis.reshard(stream, shards);
                System.out.printf(Locale.ROOT, "reshard %d -> %d: %d ms to ACTIVE; %d -> %d: %d ms%n",
                        shards, target, up, target, shards, down);
            }
        } finally {
            kinesis.deleteStream(stream);
        }
    }

    private interface BodyMaker {
        byte[] body(ThreadLocalRandom rnd, byte[] data) throws IOException;
    }

    /** What the callers of one closed-loop run achieved inside the measured window. */
    private static final class RunResult {
        long requests;         // requests started in the window that got any answer or failed
        long records;          // records acknowledged with a sequence number
        long failedRequests;   // HTTP != 200, FailedRecordCount > 0, or no answer at all
        long failedRecords;
        long[] samples;        // latencies (ns) of the requests answered 200
        double elapsed;        // seconds from the start of the window until the last caller stopped
        double windowSeconds;
        double clientCores;
        final Map<String, Long> errors = new TreeMap<>();

        long seconds() {
            return Math.round(windowSeconds);
        }

        String failureDetail() {
            if (failedRequests == 0) {
                return "";
            }
            return " (failedRecords=" + failedRecords + ", " + errors + ")";
        }
    }

    /**
     * The closed loop shared by put-records and put-record: each caller sends, waits for the answer, sends
     * again. Requests started during the warm-up are sent but not counted, so JIT compilation and connection
     * set-up on both sides do not dilute the numbers.
     */
    private RunResult runCallers(int concurrency, BodyMaker maker, String operation, int recordsPerRequest,
                                 int size) throws Exception {
        long warmupNanos = TimeUnit.SECONDS.toNanos(args.num("warmup", 5));
        long windowNanos = TimeUnit.SECONDS.toNanos(args.num("duration", 20));
        long maxRequests = args.num("maxRequests", 2_000_000);
        AtomicLong permits = new AtomicLong();
        long start = System.nanoTime();
        long measureStart = start + warmupNanos;
        long end = measureStart + windowNanos;
        List<Caller> callers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Caller c = new Caller(operation, maker, recordsPerRequest, size, measureStart, end, maxRequests, permits);
            callers.add(c);
            Thread t = new Thread(c, "caller-" + i);
            threads.add(t);
            t.start();
        }
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(warmupNanos));
        long cpuStart = BenchArgs.processCpuNanos();
        for (Thread t : threads) {
            t.join();
        }
        long stopped = System.nanoTime();
        long cpu = BenchArgs.processCpuNanos() - cpuStart;

        RunResult r = new RunResult();
        int n = 0;
        for (Caller c : callers) {
            if (c.failure != null) {
                throw new IllegalStateException("caller died", c.failure);
            }
            r.requests += c.requests;
            r.records += c.records;
            r.failedRequests += c.failedRequests;
            r.failedRecords += c.failedRecords;
            c.errors.forEach((k, v) -> r.errors.merge(k, v, Long::sum));
            n += c.samples.size;
        }
        r.samples = new long[n];
        int at = 0;
        for (Caller c : callers) {
            System.arraycopy(c.samples.values, 0, r.samples, at, c.samples.size);
            at += c.samples.size;
        }
        Arrays.sort(r.samples);
        // the denominator includes the tail of requests still in flight when the window closed, so a slow
        // last answer costs throughput instead of vanishing
        r.elapsed = Math.max(1, stopped - measureStart) / 1e9;
        r.windowSeconds = windowNanos / 1e9;
        r.clientCores = cpu / (double) Math.max(1, stopped - measureStart);
        if (permits.get() >= maxRequests) {
            System.err.println("note: stopped at maxRequests=" + maxRequests + " before the duration ended");
        }
        return r;
    }

    private final class Caller implements Runnable {
        final String operation;
        final BodyMaker maker;
        final int recordsPerRequest;
        final byte[] data;
        final long measureStart;
        final long end;
        final long maxRequests;
        final AtomicLong permits;
        final LatencySamples samples = new LatencySamples();
        final Map<String, Long> errors = new HashMap<>();
        long requests;
        long records;
        long failedRequests;
        long failedRecords;
        Throwable failure;

        Caller(String operation, BodyMaker maker, int recordsPerRequest, int size, long measureStart, long end,
               long maxRequests, AtomicLong permits) {
            this.operation = operation;
            this.maker = maker;
            this.recordsPerRequest = recordsPerRequest;
            // random, so that nothing on the way could make the payload smaller than it claims to be
            this.data = new byte[size];
            ThreadLocalRandom.current().nextBytes(data);
            this.measureStart = measureStart;
            this.end = end;
            this.maxRequests = maxRequests;
            this.permits = permits;
        }

        @Override
        public void run() {
            try {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (System.nanoTime() < end && permits.getAndIncrement() < maxRequests) {
                    byte[] body = maker.body(rnd, data);
                    HttpRequest request = kinesis.request(operation, body);
                    long t0 = System.nanoTime();
                    boolean counted = t0 >= measureStart;
                    HttpResponse<byte[]> response;
                    try {
                        response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    } catch (IOException e) {
                        if (counted) {
                            requests++;
                            failedRequests++;
                            failedRecords += recordsPerRequest;
                            errors.merge(e.getClass().getSimpleName(), 1L, Long::sum);
                        }
                        continue;
                    }
                    long latency = System.nanoTime() - t0;
                    if (!counted) {
                        continue;
                    }
                    requests++;
                    if (response.statusCode() != 200) {
                        failedRequests++;
                        failedRecords += recordsPerRequest;
                        errors.merge(response.statusCode() + " " + KinesisClient.errorType(response.body()), 1L, Long::sum);
                        continue;
                    }
                    // only answered requests give latency samples: fast rejections would flatter the percentiles
                    samples.add(latency);
                    if (operation.equals("PutRecords")) {
                        JsonNode answer = JSON.readTree(response.body());
                        int failed = answer.path("FailedRecordCount").asInt(0);
                        records += recordsPerRequest - failed;
                        if (failed > 0) {
                            failedRequests++;
                            failedRecords += failed;
                            for (JsonNode e : answer.path("Records")) {
                                if (e.hasNonNull("ErrorCode")) {
                                    errors.merge("record " + e.get("ErrorCode").asText(), 1L, Long::sum);
                                }
                            }
                        }
                    } else {
                        records += recordsPerRequest;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    /**
     * One producer putting a timestamped record every {@code interval} ms, one consumer per shard tail-reading
     * from LATEST; reports the delay from just before the put was sent until a consumer held the record.
     */
    private void propagation() throws Exception {
        int shards = (int) args.num("shards", 1);
        int size = Math.max(24, (int) args.num("size", 1024));
        long intervalMs = Math.max(1, args.num("interval", 10));
        long pollMs = args.num("poll", 50);
        long warmupMs = TimeUnit.SECONDS.toMillis(args.num("warmup", 5));
        long windowMs = TimeUnit.SECONDS.toMillis(args.num("duration", 20));
        long drainMs = TimeUnit.SECONDS.toMillis(args.num("drain", 5));
        String stream = args.str("stream", "bench-propagation");
        kinesis.ensureStream(stream, shards, kmsKeyId());

        // bounded by time, and by count through the fixed rate; the arrays below are sized for that count
        int capacity = (int) Math.min(args.num("maxRequests", 2_000_000), (warmupMs + windowMs) / Math.max(1, intervalMs) + 1);
        long[] sentAt = new long[capacity];          // millis; 0 = not sent
        AtomicIntegerArray acked = new AtomicIntegerArray(capacity);
        AtomicIntegerArray seen = new AtomicIntegerArray(capacity);
        long[] delays = new long[capacity];          // millis, written by the consumer that first saw the record
        AtomicInteger duplicates = new AtomicInteger();
        AtomicLong getCalls = new AtomicLong();
        AtomicLong emptyGets = new AtomicLong();
        Map<String, Long> errors = new ConcurrentHashMap<>();
        long runId = ThreadLocalRandom.current().nextLong();

        // iterators are taken before the first put, so LATEST cannot skip any of this run's records
        List<String> iterators = new ArrayList<>();
        for (String shardId : kinesis.openShards(stream)) {
            ObjectNode req = JSON.createObjectNode().put("StreamName", stream).put("ShardId", shardId)
                    .put("ShardIteratorType", "LATEST");
            iterators.add(kinesis.call("GetShardIterator", req).get("ShardIterator").asText());
        }

        long measureStartMs = System.currentTimeMillis() + warmupMs;
        long cpuStart = BenchArgs.processCpuNanos();
        long wallStart = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> consumers = new ArrayList<>();
        for (int s = 0; s < iterators.size(); s++) {
            String first = iterators.get(s);
            Thread t = new Thread(() -> {
                String iterator = first;
                while (!stop.get() && iterator != null) {
                    try {
                        ObjectNode req = JSON.createObjectNode().put("ShardIterator", iterator).put("Limit", 10000);
                        HttpResponse<byte[]> response = client.send(kinesis.request("GetRecords", JSON.writeValueAsBytes(req)),
                                HttpResponse.BodyHandlers.ofByteArray());
                        getCalls.incrementAndGet();
                        if (response.statusCode() != 200) {
                            errors.merge("GetRecords " + response.statusCode() + " " + KinesisClient.errorType(response.body()), 1L, Long::sum);
                            // an expired or refused iterator cannot be retried safely; the run is then incomplete
                            // and says so through its "missing" count
                            Thread.sleep(pollMs);
                            continue;
                        }
                        long now = System.currentTimeMillis();
                        JsonNode answer = JSON.readTree(response.body());
                        JsonNode records = answer.path("Records");
                        for (JsonNode record : records) {
                            ByteBuffer data = ByteBuffer.wrap(record.get("Data").binaryValue());
                            if (data.remaining() < 24 || data.getLong(16) != runId) {
                                continue;
                            }
                            long ts = data.getLong(0);
                            int seq = (int) data.getLong(8);
                            if (seq < 0 || seq >= capacity) {
                                continue;
                            }
                            if (seen.compareAndSet(seq, 0, 1)) {
                                delays[seq] = now - ts;
                            } else {
                                duplicates.incrementAndGet();
                            }
                        }
                        JsonNode next = answer.get("NextShardIterator");
                        iterator = next == null || next.isNull() ? null : next.asText();
                        if (records.isEmpty()) {
                            emptyGets.incrementAndGet();
                            Thread.sleep(pollMs);
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (IOException e) {
                        errors.merge("GetRecords " + e.getClass().getSimpleName(), 1L, Long::sum);
                    }
                }
            }, "consumer-" + s);
            consumers.add(t);
            t.start();
        }

        // the producer sends asynchronously on a fixed-rate clock, so a slow put delays neither the next
        // put nor its timestamp (no coordinated omission); the timestamp is taken just before sending
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger nextSeq = new AtomicInteger();
        LatencySamples putLatencies = new LatencySamples();
        ScheduledExecutorService producer = Executors.newSingleThreadScheduledExecutor();
        String partitionKey = "propagation-" + Long.toHexString(runId);
        producer.scheduleAtFixedRate(() -> {
            int seq = nextSeq.get();
            if (seq >= capacity) {
                return;
            }
            nextSeq.incrementAndGet();
            byte[] data = new byte[size];
            long ts = System.currentTimeMillis();
            ByteBuffer.wrap(data).putLong(ts).putLong(seq).putLong(runId);
            sentAt[seq] = ts;
            byte[] body;
            try {
                body = putRecordBody(stream, data, partitionKey);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long t0 = System.nanoTime();
            inFlight.incrementAndGet();
            client.sendAsync(kinesis.request("PutRecord", body), HttpResponse.BodyHandlers.ofByteArray())
                    .whenComplete((response, failure) -> {
                        long latency = System.nanoTime() - t0;
                        if (failure != null) {
                            errors.merge("PutRecord " + failure.getClass().getSimpleName(), 1L, Long::sum);
                        } else if (response.statusCode() != 200) {
                            errors.merge("PutRecord " + response.statusCode() + " " + KinesisClient.errorType(response.body()), 1L, Long::sum);
                        } else {
                            acked.set(seq, 1);
                            if (ts >= measureStartMs) {
                                synchronized (putLatencies) {
                                    putLatencies.add(latency);
                                }
                            }
                        }
                        inFlight.decrementAndGet();
                    });
        }, 0, intervalMs, TimeUnit.MILLISECONDS);

        Thread.sleep(warmupMs + windowMs);
        producer.shutdown();
        producer.awaitTermination(10, TimeUnit.SECONDS);
        long windowEnd = System.nanoTime();
        // let the last puts land and the consumers catch up, then stop them
        long drainUntil = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(args.num("timeout", 30));
        while (inFlight.get() > 0 && System.currentTimeMillis() < drainUntil) {
            Thread.sleep(10);
        }
        int sentTotal = Math.min(nextSeq.get(), capacity);
        drainUntil = System.currentTimeMillis() + drainMs;
        while (System.currentTimeMillis() < drainUntil && !allSeen(acked, seen, sentTotal)) {
            Thread.sleep(10);
        }
        stop.set(true);
        for (Thread t : consumers) {
            t.join(TimeUnit.SECONDS.toMillis(args.num("timeout", 30)) + 1000);
        }
        long cpu = BenchArgs.processCpuNanos() - cpuStart;

        int sent = 0, ackedCount = 0, seenCount = 0, missing = 0, n = 0;
        long[] measured = new long[sentTotal];
        for (int seq = 0; seq < sentTotal; seq++) {
            if (sentAt[seq] < measureStartMs) {
                continue;    // warm-up
            }
            sent++;
            boolean ack = acked.get(seq) == 1;
            boolean got = seen.get(seq) == 1;
            ackedCount += ack ? 1 : 0;
            if (got) {
                seenCount++;
                measured[n++] = delays[seq];
            } else if (ack) {
                missing++;
            }
        }
        long[] sorted = Arrays.copyOf(measured, n);
        Arrays.sort(sorted);
        long[] puts;
        synchronized (putLatencies) {
            puts = Arrays.copyOf(putLatencies.values, putLatencies.size);
        }
        Arrays.sort(puts);
        System.out.printf(Locale.ROOT,
                "propagation shards=%d interval=%dms poll=%dms size=%d d=%ds: sent=%d acked=%d seen=%d missing=%d dup=%d, "
                        + "delay p50=%dms p99=%dms max=%dms, put %s, getrecords=%d (%d empty), errors=%s, client-cpu=%.2f cores%n",
                shards, intervalMs, pollMs, size, windowMs / 1000, sent, ackedCount, seenCount, missing, duplicates.get(),
                LatencySamples.percentile(sorted, 0.50), LatencySamples.percentile(sorted, 0.99), n == 0 ? 0 : sorted[n - 1],
                LatencySamples.summary(puts),
                getCalls.get(), emptyGets.get(), new TreeMap<>(errors), cpu / (double) Math.max(1, windowEnd - wallStart));
    }

    private static boolean allSeen(AtomicIntegerArray acked, AtomicIntegerArray seen, int count) {
        for (int i = 0; i < count; i++) {
            if (acked.get(i) == 1 && seen.get(i) == 0) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- stream set-up

    // ---------------------------------------------------------------- requests

    private byte[] putRecordsBody(String stream, int batch, byte[] data, ThreadLocalRandom rnd) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(batch * (data.length * 4 / 3 + 64) + 128);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("StreamName", stream);
            g.writeArrayFieldStart("Records");
            for (int i = 0; i < batch; i++) {
                g.writeStartObject();
                g.writeBinaryField("Data", data);
                g.writeStringField("PartitionKey", randomKey(rnd));
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    private static byte[] putRecordBody(String stream, byte[] data, String partitionKey) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length * 4 / 3 + 128);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("StreamName", stream);
            g.writeBinaryField("Data", data);
            g.writeStringField("PartitionKey", partitionKey);
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    // random keys spread the records over all shards through the MD5 of the key, as real producers do
    private static String randomKey(ThreadLocalRandom rnd) {
        return Long.toHexString(rnd.nextLong());
    }

    // ---------------------------------------------------------------- numbers


    // ---------------------------------------------------------------- parameters


    /** {@code encryption=kms} (with {@code keyId}, default alias/aws/kinesis) or none. */
    private String kmsKeyId() {
        return args.str("encryption", "none").equalsIgnoreCase("kms") ? args.str("keyId", "alias/aws/kinesis") : null;
    }

}
