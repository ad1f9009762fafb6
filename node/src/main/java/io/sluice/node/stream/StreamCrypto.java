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
import io.sluice.protocol.kinesis.SequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
 * thread. The data key travels wrapped (a KMS blob) with each stored batch.
 *
 * <p>What is sealed is the whole record but its position: partition key and data together, so
 * nothing of an encrypted record is readable at rest. The stream ARN is the data key's encryption
 * context, and the record's AAD names the stream ARN, its incarnation (creation time) and the
 * shard, so ciphertext moved to another shard or stream, or to a new stream of the same name, does
 * not open. A record that does not open ends the read before it (the records before it are
 * served); a read that starts on it is refused with KMSInvalidStateException naming its sequence
 * number, so a reader can step over it with an AFTER_SEQUENCE_NUMBER iterator. Records sealed by
 * earlier Sluice versions (partition key in the clear, the stream ARN as AAD) still open.
 */
public final class StreamCrypto {
    /** Records ready to store: ciphertext, and the one wrapped data key they reference (index 0). */
    public record Sealed(List<ShardEntity.StoredRecord> records, List<byte[]> dataKeys) {}

    /** A record as its producer gave it. */
    public record Opened(String partitionKey, byte[] data) {}

    private static final Logger log = LoggerFactory.getLogger(StreamCrypto.class);

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

    /** Seals each record for the shard it goes to ({@code shards}, one per record). */
    public CompletionStage<Sealed> seal(StreamInfo stream, Caller caller, List<ShardEntity.StoredRecord> plain,
                                        List<StreamEntity.ShardRange> shards) {
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
            Map<Integer, byte[]> aadOf = new HashMap<>();
            List<ShardEntity.StoredRecord> out = new ArrayList<>(plain.size());
            try {
                for (int i = 0; i < plain.size(); i++) {
                    ShardEntity.StoredRecord r = plain.get(i);
                    StreamEntity.ShardRange shard = shards.get(i);
                    byte[] aad = aadOf.computeIfAbsent(shard.index(), index -> recordAad(stream, shard));
                    byte[] nonce = EnvelopeCipher.newNonce();
                    out.add(ShardEntity.StoredRecord.sealed(cipher.seal(dk.plaintext(), nonce, envelope(r), aad), nonce));
                }
            } finally {
                Arrays.fill(dk.plaintext(), (byte) 0);
            }
            return new Sealed(out, List.of(dk.blob()));
        }, cryptoThreads);
    }

    /** The AAD of a record: where it belongs. */
    private static byte[] recordAad(StreamInfo stream, StreamEntity.ShardRange shard) {
        return ("sluice record v2\n" + stream.arn() + "\n" + stream.createdAtMillis() + "\n" + shard.shardId())
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Partition key and data as one plaintext: key length (2 bytes), key in UTF-8, data. */
    private static byte[] envelope(ShardEntity.StoredRecord r) {
        byte[] key = r.partitionKey().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[2 + key.length + r.data().length];
        out[0] = (byte) (key.length >>> 8);
        out[1] = (byte) key.length;
        System.arraycopy(key, 0, out, 2, key.length);
        System.arraycopy(r.data(), 0, out, 2 + key.length, r.data().length);
        return out;
    }

    private static Opened unenvelope(byte[] plaintext) {
        if (plaintext.length < 2) throw new CipherFailure("sealed record too short");
        int keyLength = ((plaintext[0] & 0xff) << 8) | (plaintext[1] & 0xff);
        if (plaintext.length < 2 + keyLength) throw new CipherFailure("sealed record too short");
        return new Opened(new String(plaintext, 2, keyLength, StandardCharsets.UTF_8),
                Arrays.copyOfRange(plaintext, 2 + keyLength, plaintext.length));
    }

    /**
     * Each record as its producer gave it, in order; records stored without encryption pass through.
     * The list ends before the first record that does not open where it was read (see the class
     * comment); when that is the first one, the read fails with KMSInvalidStateException.
     */
    public CompletionStage<List<Opened>> open(StreamInfo stream, Caller caller, StreamEntity.ShardRange shard,
                                              List<ShardReads.ReadRecord> records) {
        Map<String, byte[]> distinct = new LinkedHashMap<>();
        for (ShardReads.ReadRecord r : records) {
            if (r.wrappedKey() != null) distinct.putIfAbsent(blobId(r.wrappedKey()), r.wrappedKey());
        }
        if (distinct.isEmpty()) {
            return CompletableFuture.completedFuture(records.stream().map(r -> new Opened(r.partitionKey(), r.data())).toList());
        }
        return decryptableKeys(stream, caller, distinct)
                .thenCompose(wrapped -> unwrapped(stream, caller, wrapped))
                .thenApplyAsync(dataKeyOf -> {
                    byte[] aad = recordAad(stream, shard);
                    byte[] legacyAad = stream.arn().getBytes(StandardCharsets.UTF_8);
                    List<Opened> out = new ArrayList<>(records.size());
                    try {
                        for (ShardReads.ReadRecord r : records) {
                            if (r.wrappedKey() == null) {
                                out.add(new Opened(r.partitionKey(), r.data()));
                                continue;
                            }
                            byte[] dk = dataKeyOf.get(blobId(r.wrappedKey()));
                            try {
                                if (dk == null) throw new CipherFailure("its data key does not open in this stream");
                                out.add(r.partitionKey() == null ? unenvelope(cipher.open(dk, r.nonce(), r.data(), aad))
                                        : new Opened(r.partitionKey(), cipher.open(dk, r.nonce(), r.data(), legacyAad)));
                            } catch (CipherFailure e) {
                                return failedIntegrity(stream, shard, r, out, e);
                            }
                        }
                    } finally {
                        for (byte[] dk : dataKeyOf.values()) Arrays.fill(dk, (byte) 0);
                    }
                    return out;
                }, cryptoThreads);
    }

    private List<Opened> failedIntegrity(StreamInfo stream, StreamEntity.ShardRange shard, ShardReads.ReadRecord r,
                                         List<Opened> before, CipherFailure cause) {
        String at = new SequenceNumber(shard.index(), r.eventSeqNr(), r.index()).toString();
        log.warn("Record {} of {} in stream {} failed its integrity check ({}): it was not written there or was altered at rest",
                at, shard.shardId(), stream.arn(), cause.getMessage());
        if (!before.isEmpty()) {
            return before;
        }
        throw AwsError.KMSInvalidStateException.exception("The record with sequence number " + at + " in shard "
                + shard.shardId() + " of stream " + streamRef(stream) + " failed its integrity check: it was not written"
                + " there or was altered. Use an AFTER_SEQUENCE_NUMBER iterator at " + at + " to read past it.");
    }

    /**
     * The data key of each blob that opens in this stream, by blob. All in one ask to the cache; when
     * a blob does not open (a record moved here from another stream), each blob is asked alone to
     * tell which ones do.
     */
    private CompletionStage<Map<String, byte[]>> unwrapped(StreamInfo stream, Caller caller, List<DataKeyCache.Wrapped> wrapped) {
        if (wrapped.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return unwrap(stream, caller, wrapped).handle((keys, failure) -> {
            if (failure == null) {
                return CompletableFuture.completedFuture(keys);
            }
            if (ApiException.of(failure).error() != AwsError.InvalidCiphertextException) {
                return CompletableFuture.<Map<String, byte[]>>failedFuture(failure);
            }
            if (wrapped.size() == 1) {
                return CompletableFuture.completedFuture(Map.<String, byte[]>of());
            }
            List<CompletableFuture<Map<String, byte[]>>> each = new ArrayList<>();
            for (DataKeyCache.Wrapped w : wrapped) {
                each.add(unwrap(stream, caller, List.of(w)).exceptionally(f -> Map.of()).toCompletableFuture());
            }
            return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
                Map<String, byte[]> all = new HashMap<>();
                each.forEach(f -> all.putAll(f.join()));
                return all;
            });
        }).thenCompose(f -> f);
    }

    private CompletionStage<Map<String, byte[]>> unwrap(StreamInfo stream, Caller caller, List<DataKeyCache.Wrapped> wrapped) {
        return Futures.direct(AskPattern.<DataKeyCache.Command, DataKeyCache.Unwrapped>askWithStatus(dataKeys,
                        replyTo -> new DataKeyCache.ConsumerKeys(wrapped, context(stream), caller.arn(), replyTo),
                        askTimeout, system.scheduler()))
                .thenApply(unwrapped -> {
                    decryptCalls.addAndGet(unwrapped.unwrapped());
                    Map<String, byte[]> out = new HashMap<>();
                    for (int i = 0; i < wrapped.size(); i++) out.put(blobId(wrapped.get(i).blob()), unwrapped.plaintexts().get(i));
                    return out;
                });
    }

    private static String blobId(byte[] blob) {
        return Base64.getEncoder().encodeToString(blob);
    }

    /**
     * The blobs, each with a usable view of its key, once the caller's kms:Decrypt on every key is
     * checked; keys are looked up once each (a stream read rarely spans more than one). A blob that
     * is not a KMS blob at all is left out: its records fail their integrity check.
     */
    private CompletionStage<List<DataKeyCache.Wrapped>> decryptableKeys(StreamInfo stream, Caller caller, Map<String, byte[]> blobs) {
        Map<String, CompletableFuture<KeyEntity.KeyView>> views = new HashMap<>();
        Map<byte[], String> keyIdOf = new LinkedHashMap<>();
        for (byte[] blob : blobs.values()) {
            String keyId;
            try {
                keyId = KeyRing.keyIdOfBlob(blob);
            } catch (ApiException e) {
                continue;
            }
            keyIdOf.put(blob, keyId);
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
            List<DataKeyCache.Wrapped> wrapped = new ArrayList<>(keyIdOf.size());
            keyIdOf.forEach((blob, keyId) -> wrapped.add(new DataKeyCache.Wrapped(views.get(keyId).join(), blob)));
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
