package io.sluice.node.stream;

import io.sluice.node.runtime.Futures;
import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.PolicyEvaluator;
import io.sluice.node.kms.DataKeyCache;
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
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Server-side encryption of stream records, as Kinesis does it: envelope encryption with data keys
 * from the stream's KMS key. The node's {@link DataKeyCache} hands out the data keys: one per
 * (key, stream, caller), reused for at most {@code dataKeyMaxAge} and {@code dataKeyMaxRecords}, so
 * one caller never rides on a data key generated for another; readers' unwrapped keys per (blob,
 * stream, caller). This class checks key state and the caller's KMS permission, asks the cache once
 * per call (never per record or per blob), and seals or opens the records itself, off the cache's
 * thread. The data key travels wrapped (a KMS blob) with each stored batch. The stream ARN is the
 * encryption context and the records' AAD, so ciphertext moved to another stream does not open.
 */
public final class StreamCrypto {
    /** Records ready to store: ciphertext, and the one wrapped data key they reference (index 0). */
    public record Sealed(List<ShardEntity.StoredRecord> records, List<byte[]> dataKeys) {}

    private final KeyRing keys;
    private final ActorRef<DataKeyCache.Command> dataKeys;
    private final ActorSystem<?> system;
    // the cache replies on its own thread, and Futures.direct runs what follows there: record crypto
    // hops to the node's dispatcher so the cache never waits behind a batch being sealed or opened
    private final Executor cryptoThreads;
    private final Duration askTimeout;
    private final Authorizer permissions;
    private final EnvelopeCipher cipher = EnvelopeCipher.standard();
    private final String accountId;
    private final AtomicLong generateDataKeyCalls = new AtomicLong();
    private final AtomicLong decryptCalls = new AtomicLong();

    public StreamCrypto(KeyRing keys, ActorRef<DataKeyCache.Command> dataKeys, ActorSystem<?> system, Duration askTimeout,
                        Authorizer permissions, String accountId) {
        this.keys = keys;
        this.dataKeys = dataKeys;
        this.system = system;
        this.cryptoThreads = system.executionContext();
        this.askTimeout = askTimeout;
        this.permissions = permissions;
        this.accountId = accountId;
    }

    /** KMS calls made for stream encryption since start: {GenerateDataKey, Decrypt}. */
    public long[] kmsCalls() {
        return new long[] {generateDataKeyCalls.get(), decryptCalls.get()};
    }

    public CompletionStage<Sealed> seal(StreamInfo stream, Caller caller, List<ShardEntity.StoredRecord> plain) {
        return usableKey(stream).thenCompose(key -> {
            if (!key.keyManager().equals("AWS") && !allowed(caller, "kms:GenerateDataKey", key.arn())) {
                throw AwsError.KMSAccessDeniedException.exception("User " + caller.name()
                        + " is not authorized to encrypt records in stream " + streamRef(stream));
            }
            return Futures.direct(AskPattern.<DataKeyCache.Command, DataKeyCache.DataKey>askWithStatus(dataKeys,
                    replyTo -> new DataKeyCache.ProducerKey(key, context(stream), caller.arn(), plain.size(), replyTo),
                    askTimeout, system.scheduler()));
        }).thenApplyAsync(dk -> {
            if (dk.generated()) generateDataKeyCalls.incrementAndGet();
            byte[] aad = stream.arn().getBytes(StandardCharsets.UTF_8);
            List<ShardEntity.StoredRecord> out = new ArrayList<>(plain.size());
            try {
                for (ShardEntity.StoredRecord r : plain) {
                    byte[] nonce = EnvelopeCipher.newNonce();
                    out.add(new ShardEntity.StoredRecord(r.partitionKey(), cipher.seal(dk.plaintext(), nonce, r.data(), aad), 0, nonce));
                }
            } finally {
                Arrays.fill(dk.plaintext(), (byte) 0);
            }
            return new Sealed(out, List.of(dk.blob()));
        }, cryptoThreads);
    }

    /** Plaintext of each record, in order; records stored without encryption pass through. */
    public CompletionStage<List<byte[]>> open(StreamInfo stream, Caller caller, List<ShardReads.ReadRecord> records) {
        Map<String, byte[]> distinct = new LinkedHashMap<>();
        for (ShardReads.ReadRecord r : records) {
            if (r.wrappedKey() != null) distinct.putIfAbsent(Base64.getEncoder().encodeToString(r.wrappedKey()), r.wrappedKey());
        }
        if (distinct.isEmpty()) {
            return CompletableFuture.completedFuture(records.stream().map(ShardReads.ReadRecord::data).toList());
        }
        List<String> blobIds = new ArrayList<>(distinct.keySet());
        return decryptableKeys(stream, caller, distinct).thenCompose(wrapped ->
                Futures.direct(AskPattern.<DataKeyCache.Command, DataKeyCache.Unwrapped>askWithStatus(dataKeys,
                        replyTo -> new DataKeyCache.ConsumerKeys(wrapped, context(stream), caller.arn(), replyTo),
                        askTimeout, system.scheduler()))
        ).thenApplyAsync(unwrapped -> {
            decryptCalls.addAndGet(unwrapped.unwrapped());
            Map<String, byte[]> dataKeyOf = new HashMap<>();
            for (int i = 0; i < blobIds.size(); i++) dataKeyOf.put(blobIds.get(i), unwrapped.plaintexts().get(i));
            byte[] aad = stream.arn().getBytes(StandardCharsets.UTF_8);
            List<byte[]> out = new ArrayList<>(records.size());
            try {
                for (ShardReads.ReadRecord r : records) {
                    if (r.wrappedKey() == null) {
                        out.add(r.data());
                        continue;
                    }
                    byte[] dk = dataKeyOf.get(Base64.getEncoder().encodeToString(r.wrappedKey()));
                    try {
                        out.add(cipher.open(dk, r.nonce(), r.data(), aad));
                    } catch (CipherFailure e) {
                        throw AwsError.InternalFailure.exception("A stored record failed its integrity check.");
                    }
                }
            } finally {
                for (byte[] dk : unwrapped.plaintexts()) Arrays.fill(dk, (byte) 0);
            }
            return out;
        }, cryptoThreads);
    }

    /**
     * The blobs, each with a usable view of its key, once the caller's kms:Decrypt on every key is
     * checked; keys are looked up once each (a stream read rarely spans more than one).
     */
    private CompletionStage<List<DataKeyCache.Wrapped>> decryptableKeys(StreamInfo stream, Caller caller, Map<String, byte[]> blobs) {
        Map<String, CompletableFuture<KeyEntity.KeyView>> views = new HashMap<>();
        List<String> keyIds = new ArrayList<>(blobs.size());
        for (byte[] blob : blobs.values()) {
            String keyId;
            try {
                keyId = KeyRing.keyIdOfBlob(blob);
            } catch (ApiException e) {
                return CompletableFuture.failedFuture(AwsError.InternalFailure.exception("A stored data key is unreadable."));
            }
            keyIds.add(keyId);
            views.computeIfAbsent(keyId, id -> keys.cachedView(id).exceptionally(f -> {
                throw kmsError(f, id);
            }).thenApply(key -> {
                checkUsable(key);
                if (!key.keyManager().equals("AWS") && !allowed(caller, "kms:Decrypt", key.arn())) {
                    throw AwsError.KMSAccessDeniedException.exception("User " + caller.name()
                            + " is not authorized to decrypt records in stream " + streamRef(stream));
                }
                return key;
            }).toCompletableFuture());
        }
        return CompletableFuture.allOf(views.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<DataKeyCache.Wrapped> wrapped = new ArrayList<>(blobs.size());
            int i = 0;
            for (byte[] blob : blobs.values()) {
                wrapped.add(new DataKeyCache.Wrapped(views.get(keyIds.get(i++)).join(), blob));
            }
            return wrapped;
        });
    }

    private CompletionStage<KeyEntity.KeyView> usableKey(StreamInfo stream) {
        return keys.cachedView(stream.kmsKeyId()).exceptionally(f -> {
            throw kmsError(f, stream.kmsKeyId());
        }).thenApply(this::checkUsable);
    }

    /** Refuses a key that may not be used now, and has the cache drop its data keys at once. */
    private KeyEntity.KeyView checkUsable(KeyEntity.KeyView key) {
        if (!key.keyState().equals("Enabled")) {
            dataKeys.tell(new DataKeyCache.KeySeen(key));
        }
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
