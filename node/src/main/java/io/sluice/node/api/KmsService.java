package io.sluice.node.api;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.auth.Caller;
import io.sluice.node.kms.KeyCatalog;
import io.sluice.node.kms.KeyEntity;
import io.sluice.node.kms.KeyRing;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kms.Kms.*;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

import static io.sluice.node.api.Service.KMS;

/**
 * The KMS API ({@code TrentService.*}): symmetric keys, aliases, enable/disable, scheduled
 * deletion, rotation, data keys, Encrypt/Decrypt/ReEncrypt with the encryption context bound as AAD.
 */
public final class KmsService {
    private static final Pattern ALIAS_NAME = Pattern.compile("alias/[a-zA-Z0-9/_-]+");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ActorSystem<?> system;
    private final NodeSettings settings;
    private final KeyRing keys;

    public KmsService(ActorSystem<?> system, NodeSettings settings, KeyRing keys) {
        this.system = system;
        this.settings = settings;
        this.keys = keys;
    }

    public List<Operation<?>> operations() {
        return List.of(
                Operation.of(KMS, "CreateKey", CreateKeyRequest.class, (c, r) -> "*", this::createKey),
                onKey("DescribeKey", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.view(keyId(arn)).thenApply(this::metadata)),
                Operation.of(KMS, "ListKeys", ListKeysRequest.class, (c, r) -> "*", this::listKeys),
                onKey("CreateAlias", AliasRequest.class, AliasRequest::targetKeyId, (c, r, arn) -> putAlias(r, arn, false))
                        .checkedBy(KmsService::checkAlias),
                onKey("UpdateAlias", AliasRequest.class, AliasRequest::targetKeyId, (c, r, arn) -> putAlias(r, arn, true))
                        .checkedBy(KmsService::checkAlias),
                Operation.of(KMS, "DeleteAlias", AliasRequest.class, (c, r) -> keys.keyArnPrefix() + r.aliasName(), this::deleteAlias)
                        .checkedBy(r -> new Validation().required("aliasName", r.aliasName()).check()),
                Operation.of(KMS, "ListAliases", ListAliasesRequest.class, (c, r) -> "*", this::listAliases),
                onKey("EnableKey", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.ask(keyId(arn),
                        replyTo -> new KeyEntity.SetEnabled(true, replyTo)).thenApply(k -> Map.of())),
                onKey("DisableKey", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.ask(keyId(arn),
                        replyTo -> new KeyEntity.SetEnabled(false, replyTo)).thenApply(k -> Map.of())),
                onKey("ScheduleKeyDeletion", ScheduleKeyDeletionRequest.class, ScheduleKeyDeletionRequest::keyId, this::scheduleDeletion)
                        .checkedBy(r -> pendingWindowDays(r)),
                onKey("CancelKeyDeletion", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.ask(keyId(arn),
                        KeyEntity.CancelDeletion::new).thenApply(k -> new KeyIdResponse(k.arn()))),
                onKey("EnableKeyRotation", EnableKeyRotationRequest.class, EnableKeyRotationRequest::keyId, this::enableRotation)
                        .checkedBy(r -> new Validation().range("rotationPeriodInDays", r.rotationPeriodInDays(), 90, 2560).check()),
                onKey("DisableKeyRotation", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.ask(keyId(arn),
                        replyTo -> new KeyEntity.SetRotation(false, 365, replyTo)).thenApply(k -> Map.of())),
                onKey("GetKeyRotationStatus", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.view(keyId(arn))
                        .thenApply(k -> new GetKeyRotationStatusResponse(k.rotationEnabled(), k.arn(),
                                k.rotationEnabled() ? k.rotationPeriodDays() : null,
                                k.rotationEnabled() ? Instant.ofEpochMilli(k.lastRotatedAtMillis()).plusSeconds(k.rotationPeriodDays() * 86_400L) : null,
                                null))),
                onKey("RotateKeyOnDemand", KeyIdRequest.class, KeyIdRequest::keyId, (c, r, arn) -> keys.ask(keyId(arn),
                        KeyEntity.RotateNow::new).thenApply(k -> new KeyIdResponse(k.arn()))),
                onKey("GenerateDataKey", GenerateDataKeyRequest.class, GenerateDataKeyRequest::keyId,
                        (c, r, arn) -> generateDataKey(r, arn, true)).checkedBy(KmsService::dataKeyBytes),
                onKey("GenerateDataKeyWithoutPlaintext", GenerateDataKeyRequest.class, GenerateDataKeyRequest::keyId,
                        (c, r, arn) -> generateDataKey(r, arn, false)).checkedBy(KmsService::dataKeyBytes),
                onKey("Encrypt", EncryptRequest.class, EncryptRequest::keyId, this::encrypt).checkedBy(KmsService::checkEncrypt),
                Operation.resolving(KMS, "Decrypt", DecryptRequest.class,
                                (c, r) -> keyOfBlob(r.ciphertextBlob(), r.keyId()), this::decrypt)
                        .checkedBy(r -> new Validation().required("ciphertextBlob", r.ciphertextBlob()).check()),
                Operation.resolving(KMS, "ReEncrypt", ReEncryptRequest.class,
                                (c, r) -> keyOfBlob(r.ciphertextBlob(), r.sourceKeyId()), this::reEncrypt)
                        .authorizedAs("kms:ReEncryptFrom")
                        .alsoRequires("kms:ReEncryptTo", (c, r) -> keyArn(r.destinationKeyId()))
                        .checkedBy(r -> new Validation().required("destinationKeyId", r.destinationKeyId())
                                .required("ciphertextBlob", r.ciphertextBlob()).check()));
    }

    /** An operation on one key, named in the request by id, ARN, alias name or alias ARN; authorized on the key's ARN. */
    private <Q> Operation<Q> onKey(String name, Class<Q> type, java.util.function.Function<Q, String> reference,
                                   Operation.Handler<Q> handler) {
        return Operation.resolving(KMS, name, type, (caller, request) -> keyArn(reference.apply(request)), handler);
    }

    private CompletionStage<String> keyArn(String reference) {
        new Validation().required("keyId", reference).length("keyId", reference, 1, 2048).check();
        return keys.keyIdOf(reference).thenApply(id -> KeyEntity.arn(settings, id));
    }

    private static String keyId(String keyArn) {
        return keyArn.substring(keyArn.lastIndexOf('/') + 1);
    }

    // ---- keys

    private CompletionStage<?> createKey(Caller caller, CreateKeyRequest r, String arn) {
        new Validation().length("description", r.description(), 0, 8192)
                .oneOf("keyUsage", r.keyUsage(), List.of("SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"))
                .check();
        if (r.keyUsage() != null && !r.keyUsage().equals("ENCRYPT_DECRYPT")) {
            throw AwsError.UnsupportedOperationException.exception("Sluice supports symmetric ENCRYPT_DECRYPT keys only.");
        }
        String spec = r.keySpec() != null ? r.keySpec() : r.customerMasterKeySpec();
        if (spec != null && !spec.equals("SYMMETRIC_DEFAULT")) {
            throw AwsError.UnsupportedOperationException.exception("Sluice supports KeySpec SYMMETRIC_DEFAULT only.");
        }
        if (r.origin() != null && !r.origin().equals("AWS_KMS")) {
            throw AwsError.UnsupportedOperationException.exception("Sluice supports Origin AWS_KMS only.");
        }
        String keyId = UUID.randomUUID().toString();
        return keys.ask(keyId, replyTo -> new KeyEntity.Create(r.description(), "CUSTOMER", false, replyTo))
                .thenCompose(view -> Futures.direct(KeyCatalog.ref(system, settings.accountId())
                        .<Done>askWithStatus(replyTo -> new KeyCatalog.AddKey(keyId, replyTo), settings.askTimeout()))
                        .thenApply(d -> metadata(view)));
    }

    private KeyMetadataResponse metadata(KeyEntity.KeyView k) {
        boolean pending = k.keyState().equals("PendingDeletion");
        return new KeyMetadataResponse(new KeyMetadata(settings.accountId(), k.keyId(), k.arn(),
                Instant.ofEpochMilli(k.createdAtMillis()), k.keyState().equals("Enabled"), k.description(),
                "ENCRYPT_DECRYPT", k.keyState(), pending ? Instant.ofEpochMilli(k.deletionDateMillis()) : null, "AWS_KMS",
                k.keyManager(), "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", List.of("SYMMETRIC_DEFAULT"), false,
                pending ? k.pendingWindowDays() : null));
    }

    private CompletionStage<?> listKeys(Caller caller, ListKeysRequest r, String arn) {
        new Validation().range("limit", r.limit(), 1, 1000).check();
        int limit = r.limit() == null ? 100 : r.limit();
        int start = marker(r.marker());
        return keys.catalog().thenApply(state -> {
            List<KeyListEntry> page = new ArrayList<>();
            for (int i = start; i < state.keys().size() && page.size() < limit; i++) {
                String id = state.keys().get(i);
                page.add(new KeyListEntry(id, KeyEntity.arn(settings, id)));
            }
            boolean truncated = start + page.size() < state.keys().size();
            return new ListKeysResponse(page, truncated ? Integer.toString(start + page.size()) : null, truncated);
        });
    }

    private static int marker(String marker) {
        if (marker == null) return 0;
        if (!marker.matches("\\d{1,9}")) throw AwsError.InvalidArgumentException.exception("Invalid marker");
        return Integer.parseInt(marker);
    }

    // ---- aliases

    private static void checkAlias(AliasRequest r) {
        new Validation().required("aliasName", r.aliasName()).length("aliasName", r.aliasName(), 1, 256)
                .required("targetKeyId", r.targetKeyId()).length("targetKeyId", r.targetKeyId(), 1, 2048).check();
        if (!ALIAS_NAME.matcher(r.aliasName()).matches()) {
            throw AwsError.InvalidAliasNameException.exception("Alias must start with the prefix \"alias/\". Please see "
                    + "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
        }
        if (r.aliasName().startsWith("alias/aws/")) {
            throw AwsError.InvalidAliasNameException.exception("Cannot create alias with prefix 'alias/aws/'");
        }
    }

    private CompletionStage<?> putAlias(AliasRequest r, String keyArn, boolean update) {
        return keys.view(keyId(keyArn)).thenCompose(key -> {
            if (key.keyManager().equals("AWS")) {
                throw AwsError.UnsupportedOperationException.exception("Aliases cannot point to AWS managed keys.");
            }
            return Futures.direct(KeyCatalog.ref(system, settings.accountId()).<Done>askWithStatus(
                    replyTo -> new KeyCatalog.PutAlias(r.aliasName(), key.keyId(), update, false, replyTo), settings.askTimeout()));
        }).thenApply(d -> Map.of());
    }

    private CompletionStage<?> deleteAlias(Caller caller, AliasRequest r, String aliasArn) {
        return Futures.direct(KeyCatalog.ref(system, settings.accountId())
                .<Done>askWithStatus(replyTo -> new KeyCatalog.DeleteAlias(r.aliasName(), replyTo), settings.askTimeout()))
                .thenApply(d -> Map.of());
    }

    private CompletionStage<?> listAliases(Caller caller, ListAliasesRequest r, String arn) {
        new Validation().range("limit", r.limit(), 1, 1000).check();
        int limit = r.limit() == null ? 100 : r.limit();
        int start = marker(r.marker());
        CompletionStage<String> only = r.keyId() == null ? CompletableFuture.completedFuture(null) : keys.keyIdOf(r.keyId());
        return only.thenCompose(keyId -> keys.catalog().thenApply(state -> {
            List<AliasListEntry> all = new ArrayList<>();
            state.aliases().forEach((name, a) -> {
                if (keyId == null || keyId.equals(a.keyId())) {
                    all.add(new AliasListEntry(name, keys.keyArnPrefix() + name, a.keyId(),
                            Instant.ofEpochMilli(a.createdAtMillis()), Instant.ofEpochMilli(a.updatedAtMillis())));
                }
            });
            List<AliasListEntry> page = all.subList(Math.min(start, all.size()), Math.min(start + limit, all.size()));
            boolean truncated = start + page.size() < all.size();
            return new ListAliasesResponse(List.copyOf(page), truncated ? Integer.toString(start + page.size()) : null, truncated);
        }));
    }

    // ---- lifecycle

    private static int pendingWindowDays(ScheduleKeyDeletionRequest r) {
        new Validation().range("pendingWindowInDays", r.pendingWindowInDays(), 1, 365).check();
        int days = r.pendingWindowInDays() == null ? 30 : r.pendingWindowInDays();
        if (days < 7 || days > 30) {
            throw AwsError.ValidationException.exception("PendingWindowInDays must be between 7 and 30 (" + days + " given).");
        }
        return days;
    }

    private CompletionStage<?> scheduleDeletion(Caller caller, ScheduleKeyDeletionRequest r, String keyArn) {
        int days = pendingWindowDays(r);
        return keys.ask(keyId(keyArn), replyTo -> new KeyEntity.ScheduleDeletion(days, replyTo))
                .thenApply(k -> new ScheduleKeyDeletionResponse(k.arn(), Instant.ofEpochMilli(k.deletionDateMillis()),
                        k.keyState(), k.pendingWindowDays()));
    }

    private CompletionStage<?> enableRotation(Caller caller, EnableKeyRotationRequest r, String keyArn) {
        int days = r.rotationPeriodInDays() == null ? 365 : r.rotationPeriodInDays();
        return keys.ask(keyId(keyArn), replyTo -> new KeyEntity.SetRotation(true, days, replyTo)).thenApply(k -> Map.of());
    }

    // ---- cryptography

    /** A key that may be used for cryptography now: Enabled, or the matching AWS error. */
    static KeyEntity.KeyView usable(KeyEntity.KeyView key) {
        if (key.keyState().equals("Disabled")) {
            throw AwsError.DisabledException.exception(key.arn() + " is disabled.");
        }
        if (key.keyState().equals("PendingDeletion")) {
            throw AwsError.KMSInvalidStateException.exception(key.arn() + " is pending deletion.");
        }
        return key;
    }

    /** The data key's length: NumberOfBytes or KeySpec, exactly one of them. */
    private static int dataKeyBytes(GenerateDataKeyRequest r) {
        new Validation().required("keyId", r.keyId()).range("numberOfBytes", r.numberOfBytes(), 1, 1024)
                .oneOf("keySpec", r.keySpec(), List.of("AES_256", "AES_128")).check();
        if (r.numberOfBytes() == null && r.keySpec() == null) {
            throw AwsError.ValidationException.exception("Please specify either number of bytes or key spec.");
        }
        if (r.numberOfBytes() != null && r.keySpec() != null) {
            throw AwsError.ValidationException.exception("Please specify either number of bytes or key spec, not both.");
        }
        return r.numberOfBytes() != null ? r.numberOfBytes() : r.keySpec().equals("AES_128") ? 16 : 32;
    }

    private CompletionStage<?> generateDataKey(GenerateDataKeyRequest r, String keyArn, boolean withPlaintext) {
        int n = dataKeyBytes(r);
        return keys.view(keyId(keyArn)).thenApply(key -> {
            byte[] plaintext = new byte[n];
            RANDOM.nextBytes(plaintext);
            byte[] blob = keys.seal(usable(key), plaintext, r.encryptionContext());
            return new GenerateDataKeyResponse(blob, withPlaintext ? plaintext : null, key.arn());
        });
    }

    private static void checkEncrypt(EncryptRequest r) {
        new Validation().required("keyId", r.keyId()).required("plaintext", r.plaintext())
                .bytes("plaintext", r.plaintext(), 4096).check();
        if (r.plaintext().length == 0) {
            throw AwsError.ValidationException.exception("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1");
        }
    }

    private CompletionStage<?> encrypt(Caller caller, EncryptRequest r, String keyArn) {
        return keys.view(keyId(keyArn)).thenApply(key ->
                new EncryptResponse(keys.seal(usable(key), r.plaintext(), r.encryptionContext()), key.arn(), "SYMMETRIC_DEFAULT"));
    }

    /** The ARN of the key a ciphertext blob names, which must be the expected key when the request names one. */
    private CompletionStage<String> keyOfBlob(byte[] blob, String expectedKey) {
        String keyId = KeyRing.keyIdOfBlob(blob);
        CompletionStage<String> expected = expectedKey == null ? CompletableFuture.completedFuture(keyId) : keys.keyIdOf(expectedKey);
        return expected.thenApply(id -> {
            if (!id.equals(keyId)) {
                throw AwsError.InvalidCiphertextException.exception("The ciphertext was not encrypted under the key " + expectedKey + ".");
            }
            return KeyEntity.arn(settings, keyId);
        });
    }

    private CompletionStage<?> decrypt(Caller caller, DecryptRequest r, String keyArn) {
        return keys.view(keyId(keyArn)).thenApply(key ->
                new DecryptResponse(key.arn(), keys.open(usable(key), r.ciphertextBlob(), r.encryptionContext()), "SYMMETRIC_DEFAULT"));
    }

    private CompletionStage<?> reEncrypt(Caller caller, ReEncryptRequest r, String sourceArn) {
        return keys.view(keyId(sourceArn)).thenCompose(source -> {
            byte[] plaintext = keys.open(usable(source), r.ciphertextBlob(), r.sourceEncryptionContext());
            return keyArn(r.destinationKeyId()).thenCompose(dest -> keys.view(keyId(dest))).thenApply(dest -> new ReEncryptResponse(
                    keys.seal(usable(dest), plaintext, r.destinationEncryptionContext()), source.arn(), dest.arn(),
                    "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT"));
        });
    }
}
