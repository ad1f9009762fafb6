package io.sluice.node.crypto;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Record encryption cost, JDK against Bouncy Castle: seal and open of one record under a data key
 * that is reused across records, as {@code StreamCrypto} does. Decides {@link EnvelopeCipher#standard()}.
 * How to run it and the latest numbers: docs/benchmarks.md, "Record encryption (JMH)".
 */
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EnvelopeCipherBenchmark {
    /** Enough distinct nonces that consecutive seals never repeat one (both ciphers refuse that). */
    private static final int NONCES = 1024;

    @State(Scope.Thread)
    public static class Record {
        @Param({"jdk", "bouncyCastle"})
        String cipher;

        @Param({"1024", "65536"})
        int bytes;

        EnvelopeCipher impl;
        byte[] key;
        byte[] aad;
        byte[] plaintext;
        byte[][] nonces;
        int next;
        byte[] sealedNonce;
        byte[] sealed;

        @Setup(Level.Trial)
        public void setUp() {
            impl = cipher.equals("jdk") ? EnvelopeCipher.jdk() : EnvelopeCipher.bouncyCastle();
            SplittableRandom random = new SplittableRandom(42);
            key = new byte[EnvelopeCipher.KEY_BYTES];
            random.nextBytes(key);
            aad = "arn:aws:kinesis:us-east-1:000000000000:stream/benchmark".getBytes(StandardCharsets.UTF_8);
            plaintext = new byte[bytes];
            random.nextBytes(plaintext);
            nonces = new byte[NONCES][];
            for (int i = 0; i < NONCES; i++) {
                nonces[i] = EnvelopeCipher.newNonce();
            }
            sealedNonce = EnvelopeCipher.newNonce();
            sealed = impl.seal(key, sealedNonce, plaintext, aad);
        }

        byte[] nextNonce() {
            next = (next + 1) % NONCES;
            return nonces[next];
        }
    }

    @Benchmark
    public byte[] seal(Record r) {
        return r.impl.seal(r.key, r.nextNonce(), r.plaintext, r.aad);
    }

    @Benchmark
    public byte[] open(Record r) {
        return r.impl.open(r.key, r.sealedNonce, r.sealed, r.aad);
    }

    /** What every sealed record adds on top of {@link #seal}. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    public byte[] newNonce() {
        return EnvelopeCipher.newNonce();
    }
}
