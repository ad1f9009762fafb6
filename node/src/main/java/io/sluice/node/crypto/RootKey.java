package io.sluice.node.crypto;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * The node root key (256 bits): wraps KMS key material so that Cassandra only ever holds it
 * encrypted. Every node of a cluster needs the same one; it never leaves the node. Only a wrapping
 * key derived from it with HKDF-SHA256 is kept in memory.
 *
 * <p>Wrapped format: {@code 0x01 | nonce (12) | AES-256-GCM(material) || tag (16)}, with the
 * caller's context (the KMS key ARN and material version) as AAD, so material wrapped for one key
 * does not unwrap as another's.
 */
public final class RootKey {
    public static final int KEY_BYTES = 32;
    static final String FILE_NAME = "root-key";
    private static final byte FORMAT_VERSION = 1;
    private static final int HEADER_BYTES = 1 + EnvelopeCipher.NONCE_BYTES;
    // changing the info string (or the format) makes every stored key unreadable: add a version instead
    private static final byte[] HKDF_INFO = "sluice kms key material v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] wrappingKey;
    private final EnvelopeCipher cipher = EnvelopeCipher.standard();

    private RootKey(byte[] rootKey) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(SHA256Digest.newInstance());
        // the root key is uniformly random, so no salt is needed (RFC 5869 then uses zeros)
        hkdf.init(new HKDFParameters(rootKey, null, HKDF_INFO));
        wrappingKey = new byte[EnvelopeCipher.KEY_BYTES];
        hkdf.generateBytes(wrappingKey, 0, wrappingKey.length);
    }

    /** The root key as given in configuration: 32 bytes in base64 (e.g. {@code openssl rand -base64 32}). */
    public static RootKey fromBase64(String base64) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(Objects.requireNonNull(base64, "root key").strip());
        } catch (IllegalArgumentException e) {
            // not chained: the decoder's message quotes a character of the key
            throw new IllegalArgumentException("the root key is not valid base64");
        }
        try {
            if (raw.length != KEY_BYTES) {
                throw new IllegalArgumentException("the root key must be " + KEY_BYTES + " bytes in base64, not " + raw.length);
            }
            return new RootKey(raw);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /**
     * Dev mode: the key in {@code dataDir/root-key}, generated there (owner-only, rw-------) on
     * first use. The file appears complete or not at all, and if several processes race to create
     * it, all of them end up with the one that was created first.
     */
    public static RootKey loadOrCreate(Path dataDir) {
        Path file = dataDir.resolve(FILE_NAME);
        try {
            Files.createDirectories(dataDir);
            if (!Files.exists(file)) {
                create(file);
            }
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            try {
                return fromBase64(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(file + " does not hold a root key: " + e.getMessage());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot keep the root key in " + dataDir, e);
        }
    }

    private static void create(Path file) throws IOException {
        byte[] raw = new byte[KEY_BYTES];
        RANDOM.nextBytes(raw);
        byte[] text = (Base64.getEncoder().encodeToString(raw) + "\n").getBytes(StandardCharsets.US_ASCII);
        Arrays.fill(raw, (byte) 0);
        Path tmp = ownerOnlyTempFile(file);
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(text);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                // material wrapped under this key is useless without it: on disk before anyone uses it
                out.force(true);
            }
            publish(tmp, file);
        } finally {
            Arrays.fill(text, (byte) 0);
            Files.deleteIfExists(tmp);
        }
    }

    private static Path ownerOnlyTempFile(Path file) throws IOException {
        try {
            return Files.createTempFile(file.getParent(), FILE_NAME, ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return Files.createTempFile(file.getParent(), FILE_NAME, ".tmp");
        }
    }

    /**
     * Gives the complete temporary file its final name without ever replacing an existing key (a
     * rename would silently replace one another process just created and maybe already used).
     */
    private static void publish(Path tmp, Path file) throws IOException {
        try {
            Files.createLink(file, tmp);
        } catch (FileAlreadyExistsException e) {
            // another process won the race: use its key
        } catch (IOException | UnsupportedOperationException e) {
            // no hard links on this file system: a plain move, which still refuses an existing target
            try {
                Files.move(tmp, file);
            } catch (FileAlreadyExistsException raced) {
                // as above
            }
        }
    }

    /** Encrypts key material under the root key, bound to {@code context} (AAD). */
    public byte[] wrap(byte[] material, byte[] context) {
        Objects.requireNonNull(material, "material");
        Objects.requireNonNull(context, "context");
        byte[] nonce = EnvelopeCipher.newNonce();
        byte[] sealed = cipher.seal(wrappingKey, nonce, material, context);
        byte[] wrapped = new byte[HEADER_BYTES + sealed.length];
        wrapped[0] = FORMAT_VERSION;
        System.arraycopy(nonce, 0, wrapped, 1, nonce.length);
        System.arraycopy(sealed, 0, wrapped, HEADER_BYTES, sealed.length);
        return wrapped;
    }

    /**
     * The key material {@link #wrap} was given for the same context.
     *
     * @throws CipherFailure if {@code wrapped} was made by another root key or for another context,
     *                       was altered, or is not in this format
     */
    public byte[] unwrap(byte[] wrapped, byte[] context) {
        Objects.requireNonNull(wrapped, "wrapped");
        Objects.requireNonNull(context, "context");
        if (wrapped.length < HEADER_BYTES + EnvelopeCipher.TAG_BYTES || wrapped[0] != FORMAT_VERSION) {
            throw new CipherFailure("not key material wrapped by a root key");
        }
        byte[] nonce = Arrays.copyOfRange(wrapped, 1, HEADER_BYTES);
        byte[] sealed = Arrays.copyOfRange(wrapped, HEADER_BYTES, wrapped.length);
        try {
            return cipher.open(wrappingKey, nonce, sealed, context);
        } catch (CipherFailure e) {
            throw new CipherFailure("key material does not unwrap with this root key and context", e);
        }
    }

    @Override
    public String toString() {
        return "RootKey[256-bit, redacted]";
    }
}
