package io.sluice.node.crypto;

import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * AES-256-GCM with a 96-bit nonce and a 128-bit tag: the one authenticated cipher behind record
 * encryption, KMS blobs and the root key. {@link #seal} returns {@code ciphertext || tag};
 * {@link #open} returns the plaintext or throws {@link CipherFailure} when the tag does not verify.
 *
 * <p>Implementations are thread-safe. A caller must never seal twice with the same key and nonce
 * (GCM then leaks the XOR of the plaintexts and lets the authentication key be recovered): take a
 * fresh {@link #newNonce()} for every seal. Both implementations refuse, with
 * IllegalArgumentException, a seal that repeats the key and nonce of the previous seal on the same
 * thread (Bouncy Castle also of the previous open); that catches slips, it is not a guarantee.
 */
public interface EnvelopeCipher {
    int KEY_BYTES = 32;
    int NONCE_BYTES = 12;
    int TAG_BYTES = 16;

    /**
     * Encrypts and authenticates {@code plaintext}, and authenticates {@code aad} (null: none).
     *
     * @throws IllegalArgumentException if the key is not 32 bytes, the nonce not 12, or the key and
     *                                  nonce repeat those just used on this thread
     */
    byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad);

    /**
     * The plaintext of {@code sealed}, verified against the key, nonce and {@code aad} (null: none).
     *
     * @throws CipherFailure            if it does not verify (wrong key, nonce or AAD; altered,
     *                                  truncated or malformed data)
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    byte[] open(byte[] key, byte[] nonce, byte[] sealed, byte[] aad);

    /** SunJCE's {@code AES/GCM/NoPadding} (AES-NI and CLMUL intrinsics on x86-64). */
    static EnvelopeCipher jdk() {
        return Jdk.INSTANCE;
    }

    /** Bouncy Castle's lightweight {@code GCMBlockCipher} over {@code AESEngine}; pure Java. */
    static EnvelopeCipher bouncyCastle() {
        return BouncyCastle.INSTANCE;
    }

    /**
     * The implementation the node uses: {@link #jdk()}, the faster one in
     * {@code EnvelopeCipherBenchmark} (docs/benchmarks.md, "Record encryption (JMH)"). Measured with
     * JMH 1.37 on JDK 17.0.15, 2-vCPU AMD EPYC (AES-NI, PCLMULQDQ), one thread, one fork, while
     * a load test shared the machine; mean ± 99.9% error, µs per record:
     *
     * <pre>
     * operation  payload   JDK mean  JDK p50   BC mean        BC p50
     * seal       1 KiB     1.30±0.48  1.50     18.8±12.2       17.2
     * open       1 KiB     1.40±0.67  1.08     18.3±7.5        19.4
     * seal       64 KiB    40.4±12.2  37.2     1049±166        1339
     * open       64 KiB    40.2±4.5   36.2     1187±448        1253
     * </pre>
     *
     * SunJCE uses the CPU's AES and carry-less multiply instructions; Bouncy Castle's lightweight
     * API is table-driven Java, 13 to 30 times slower here. {@link #newNonce()} adds 0.26 µs.
     */
    static EnvelopeCipher standard() {
        return Jdk.INSTANCE;
    }

    /**
     * Twelve bytes from a SecureRandom; safe to call from any thread.
     *
     * <p>Random rather than counter nonces, because keys are shared by threads and nodes and a
     * counter would need coordination. Random 96-bit nonces collide with probability about
     * n²/2^97 after n seals under one key, which is why NIST SP 800-38D allows them for up to 2^32
     * seals per key. Every key here stays far below that: a data key seals at most
     * {@code sluice.kms.data-key-max-records} records (10^6 ≈ 2^20, a collision chance near 2^-57)
     * before it is replaced, KMS key material seals one blob per Encrypt or GenerateDataKey and
     * rotation starts a new version, and the root key wraps one blob per material version.
     */
    static byte[] newNonce() {
        byte[] nonce = new byte[NONCE_BYTES];
        NonceSource.RANDOM.nextBytes(nonce);
        return nonce;
    }

    /** Holds the nonce generator (interfaces cannot have private fields). */
    final class NonceSource {
        private static final SecureRandom RANDOM = new SecureRandom();

        private NonceSource() {}
    }

    /**
     * SunJCE AES-GCM. A JDK Cipher is not thread-safe and, once used to encrypt, must be
     * initialised again, never with the key and IV it just encrypted under; so each thread keeps
     * its own, initialised on every call, and keeps the last key's SecretKeySpec (the provider
     * keeps that key's schedule too, so a data key reused for many records is expanded once).
     */
    final class Jdk implements EnvelopeCipher {
        private static final Jdk INSTANCE = new Jdk();
        private static final int TAG_BITS = TAG_BYTES * 8;

        private final ThreadLocal<PerThread> perThread = ThreadLocal.withInitial(PerThread::new);

        private Jdk() {}

        private static final class PerThread {
            final Cipher cipher;
            private byte[] lastKey;
            private SecretKeySpec lastSpec;

            PerThread() {
                try {
                    cipher = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("this JDK has no SunJCE AES/GCM/NoPadding", e);
                }
            }

            SecretKeySpec key(byte[] key) {
                if (lastKey == null || !MessageDigest.isEqual(lastKey, key)) {
                    lastKey = key.clone();
                    lastSpec = new SecretKeySpec(lastKey, "AES");
                }
                return lastSpec;
            }
        }

        @Override
        public byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
            checkKey(key);
            checkNonce(nonce);
            Objects.requireNonNull(plaintext, "plaintext");
            PerThread t = perThread.get();
            try {
                t.cipher.init(Cipher.ENCRYPT_MODE, t.key(key), new GCMParameterSpec(TAG_BITS, nonce));
            } catch (InvalidAlgorithmParameterException e) {
                // with a valid nonce and tag length the provider refuses only a repeated key and IV
                throw new IllegalArgumentException("this key and nonce were just used to seal; GCM nonces must never repeat", e);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("SunJCE refused an AES-256 key", e);
            }
            if (aad != null) {
                t.cipher.updateAAD(aad);
            }
            try {
                return t.cipher.doFinal(plaintext);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM encryption failed", e);
            }
        }

        @Override
        public byte[] open(byte[] key, byte[] nonce, byte[] sealed, byte[] aad) {
            checkKey(key);
            checkSealed(nonce, sealed);
            PerThread t = perThread.get();
            try {
                t.cipher.init(Cipher.DECRYPT_MODE, t.key(key), new GCMParameterSpec(TAG_BITS, nonce));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("SunJCE refused an AES-256 key", e);
            }
            if (aad != null) {
                t.cipher.updateAAD(aad);
            }
            try {
                byte[] plaintext = t.cipher.doFinal(sealed);
                return plaintext == null ? new byte[0] : plaintext;
            } catch (GeneralSecurityException e) {
                throw new CipherFailure("sealed data does not verify", e);
            }
        }

        @Override
        public String toString() {
            return "AES-256-GCM (SunJCE)";
        }
    }

    /**
     * Bouncy Castle AES-GCM through the lightweight API (no JCA provider registration). Each
     * thread keeps its own GCMModeCipher; when the key is the one it last loaded, it is initialised
     * without a key, which keeps the AES key schedule and the GHASH tables instead of rebuilding them.
     */
    final class BouncyCastle implements EnvelopeCipher {
        private static final BouncyCastle INSTANCE = new BouncyCastle();
        private static final int TAG_BITS = TAG_BYTES * 8;

        private final ThreadLocal<PerThread> perThread = ThreadLocal.withInitial(PerThread::new);

        private BouncyCastle() {}

        private static final class PerThread {
            final GCMModeCipher gcm = GCMBlockCipher.newInstance(AESEngine.newInstance());
            /** The key {@code gcm} holds, or null when unknown (never initialised, or init failed). */
            private byte[] loadedKey;

            void init(boolean forEncryption, byte[] key, byte[] nonce) {
                byte[] previous = loadedKey;
                boolean sameKey = previous != null && MessageDigest.isEqual(previous, key);
                // should init fail part-way, the next call must load its key explicitly
                loadedKey = null;
                gcm.init(forEncryption, new AEADParameters(sameKey ? null : new KeyParameter(key), TAG_BITS, nonce));
                loadedKey = sameKey ? previous : key.clone();
            }
        }

        @Override
        public byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
            checkKey(key);
            checkNonce(nonce);
            Objects.requireNonNull(plaintext, "plaintext");
            PerThread t = perThread.get();
            try {
                t.init(true, key, nonce);
            } catch (IllegalArgumentException e) {
                // with a valid key and nonce Bouncy Castle refuses only a repeated key and nonce
                throw new IllegalArgumentException("this key and nonce were just used to seal; GCM nonces must never repeat", e);
            }
            if (aad != null) {
                t.gcm.processAADBytes(aad, 0, aad.length);
            }
            byte[] out = new byte[plaintext.length + TAG_BYTES];
            int written = t.gcm.processBytes(plaintext, 0, plaintext.length, out, 0);
            try {
                written += t.gcm.doFinal(out, written);
            } catch (InvalidCipherTextException e) {
                throw new IllegalStateException("AES-GCM encryption failed", e);
            }
            if (written != out.length) {
                throw new IllegalStateException("AES-GCM wrote " + written + " bytes, expected " + out.length);
            }
            return out;
        }

        @Override
        public byte[] open(byte[] key, byte[] nonce, byte[] sealed, byte[] aad) {
            checkKey(key);
            checkSealed(nonce, sealed);
            PerThread t = perThread.get();
            t.init(false, key, nonce);
            if (aad != null) {
                t.gcm.processAADBytes(aad, 0, aad.length);
            }
            byte[] out = new byte[sealed.length - TAG_BYTES];
            try {
                int written = t.gcm.processBytes(sealed, 0, sealed.length, out, 0);
                written += t.gcm.doFinal(out, written);
                if (written != out.length) {
                    throw new IllegalStateException("AES-GCM wrote " + written + " bytes, expected " + out.length);
                }
                return out;
            } catch (InvalidCipherTextException e) {
                // Bouncy Castle decrypts as it goes: unverified plaintext must not linger
                Arrays.fill(out, (byte) 0);
                throw new CipherFailure("sealed data does not verify", e);
            }
        }

        @Override
        public String toString() {
            return "AES-256-GCM (Bouncy Castle)";
        }
    }

    private static void checkKey(byte[] key) {
        if (Objects.requireNonNull(key, "key").length != KEY_BYTES) {
            throw new IllegalArgumentException("an AES-256 key is " + KEY_BYTES + " bytes, not " + key.length);
        }
    }

    private static void checkNonce(byte[] nonce) {
        if (Objects.requireNonNull(nonce, "nonce").length != NONCE_BYTES) {
            throw new IllegalArgumentException("a nonce is " + NONCE_BYTES + " bytes, not " + nonce.length);
        }
    }

    /** Nonce and sealed data come from storage: if their shape is wrong, they do not verify. */
    private static void checkSealed(byte[] nonce, byte[] sealed) {
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(sealed, "sealed");
        if (nonce.length != NONCE_BYTES || sealed.length < TAG_BYTES) {
            throw new CipherFailure("sealed data does not verify");
        }
    }
}
