package io.sluice.node.kcl;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.services.kinesis.producer.Attempt;
import com.amazonaws.services.kinesis.producer.KinesisProducer;
import com.amazonaws.services.kinesis.producer.KinesisProducerConfiguration;
import com.amazonaws.services.kinesis.producer.UserRecordResult;
import com.google.common.util.concurrent.ListenableFuture;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Kinesis Producer Library 0.15.12 as an application runs it, in a process of its own: its Java side needs
 * protobuf-java 3.x while the KCL in the test's JVM needs 4.x, so {@link ProducerProcess} starts this class on
 * the test class path with protobuf 3.25.5 in place of 4.x. It writes {@code kpl.records} records
 * {@code kpl-0 …} (partition keys {@code pk-(i mod 997)}) to {@code kpl.stream} over HTTPS at
 * {@code kpl.host}:{@code kpl.port} (Kinesis and STS alike, certificate not verified), waits for every
 * {@link UserRecordResult}, and prints one {@value #RESULT} line: {@code records=… failures=… seconds=…}.
 * Credentials come from {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY}, never the command line.
 * Exit status 0 only if every record was written.
 */
public final class KplProducer {
    static final String RESULT = "KPL-RESULT";
    /** As many records outstanding as this at most: a producer that outruns its stream waits, as the KPL's docs advise. */
    private static final int MAX_OUTSTANDING = 20_000;
    /** Longer than the KPL's own record TTL (30 s), after which it fails a record rather than keep it. */
    private static final long RESULT_WAIT_SECONDS = 120;

    public static void main(String[] args) {
        int status;
        try {
            status = run() == 0 ? 0 : 1;
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            status = 2;
        }
        // exit even if a thread of the KPL's lingers
        System.exit(status);
    }

    /** @return how many records failed */
    private static int run() throws Exception {
        String host = System.getProperty("kpl.host", "127.0.0.1");
        int port = Integer.parseInt(required("kpl.port"));
        String stream = required("kpl.stream");
        int records = Integer.parseInt(required("kpl.records"));
        var credentials = new BasicAWSCredentials(requiredEnv("AWS_ACCESS_KEY_ID"), requiredEnv("AWS_SECRET_ACCESS_KEY"));

        KinesisProducer producer = new KinesisProducer(new KinesisProducerConfiguration()
                .setRegion("us-east-1")
                .setKinesisEndpoint(host).setKinesisPort(port)
                .setStsEndpoint(host).setStsPort(port)
                .setVerifyCertificate(false)
                .setMetricsLevel("none")
                .setLogLevel("warning")
                .setCredentialsProvider(new AWSStaticCredentialsProvider(credentials)));
        int failures;
        double seconds;
        try {
            long start = System.nanoTime();
            List<ListenableFuture<UserRecordResult>> results = new ArrayList<>(records);
            for (int i = 0; i < records; i++) {
                while (producer.getOutstandingRecordsCount() > MAX_OUTSTANDING) Thread.sleep(1);
                ListenableFuture<UserRecordResult> result = producer.addUserRecord(stream, "pk-" + (i % 997),
                        ByteBuffer.wrap(("kpl-" + i).getBytes(StandardCharsets.UTF_8)));
                results.add(result);
                // the KPL aggregates only once it knows the shard map (it lists the shards at start): as a
                // long-running producer does, let the first record land before the rest
                if (i == 0) await(result, 0);
            }
            producer.flushSync();
            failures = 0;
            for (int i = 0; i < records; i++) {
                UserRecordResult result = await(results.get(i), i);
                if (result == null || !result.isSuccessful()) {
                    if (failures++ < 5) System.out.println("record kpl-" + i + " failed: " + describe(result));
                }
            }
            seconds = (System.nanoTime() - start) / 1e9;
        } finally {
            producer.destroy();
        }
        System.out.printf(Locale.ROOT, "%s records=%d failures=%d seconds=%.3f%n", RESULT, records, failures, seconds);
        return failures;
    }

    /** The record's result, or null if it failed or did not come in time (the KPL fails a record with its attempts). */
    private static UserRecordResult await(ListenableFuture<UserRecordResult> future, int record) throws InterruptedException {
        try {
            return future.get(RESULT_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            System.out.println("record kpl-" + record + ": " + e.getCause());
            if (e.getCause() instanceof com.amazonaws.services.kinesis.producer.UserRecordFailedException f) {
                return f.getResult();
            }
            return null;
        } catch (TimeoutException e) {
            System.out.println("record kpl-" + record + ": no result in " + RESULT_WAIT_SECONDS + " s");
            return null;
        }
    }

    private static String describe(UserRecordResult result) {
        if (result == null) return "no result";
        StringBuilder attempts = new StringBuilder();
        for (Attempt a : result.getAttempts()) {
            attempts.append(' ').append(a.getErrorCode()).append(": ").append(a.getErrorMessage());
        }
        return "attempts" + attempts;
    }

    private static String required(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) throw new IllegalArgumentException("system property " + name + " is required");
        return value;
    }

    private static String requiredEnv(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) throw new IllegalArgumentException("environment variable " + name + " is required");
        return value;
    }
}
