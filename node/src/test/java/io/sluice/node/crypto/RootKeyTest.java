package io.sluice.node.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class RootKeyTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(11);
    private static final byte[] CONTEXT = context("arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab", 0);

    private final RootKey root = RootKey.fromBase64(base64(random(32)));

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String base64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] context(String arn, int version) {
        return (arn + "#" + version).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void unwrapsWhatItWrapped() {
        byte[] material = random(32);
        byte[] wrapped = root.wrap(material, CONTEXT);
        assertEquals(1 + 12 + 32 + 16, wrapped.length);
        assertEquals(1, wrapped[0], "format version");
        assertFalse(HexFormat.of().formatHex(wrapped).contains(HexFormat.of().formatHex(material)));
        assertArrayEquals(material, root.unwrap(wrapped, CONTEXT));
    }

    @Test
    void wrapsTheSameMaterialDifferentlyEachTime() {
        byte[] material = random(32);
        assertFalse(Arrays.equals(root.wrap(material, CONTEXT), root.wrap(material, CONTEXT)));
    }

    @Test
    void refusesToUnwrapForAnotherContext() {
        byte[] wrapped = root.wrap(random(32), CONTEXT);
        String arn = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assertThrows(CipherFailure.class, () -> root.unwrap(wrapped, context(arn, 1)));
        assertThrows(CipherFailure.class, () -> root.unwrap(wrapped, context(arn.replace("1234abcd", "1234abce"), 0)));
        assertThrows(CipherFailure.class, () -> root.unwrap(wrapped, new byte[0]));
    }

    @Test
    void refusesWrappedMaterialWithAnyBitFlipped() {
        byte[] wrapped = root.wrap(random(32), CONTEXT);
        for (int i = 0; i < wrapped.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] tampered = wrapped.clone();
                tampered[i] ^= (byte) (1 << bit);
                assertThrows(CipherFailure.class, () -> root.unwrap(tampered, CONTEXT), "byte " + i + " bit " + bit);
            }
        }
    }

    @Test
    void refusesTruncatedOrForeignData() {
        byte[] wrapped = root.wrap(random(32), CONTEXT);
        assertThrows(CipherFailure.class, () -> root.unwrap(Arrays.copyOf(wrapped, wrapped.length - 1), CONTEXT));
        assertThrows(CipherFailure.class, () -> root.unwrap(Arrays.copyOf(wrapped, 1 + 12 + 15), CONTEXT));
        assertThrows(CipherFailure.class, () -> root.unwrap(new byte[0], CONTEXT));
        assertThrows(CipherFailure.class, () -> root.unwrap(random(61), CONTEXT));
    }

    @Test
    void anotherRootKeyCannotUnwrap() {
        byte[] wrapped = root.wrap(random(32), CONTEXT);
        RootKey other = RootKey.fromBase64(base64(random(32)));
        assertThrows(CipherFailure.class, () -> other.unwrap(wrapped, CONTEXT));
    }

    /**
     * Material wrapped by earlier releases must stay readable, so the KDF, its info string and the
     * format are fixed. (This blob also opens with Python's {@code cryptography} AESGCM under an
     * RFC 5869 HKDF computed by hand, so the format is the standard one.)
     */
    @Test
    void unwrapsMaterialWrappedByAnEarlierRelease() {
        RootKey zeros = RootKey.fromBase64(base64(new byte[32]));
        byte[] wrapped = HexFormat.of().parseHex("01" + "cb0ee37c37fbc794804dea40"
                + "a328df2be321b64e0d0aa9bd0911fd36d8fd407f81370fadb9a8050bed01130deb"
                + "bf8d40a988ffcbe86dfaf6a8027bcc");
        byte[] material = new byte[32];
        for (int i = 0; i < material.length; i++) {
            material[i] = (byte) i;
        }
        assertArrayEquals(material, zeros.unwrap(wrapped, CONTEXT));
    }

    @Test
    void readsTheBase64GivenInConfigurationAndRejectsAnythingElse() {
        byte[] raw = random(32);
        RootKey a = RootKey.fromBase64(base64(raw));
        RootKey b = RootKey.fromBase64("  " + base64(raw) + "\n");
        byte[] material = random(32);
        assertArrayEquals(material, b.unwrap(a.wrap(material, CONTEXT), CONTEXT));

        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class, () -> RootKey.fromBase64(base64(random(16))));
        assertTrue(shortKey.getMessage().contains("32 bytes"), shortKey.getMessage());
        IllegalArgumentException notBase64 = assertThrows(IllegalArgumentException.class, () -> RootKey.fromBase64("s3cret-key!"));
        assertFalse(notBase64.getMessage().contains("s3cret"), notBase64.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RootKey.fromBase64(""));
    }

    @Test
    void neverPrintsTheKey() {
        byte[] raw = random(32);
        String printed = RootKey.fromBase64(base64(raw)).toString();
        assertFalse(printed.contains(base64(raw)), printed);
        assertFalse(printed.contains(HexFormat.of().formatHex(raw, 0, 4)), printed);
    }

    @Test
    void createsAnOwnerOnlyKeyFileAndReadsItBackOnTheNextStart(@TempDir Path dir) throws Exception {
        Path dataDir = dir.resolve("data");
        RootKey first = RootKey.loadOrCreate(dataDir);
        Path file = dataDir.resolve("root-key");
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
        String text = Files.readString(file);
        assertEquals(32, Base64.getDecoder().decode(text.strip()).length);
        try (Stream<Path> files = Files.list(dataDir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }

        RootKey second = RootKey.loadOrCreate(dataDir);
        byte[] material = random(32);
        assertArrayEquals(material, second.unwrap(first.wrap(material, CONTEXT), CONTEXT));
        assertEquals(text, Files.readString(file), "the second start keeps the key");
        assertArrayEquals(material, RootKey.fromBase64(text).unwrap(first.wrap(material, CONTEXT), CONTEXT));
    }

    @Test
    void loadsAKeyPutInTheDataFolderByHand(@TempDir Path dir) throws Exception {
        String given = base64(random(32));
        Files.writeString(dir.resolve("root-key"), given + "\n");
        byte[] material = random(32);
        assertArrayEquals(material, RootKey.fromBase64(given).unwrap(RootKey.loadOrCreate(dir).wrap(material, CONTEXT), CONTEXT));
    }

    @Test
    void refusesToStartFromADamagedKeyFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("root-key"), base64(random(20)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> RootKey.loadOrCreate(dir));
        assertTrue(e.getMessage().contains("does not hold a root key"), e.getMessage());
    }

    @Test
    void processesRacingToCreateTheKeyAllGetTheSameOne(@TempDir Path dir) throws Exception {
        int racers = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        List<RootKey> keys = new ArrayList<>();
        try {
            List<Future<RootKey>> results = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                results.add(pool.submit((Callable<RootKey>) () -> {
                    start.await();
                    return RootKey.loadOrCreate(dir);
                }));
            }
            start.countDown();
            for (Future<RootKey> r : results) {
                keys.add(r.get(1, TimeUnit.MINUTES));
            }
        } finally {
            pool.shutdownNow();
        }
        byte[] material = random(32);
        byte[] wrapped = keys.get(0).wrap(material, CONTEXT);
        for (RootKey k : keys) {
            assertArrayEquals(material, k.unwrap(wrapped, CONTEXT));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("root-key")), files.toList(), "no temporary file left behind");
        }
    }
}
