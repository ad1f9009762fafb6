package io.sluice.node.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class EnvelopeCipherTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] AAD = "arn:aws:kinesis:us-east-1:000000000000:stream/orders".getBytes(StandardCharsets.UTF_8);
    private static final SplittableRandom RANDOM = new SplittableRandom(7);

    static Stream<EnvelopeCipher> ciphers() {
        return Stream.of(EnvelopeCipher.jdk(), EnvelopeCipher.bouncyCastle());
    }

    static Stream<Arguments> ciphersAndSizes() {
        return ciphers().flatMap(c -> Stream.of(0, 1024, 64 * 1024, 1024 * 1024).map(size -> Arguments.of(c, size)));
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static EnvelopeCipher other(EnvelopeCipher cipher) {
        return cipher == EnvelopeCipher.jdk() ? EnvelopeCipher.bouncyCastle() : EnvelopeCipher.jdk();
    }

    @ParameterizedTest
    @MethodSource("ciphersAndSizes")
    void sealsAndOpensAPayload(EnvelopeCipher cipher, int size) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] plaintext = random(size);
        byte[] sealed = cipher.seal(key, nonce, plaintext, AAD);
        assertEquals(size + EnvelopeCipher.TAG_BYTES, sealed.length);
        assertArrayEquals(plaintext, cipher.open(key, nonce, sealed, AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphersAndSizes")
    void opensWhatTheOtherImplementationSealed(EnvelopeCipher cipher, int size) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] plaintext = random(size);
        byte[] sealed = other(cipher).seal(key, nonce, plaintext, AAD);
        // both are the same standard GCM, so for the same inputs they agree byte for byte
        assertArrayEquals(sealed, cipher.seal(key, nonce, plaintext, AAD));
        assertArrayEquals(plaintext, cipher.open(key, nonce, sealed, AAD));
    }

    /** Test cases 13 and 14 of McGrew and Viega, "The Galois/Counter Mode of Operation". */
    @ParameterizedTest
    @MethodSource("ciphers")
    void matchesThePublishedGcmTestVectors(EnvelopeCipher cipher) {
        byte[] zeroKey = new byte[32];
        byte[] zeroNonce = new byte[12];
        String case14 = "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919";
        // both cases use the same key and nonce, which a seal refuses twice in a row: seal in between
        cipher.seal(zeroKey, EnvelopeCipher.newNonce(), new byte[0], null);
        assertEquals("530f8afbc74536b9a963b4f1c4cb738b", HEX.formatHex(cipher.seal(zeroKey, zeroNonce, new byte[0], null)));
        cipher.seal(zeroKey, EnvelopeCipher.newNonce(), new byte[0], null);
        assertEquals(case14, HEX.formatHex(cipher.seal(zeroKey, zeroNonce, new byte[16], null)));
        assertArrayEquals(new byte[16], cipher.open(zeroKey, zeroNonce, HEX.parseHex(case14), null));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void treatsNullAadAsNone(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(key, nonce, random(100), null);
        assertEquals(100, cipher.open(key, nonce, sealed, new byte[0]).length);
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesTheWrongKey(EnvelopeCipher cipher) {
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(random(32), nonce, random(1024), AAD);
        assertThrows(CipherFailure.class, () -> cipher.open(random(32), nonce, sealed, AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesTheWrongAad(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(key, nonce, random(1024), AAD);
        byte[] otherStream = "arn:aws:kinesis:us-east-1:000000000000:stream/orderz".getBytes(StandardCharsets.UTF_8);
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, sealed, otherStream));
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, sealed, null));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesTheWrongNonce(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] sealed = cipher.seal(key, EnvelopeCipher.newNonce(), random(1024), AAD);
        assertThrows(CipherFailure.class, () -> cipher.open(key, EnvelopeCipher.newNonce(), sealed, AAD));
        assertThrows(CipherFailure.class, () -> cipher.open(key, new byte[11], sealed, AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesAFlippedCiphertextBit(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(key, nonce, random(1024), AAD);
        sealed[517] ^= 0x10;
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, sealed, AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesAFlippedTagBit(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(key, nonce, random(1024), AAD);
        sealed[sealed.length - 1] ^= 0x01;
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, sealed, AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesTruncatedData(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(key, nonce, random(64), AAD);
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, Arrays.copyOf(sealed, sealed.length - 1), AAD));
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, new byte[EnvelopeCipher.TAG_BYTES - 1], AAD));
        assertThrows(CipherFailure.class, () -> cipher.open(key, nonce, new byte[0], AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void rejectsKeysThatAreNotAes256(EnvelopeCipher cipher) {
        byte[] nonce = EnvelopeCipher.newNonce();
        assertThrows(IllegalArgumentException.class, () -> cipher.seal(random(16), nonce, random(10), AAD));
        assertThrows(IllegalArgumentException.class, () -> cipher.open(random(24), nonce, random(40), AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void refusesToSealTwiceInARowWithTheSameKeyAndNonce(EnvelopeCipher cipher) {
        byte[] key = random(32);
        byte[] nonce = EnvelopeCipher.newNonce();
        cipher.seal(key, nonce, random(10), AAD);
        assertThrows(IllegalArgumentException.class, () -> cipher.seal(key, nonce, random(10), AAD));
        // the refusal leaves the thread's cipher usable
        byte[] fresh = EnvelopeCipher.newNonce();
        byte[] plaintext = random(10);
        assertArrayEquals(plaintext, other(cipher).open(key, fresh, cipher.seal(key, fresh, plaintext, AAD), AAD));
    }

    @ParameterizedTest
    @MethodSource("ciphers")
    void switchesKeysOnOneThreadCorrectly(EnvelopeCipher cipher) {
        // each thread remembers its last key; alternating keys and failures must not confuse it
        byte[] a = random(32);
        byte[] b = random(32);
        byte[] plaintext = random(300);
        for (byte[] key : List.of(a, b, a, a, b, b, a)) {
            byte[] nonce = EnvelopeCipher.newNonce();
            byte[] sealed = cipher.seal(key, nonce, plaintext, AAD);
            assertArrayEquals(plaintext, other(cipher).open(key, nonce, sealed, AAD));
            assertThrows(CipherFailure.class, () -> cipher.open(key == a ? b : a, nonce, sealed, AAD));
            assertArrayEquals(plaintext, cipher.open(key, nonce, sealed, AAD));
        }
    }

    @Test
    void givesADifferentTwelveByteNonceEachCall() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            byte[] nonce = EnvelopeCipher.newNonce();
            assertEquals(12, nonce.length);
            assertTrue(seen.add(HEX.formatHex(nonce)), "nonce repeated");
        }
    }

    @Test
    void staysCorrectWhenUsedFromSeveralThreadsAtOnce() throws Exception {
        int threads = 6;
        byte[][] keys = {random(32), random(32), random(32)};
        record Sealed(int key, byte[] nonce, byte[] plaintext, byte[] sealed) {}
        ConcurrentLinkedQueue<Sealed> all = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                done.add(pool.submit((Callable<Void>) () -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    start.await();
                    for (int i = 0; i < 400; i++) {
                        EnvelopeCipher sealer = random.nextBoolean() ? EnvelopeCipher.jdk() : EnvelopeCipher.bouncyCastle();
                        int key = random.nextInt(keys.length);
                        byte[] plaintext = new byte[random.nextInt(4096)];
                        random.nextBytes(plaintext);
                        byte[] nonce = EnvelopeCipher.newNonce();
                        byte[] sealed = sealer.seal(keys[key], nonce, plaintext, AAD);
                        assertArrayEquals(plaintext, EnvelopeCipher.jdk().open(keys[key], nonce, sealed, AAD));
                        assertArrayEquals(plaintext, EnvelopeCipher.bouncyCastle().open(keys[key], nonce, sealed, AAD));
                        all.add(new Sealed(key, nonce, plaintext, sealed));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * 400, all.size());
        // and what was sealed on those threads opens on this one
        for (Sealed s : all) {
            assertArrayEquals(s.plaintext(), EnvelopeCipher.standard().open(keys[s.key()], s.nonce(), s.sealed(), AAD));
        }
    }
}
