package io.sluice.loadtest;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeAction;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.AttributeValueUpdate;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.ExpectedAttributeValue;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop load generator for a DynamoDB endpoint (Sluice, dynalite, or anything speaking the API)
 * through the AWS SDK for Java v2, as the KCL and the lock client reach a lease table. Scenarios:
 * {@code get-item}, {@code put-item} and {@code update-item-conditional} (the KCL's lease renewal:
 * {@code Expected leaseCounter = c}, {@code AttributeUpdates leaseCounter PUT c+1}, each caller on its own
 * item). Each creates its table when missing, runs for a bounded time and number of requests, and prints one
 * line with the rate and latencies of each operation. Parameters are system properties ({@code -Dconcurrency=8})
 * or arguments ({@code --concurrency=8}, arguments win); credentials come from {@code AWS_ACCESS_KEY_ID} /
 * {@code AWS_SECRET_ACCESS_KEY}. See {@code load-tests/README.md}.
 */
public final class DynamoDbBench {
    private static final String KEY = "leaseKey";

    private final BenchArgs args;
    private final DynamoDbClient ddb;
    private final URI endpoint;

    private DynamoDbBench(BenchArgs args) {
        this.args = args;
        this.endpoint = URI.create(args.str("endpoint", "http://127.0.0.1:4567"));
        String accessKeyId = System.getenv("AWS_ACCESS_KEY_ID");
        String secretKey = System.getenv("AWS_SECRET_ACCESS_KEY");
        if (accessKeyId == null || secretKey == null) {
            throw new IllegalArgumentException("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
        }
        int concurrency = (int) args.num("concurrency", 8);
        Duration timeout = Duration.ofSeconds(args.num("timeout", 30));
        this.ddb = DynamoDbClient.builder().endpointOverride(endpoint)
                .region(Region.of(args.str("region", KinesisClient.defaultRegion())))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretKey)))
                // one pooled keep-alive connection per caller, as KinesisBench has
                .httpClient(Apache5HttpClient.builder().maxConnections(concurrency + 2).build())
                // a refused or failed call is counted, never retried behind the generator's back
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()).apiCallTimeout(timeout))
                .build();
    }

    public static void main(String[] argv) throws Exception {
        BenchArgs line = BenchArgs.parse(argv, DynamoDbBench::usage);
        String scenario = line.scenario();
        DynamoDbBench bench;
        try {
            bench = new DynamoDbBench(line);
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }
        try (DynamoDbClient ignored = bench.ddb) {
            switch (scenario) {
                case "get-item" -> bench.getItem();
                case "put-item" -> bench.putItem();
                case "update-item-conditional" -> bench.updateItemConditional();
                default -> usage("unknown scenario " + scenario);
            }
        } catch (SdkException e) {
            // set-up failures (wrong credentials, endpoint down) need one line, not a stack trace
            System.err.println("DynamoDbBench: set-up against " + bench.endpoint + " failed: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void usage(String problem) {
        System.err.println("DynamoDbBench: " + problem);
        System.err.println("usage: DynamoDbBench get-item|put-item|update-item-conditional [--key=value ...]  (or -Dkey=value)");
        System.err.println("  endpoint=http://127.0.0.1:4567 region=us-east-1 table=bench-dynamodb");
        System.err.println("  duration=20 warmup=5 (seconds) concurrency=8 items=100 size=256 consistent=false");
        System.err.println("  maxRequests=2000000 timeout=30 (s)");
        System.err.println("  credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY");
        System.exit(2);
    }

    // ---------------------------------------------------------------- scenarios

    /** C callers, each looping GetItem of a random one of {@code items} items of {@code size} bytes. */
    private void getItem() throws Exception {
        int items = (int) args.num("items", 100);
        int size = (int) args.num("size", 256);
        boolean consistent = Boolean.parseBoolean(args.str("consistent", "false"));
        String table = ensureTable();
        AttributeValue payload = payload(size);
        for (int i = 0; i < items; i++) {
            int k = i;
            ddb.putItem(b -> b.tableName(table).item(Map.of(KEY, s(itemKey(k)), "payload", payload)));
        }
        Run run = runCallers(caller -> () -> {
            String key = itemKey(ThreadLocalRandom.current().nextInt(items));
            caller.call("GetItem", () -> {
                if (!ddb.getItem(b -> b.tableName(table).key(Map.of(KEY, s(key))).consistentRead(consistent)).hasItem()) {
                    throw new IllegalStateException("item missing");
                }
            });
        });
        report(String.format(Locale.ROOT, "get-item c=%d items=%d size=%d consistent=%b", run.concurrency, items, size, consistent), run);
    }

    /** C callers, each looping PutItem (no condition) over a random one of {@code items} keys, {@code size} bytes each. */
    private void putItem() throws Exception {
        int items = (int) args.num("items", 100);
        int size = (int) args.num("size", 256);
        String table = ensureTable();
        AttributeValue payload = payload(size);
        Run run = runCallers(caller -> () -> {
            String key = itemKey(ThreadLocalRandom.current().nextInt(items));
            caller.call("PutItem", () -> ddb.putItem(b -> b.tableName(table).item(Map.of(KEY, s(key), "payload", payload))));
        });
        report(String.format(Locale.ROOT, "put-item c=%d items=%d size=%d", run.concurrency, items, size), run);
    }

    /**
     * The KCL's lease renewal: each caller owns one lease item and loops UpdateItem with
     * {@code Expected leaseCounter = c} and {@code AttributeUpdates leaseCounter PUT c+1}. The conditions hold as
     * long as the server keeps its promise, so every ConditionalCheckFailed is counted as a failure; the caller
     * then reads its counter back (a GetItem, reported apart) and goes on from there.
     */
    private void updateItemConditional() throws Exception {
        int size = (int) args.num("size", 256);
        String table = ensureTable();
        AttributeValue payload = payload(size);
        int concurrency = (int) args.num("concurrency", 8);
        for (int i = 0; i < concurrency; i++) {
            int k = i;
            ddb.putItem(b -> b.tableName(table).item(Map.of(KEY, s(leaseKey(k)), "leaseCounter", n(0),
                    "leaseOwner", s("bench-worker-" + k), "checkpoint", s("TRIM_HORIZON"), "payload", payload)));
        }
        AtomicLong next = new AtomicLong();
        Run run = runCallers(caller -> {
            int k = (int) next.getAndIncrement();
            String key = leaseKey(k);
            long[] counter = {0};
            return () -> {
                long c = counter[0];
                boolean renewed = caller.call("UpdateItem", () -> ddb.updateItem(b -> b.tableName(table).key(Map.of(KEY, s(key)))
                        .expected(Map.of("leaseCounter", ExpectedAttributeValue.builder().value(n(c)).build()))
                        .attributeUpdates(Map.of("leaseCounter", AttributeValueUpdate.builder()
                                .action(AttributeAction.PUT).value(n(c + 1)).build()))));
                if (renewed) {
                    counter[0] = c + 1;
                } else {
                    caller.call("GetItem (after a failed update)", () -> counter[0] = Long.parseLong(ddb.getItem(b -> b.tableName(table)
                            .key(Map.of(KEY, s(key))).consistentRead(true)).item().get("leaseCounter").n()));
                }
            };
        });
        report(String.format(Locale.ROOT, "update-item-conditional c=%d size=%d", run.concurrency, size), run);
    }

    // ---------------------------------------------------------------- closed loop

    /** Makes the loop body of one caller; called once per caller, before the callers start. */
    private interface Loop {
        Runnable bodyFor(Caller caller);
    }

    private interface Call {
        void run() throws Exception;
    }

    /** One operation's counts and latencies inside the measured window. */
    private static final class Stats {
        long ok;
        long failed;
        final Map<String, Long> errors = new TreeMap<>();
        final LatencySamples samples = new LatencySamples();

        void add(Stats other) {
            ok += other.ok;
            failed += other.failed;
            other.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
            samples.addAll(other.samples);
        }
    }

    private final class Caller implements Runnable {
        final Map<String, Stats> stats = new TreeMap<>();
        final long measureStart;
        final long end;
        final long maxRequests;
        final AtomicLong permits;
        Runnable body;
        Throwable failure;

        Caller(long measureStart, long end, long maxRequests, AtomicLong permits) {
            this.measureStart = measureStart;
            this.end = end;
            this.maxRequests = maxRequests;
            this.permits = permits;
        }

        /** Runs one call, timed; returns whether it succeeded. Outside the measured window nothing is counted. */
        boolean call(String operation, Call call) {
            long t0 = System.nanoTime();
            String error = null;
            try {
                call.run();
            } catch (ConditionalCheckFailedException e) {
                error = "ConditionalCheckFailed";
            } catch (DynamoDbException e) {
                error = e.statusCode() + " " + (e.awsErrorDetails() == null ? "?" : e.awsErrorDetails().errorCode());
            } catch (SdkException | IllegalStateException e) {
                error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + first(e.getMessage(), 60));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            long latency = System.nanoTime() - t0;
            if (t0 >= measureStart) {
                Stats s = stats.computeIfAbsent(operation, o -> new Stats());
                if (error == null) {
                    s.ok++;
                    // only successful calls give latency samples: fast refusals would flatter the percentiles
                    s.samples.add(latency);
                } else {
                    s.failed++;
                    s.errors.merge(error, 1L, Long::sum);
                }
            }
            return error == null;
        }

        @Override
        public void run() {
            try {
                while (System.nanoTime() < end && permits.getAndIncrement() < maxRequests) {
                    body.run();
                }
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    private record Run(int concurrency, long windowSeconds, double elapsed, double clientCores, Map<String, Stats> stats) {}

    /**
     * C callers in a closed loop: each runs its body, waits for the answer, runs it again. Calls started during the
     * warm-up are made but not counted (JIT compilation and connection set-up on both sides).
     */
    private Run runCallers(Loop loop) throws Exception {
        int concurrency = (int) args.num("concurrency", 8);
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
            Caller c = new Caller(measureStart, end, maxRequests, permits);
            c.body = loop.bodyFor(c);
            callers.add(c);
            Thread t = new Thread(c, "caller-" + i);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(warmupNanos));
        long cpuStart = BenchArgs.processCpuNanos();
        for (Thread t : threads) {
            t.join();
        }
        long stopped = System.nanoTime();
        long cpu = BenchArgs.processCpuNanos() - cpuStart;
        Map<String, Stats> merged = new TreeMap<>();
        for (Caller c : callers) {
            if (c.failure != null) {
                throw new IllegalStateException("caller died", c.failure);
            }
            c.stats.forEach((op, s) -> merged.computeIfAbsent(op, o -> new Stats()).add(s));
        }
        if (permits.get() >= maxRequests) {
            System.err.println("note: stopped at maxRequests=" + maxRequests + " before the duration ended");
        }
        // the denominator includes the tail of calls still in flight when the window closed
        double elapsed = Math.max(1, stopped - measureStart) / 1e9;
        return new Run(concurrency, Math.round(windowNanos / 1e9), elapsed, cpu / (double) Math.max(1, stopped - measureStart), merged);
    }

    private void report(String head, Run run) {
        StringBuilder line = new StringBuilder(head).append(" d=").append(run.windowSeconds).append("s:");
        long failures = 0;
        boolean firstOp = true;
        for (Map.Entry<String, Stats> e : run.stats.entrySet()) {
            Stats s = e.getValue();
            line.append(firstOp ? " " : " | ").append(e.getKey()).append(String.format(Locale.ROOT, " %.0f req/s, %s",
                    s.ok / run.elapsed, LatencySamples.summary(s.samples.sorted())));
            if (s.failed > 0) {
                line.append(", failed=").append(s.failed).append(' ').append(s.errors);
            }
            failures += s.failed;
            firstOp = false;
        }
        if (run.stats.isEmpty()) {
            line.append(" no call completed in the window");
        }
        line.append(String.format(Locale.ROOT, ", failures=%d, client-cpu=%.2f cores", failures, run.clientCores));
        System.out.println(line);
    }

    // ---------------------------------------------------------------- table set-up

    /** The run's table (hash key leaseKey, S, on demand, as the KCL's lease table), created when missing. */
    private String ensureTable() throws InterruptedException {
        String table = args.str("table", "bench-dynamodb");
        TableDescription t;
        try {
            t = ddb.describeTable(b -> b.tableName(table)).table();
        } catch (ResourceNotFoundException missing) {
            System.err.println("creating table " + table);
            t = ddb.createTable(b -> b.tableName(table)
                    .keySchema(KeySchemaElement.builder().attributeName(KEY).keyType(KeyType.HASH).build())
                    .attributeDefinitions(AttributeDefinition.builder().attributeName(KEY).attributeType(ScalarAttributeType.S).build())
                    .billingMode(BillingMode.PAY_PER_REQUEST)).tableDescription();
        }
        if (t.keySchema().size() != 1 || !t.keySchema().get(0).attributeName().equals(KEY)) {
            throw new IllegalArgumentException("table " + table + " exists with another key schema " + t.keySchema()
                    + "; name another with -Dtable");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(args.num("timeout", 30));
        while (t.tableStatus() != TableStatus.ACTIVE) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("table " + table + " not ACTIVE in time: " + t.tableStatus());
            }
            Thread.sleep(100);
            t = ddb.describeTable(b -> b.tableName(table)).table();
        }
        return table;
    }

    private static String itemKey(int i) {
        return String.format(Locale.ROOT, "item-%06d", i);
    }

    private static String leaseKey(int i) {
        return String.format(Locale.ROOT, "shardId-%012d", i);
    }

    private static AttributeValue payload(int size) {
        byte[] bytes = new byte[size];
        ThreadLocalRandom.current().nextBytes(bytes);
        return AttributeValue.builder().b(software.amazon.awssdk.core.SdkBytes.fromByteArray(bytes)).build();
    }

    private static AttributeValue s(String v) {
        return AttributeValue.builder().s(v).build();
    }

    private static AttributeValue n(long v) {
        return AttributeValue.builder().n(Long.toString(v)).build();
    }

    private static String first(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    // ---------------------------------------------------------------- numbers


    // ---------------------------------------------------------------- parameters


}
