package io.sluice.node.stream;

import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.PolicyEvaluator;
import io.sluice.node.kms.KeyEntity;
import io.sluice.node.kms.KeyRing;
import io.sluice.node.auth.Caller;
import io.sluice.node.crypto.CipherFailure;
import io.sluice.node.crypto.EnvelopeCipher;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardReads;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Server-side encryption of stream records, as Kinesis does it: envelope encryption with data keys
 * from the stream's KMS key. Producers' records are sealed with AES-256-GCM under a data key that
 * is reused for at most {@code dataKeyMaxAge} and {@code dataKeyMaxRecords}, per (key, stream,
 * caller) — so one caller never rides on a data key generated for another. The data key travels
 * wrapped (a KMS blob) with each stored batch; readers unwrap each distinct blob once per caller
 * and cache it for the same time. The stream ARN is the encryption context and the records' AAD,
 * so ciphertext moved to another stream does not open.
 */
public final class StreamCrypto {
    /** Records ready to store: ciphertext, and the one wrapped data key they reference (index 0). */
    public record Sealed(List<ShardEntity.StoredRecord> records, List<byte[]> dataKeys) {}

    private static final class DataKey {
        final byte[] plaintext;
        final byte[] blob;
        final long expiresAtNanos;
        final AtomicLong uses = new AtomicLong();

        DataKey(byte[] plaintext, byte[] blob, long expiresAtNanos) {
            this.plaintext = plaintext;
            this.blob = blob;
            this.expiresAtNanos = expiresAtNanos;
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyRing keys;
    private final Authorizer permissions;
    private final EnvelopeCipher cipher = EnvelopeCipher.standard();
    private final Duration maxAge;
    private final long maxRecords;
    private final String accountId;
    private final ConcurrentHashMap<String, DataKey> producerKeys = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, DataKey> consumerKeys = new ConcurrentHashMap<>();
    private final AtomicLong generateDataKeyCalls = new AtomicLong();
    private final AtomicLong decryptCalls = new AtomicLong();

    public StreamCrypto(KeyRing keys, Authorizer permissions, Duration maxAge, long maxRecords, String accountId) {
        this.keys = keys;
        this.permissions = permissions;
        this.maxAge = maxAge;
        this.maxRecords = maxRecords;
        this.accountId = accountId;
    }

    /** KMS calls made for stream encryption since start: {GenerateDataKey, Decrypt}. */
    public long[] kmsCalls() {
        return new long[] {generateDataKeyCalls.get(), decryptCalls.get()};
    }

    public CompletionStage<Sealed> seal(StreamInfo stream, Caller caller, List<ShardEntity.StoredRecord> plain) {
        return usableKey(stream).thenApply(key -> {
            if (!key.keyManager().equals("AWS") && !allowed(caller, "kms:GenerateDataKey", key.arn())) {
                throw AwsError.KMSAccessDeniedException.exception("User " + caller.name()
                        + " is not authorized to encrypt records in stream " + streamRef(stream));
            }
            DataKey dk = producerKey(key, stream, caller, plain.size());
            byte[] aad = stream.arn().getBytes(StandardCharsets.UTF_8);
            List<ShardEntity.StoredRecord> out = new ArrayList<>(plain.size());
            for (ShardEntity.StoredRecord r : plain) {
                byte[] nonce = EnvelopeCipher.newNonce();
                out.add(new ShardEntity.StoredRecord(r.partitionKey(), cipher.seal(dk.plaintext, nonce, r.data(), aad), 0, nonce));
            }
            return new Sealed(out, List.of(dk.blob));
        });
    }

    /** Plaintext of each record, in order; records stored without encryption pass through. */
    public CompletionStage<List<byte[]>> open(StreamInfo stream, Caller caller, List<ShardReads.ReadRecord> records) {
        Map<String, byte[]> distinct = new HashMap<>();
        for (ShardReads.ReadRecord r : records) {
            if (r.wrappedKey() != null) distinct.putIfAbsent(Base64.getEncoder().encodeToString(r.wrappedKey()), r.wrappedKey());
        }
        if (distinct.isEmpty()) {
            return CompletableFuture.completedFuture(records.stream().map(ShardReads.ReadRecord::data).toList());
        }
        Map<String, CompletableFuture<byte[]>> dataKeys = new HashMap<>();
        distinct.forEach((b64, blob) -> dataKeys.put(b64, consumerKey(stream, caller, b64, blob).toCompletableFuture()));
        return CompletableFuture.allOf(dataKeys.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            byte[] aad = stream.arn().getBytes(StandardCharsets.UTF_8);
            List<byte[]> out = new ArrayList<>(records.size());
            for (ShardReads.ReadRecord r : records) {
                if (r.wrappedKey() == null) {
                    out.add(r.data());
                    continue;
                }
                byte[] dk = dataKeys.get(Base64.getEncoder().encodeToString(r.wrappedKey())).join();
                try {
                    out.add(cipher.open(dk, r.nonce(), r.data(), aad));
                } catch (CipherFailure e) {
                    throw AwsError.InternalFailure.exception("A stored record failed its integrity check.");
                }
            }
            return out;
        });
    }

    private DataKey producerKey(KeyEntity.KeyView key, StreamInfo stream, Caller caller, int records) {
        String id = key.keyId() + "|" + key.currentVersion() + "|" + stream.arn() + "|" + caller.arn();
        DataKey dk = producerKeys.compute(id, (k, current) -> {
            if (current != null && current.expiresAtNanos - System.nanoTime() > 0
                    && current.uses.get() + records <= maxRecords) {
                return current;
            }
            byte[] plaintext = new byte[32];
            RANDOM.nextBytes(plaintext);
            generateDataKeyCalls.incrementAndGet();
            return new DataKey(plaintext, keys.seal(key, plaintext, context(stream)), System.nanoTime() + maxAge.toNanos());
        });
        dk.uses.addAndGet(records);
        return dk;
    }

    private CompletionStage<byte[]> consumerKey(StreamInfo stream, Caller caller, String blobId, byte[] blob) {
        String keyId;
        try {
            keyId = KeyRing.keyIdOfBlob(blob);
        } catch (ApiException e) {
            return CompletableFuture.failedFuture(AwsError.InternalFailure.exception("A stored data key is unreadable."));
        }
        return keys.cachedView(keyId).exceptionally(f -> {
            throw kmsError(f, keyId);
        }).thenApply(key -> {
            checkUsable(key);
            if (!key.keyManager().equals("AWS") && !allowed(caller, "kms:Decrypt", key.arn())) {
                throw AwsError.KMSAccessDeniedException.exception("User " + caller.name()
                        + " is not authorized to decrypt records in stream " + streamRef(stream));
            }
            String id = blobId + "|" + caller.arn();
            DataKey cached = consumerKeys.get(id);
            if (cached != null && cached.expiresAtNanos - System.nanoTime() > 0) {
                return cached.plaintext;
            }
            decryptCalls.incrementAndGet();
            byte[] plaintext = keys.open(key, blob, context(stream));
            consumerKeys.put(id, new DataKey(plaintext, blob, System.nanoTime() + maxAge.toNanos()));
            if (consumerKeys.size() > 100_000) {
                consumerKeys.entrySet().removeIf(e -> e.getValue().expiresAtNanos - System.nanoTime() <= 0);
            }
            return plaintext;
        });
    }

    private CompletionStage<KeyEntity.KeyView> usableKey(StreamInfo stream) {
        return keys.cachedView(stream.kmsKeyId()).exceptionally(f -> {
            throw kmsError(f, stream.kmsKeyId());
        }).thenApply(StreamCrypto::checkUsable);
    }

    private static KeyEntity.KeyView checkUsable(KeyEntity.KeyView key) {
        if (key.keyState().equals("Disabled")) {
            throw AwsError.KMSDisabledException.exception("The KMS key " + key.arn() + " is disabled.");
        }
        if (key.keyState().equals("PendingDeletion")) {
            throw AwsError.KMSInvalidStateException.exception("The KMS key " + key.arn() + " is pending deletion.");
        }
        return key;
    }

    private static RuntimeException kmsError(Throwable failure, String keyId) {
        ApiException api = ApiException.of(failure);
        if (api.error() == AwsError.NotFoundException) {
            return AwsError.KMSNotFoundException.exception("The KMS key " + keyId
                    + " does not exist (it may have been deleted; records encrypted under it can no longer be decrypted).");
        }
        return api;
    }

    /** The caller's own KMS permission on a customer key, which Kinesis SSE uses on the caller's behalf. */
    private boolean allowed(Caller caller, String action, String keyArn) {
        return permissions.decide(caller, action, keyArn) == PolicyEvaluator.Decision.ALLOW;
    }

    private static Map<String, String> context(StreamInfo stream) {
        return Map.of("aws:kinesis:arn", stream.arn());
    }

    private String streamRef(StreamInfo stream) {
        return accountId + ":" + stream.name() + ":" + stream.createdAtMillis() / 1000;
    }
}
