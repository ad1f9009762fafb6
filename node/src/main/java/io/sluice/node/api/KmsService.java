package io.sluice.node.api;

import io.sluice.protocol.ApiException;
import io.sluice.node.kms.KeyCatalog;
import io.sluice.node.kms.KeyEntity;
import io.sluice.node.kms.KeyRing;
import io.sluice.node.Futures;
import io.sluice.node.NodeSettings;
import io.sluice.node.api.Operation;
import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.Caller;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kms.Kms.*;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

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
    private final Authorizer authorizer;

    public KmsService(ActorSystem<?> system, NodeSettings settings, KeyRing keys, Authorizer authorizer) {
        this.system = system;
        this.settings = settings;
        this.keys = keys;
        this.authorizer = authorizer;
    }

    public Map<String, Operation<?>> operations() {
        Map<String, Operation<?>> ops = new LinkedHashMap<>();
        ops.put("CreateKey", new Operation<>(CreateKeyRequest.class, this::createKey));
        ops.put("DescribeKey", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:DescribeKey", r.keyId(), null).thenApply(this::metadata)));
        ops.put("ListKeys", new Operation<>(ListKeysRequest.class, this::listKeys));
        ops.put("CreateAlias", new Operation<>(AliasRequest.class, (c, r) -> putAlias(c, r, false)));
        ops.put("UpdateAlias", new Operation<>(AliasRequest.class, (c, r) -> putAlias(c, r, true)));
        ops.put("DeleteAlias", new Operation<>(AliasRequest.class, this::deleteAlias));
        ops.put("ListAliases", new Operation<>(ListAliasesRequest.class, this::listAliases));
        ops.put("EnableKey", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:EnableKey", r.keyId(),
                replyTo -> new KeyEntity.SetEnabled(true, replyTo)).thenApply(k -> Map.of())));
        ops.put("DisableKey", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:DisableKey", r.keyId(),
                replyTo -> new KeyEntity.SetEnabled(false, replyTo)).thenApply(k -> Map.of())));
        ops.put("ScheduleKeyDeletion", new Operation<>(ScheduleKeyDeletionRequest.class, this::scheduleDeletion));
        ops.put("CancelKeyDeletion", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:CancelKeyDeletion", r.keyId(),
                KeyEntity.CancelDeletion::new).thenApply(k -> new KeyIdResponse(k.arn()))));
        ops.put("EnableKeyRotation", new Operation<>(EnableKeyRotationRequest.class, this::enableRotation));
        ops.put("DisableKeyRotation", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:DisableKeyRotation", r.keyId(),
                replyTo -> new KeyEntity.SetRotation(false, 365, replyTo)).thenApply(k -> Map.of())));
        ops.put("GetKeyRotationStatus", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:GetKeyRotationStatus", r.keyId(), null)
                .thenApply(k -> new GetKeyRotationStatusResponse(k.rotationEnabled(), k.arn(),
                        k.rotationEnabled() ? k.rotationPeriodDays() : null,
                        k.rotationEnabled() ? Instant.ofEpochMilli(k.lastRotatedAtMillis()).plusSeconds(k.rotationPeriodDays() * 86_400L) : null,
                        null))));
        ops.put("RotateKeyOnDemand", new Operation<>(KeyIdRequest.class, (c, r) -> keyCommand(c, "kms:RotateKeyOnDemand", r.keyId(),
                KeyEntity.RotateNow::new).thenApply(k -> new KeyIdResponse(k.arn()))));
        ops.put("GenerateDataKey", new Operation<>(GenerateDataKeyRequest.class, (c, r) -> generateDataKey(c, r, true)));
        ops.put("GenerateDataKeyWithoutPlaintext", new Operation<>(GenerateDataKeyRequest.class, (c, r) -> generateDataKey(c, r, false)));
        ops.put("Encrypt", new Operation<>(EncryptRequest.class, this::encrypt));
        ops.put("Decrypt", new Operation<>(DecryptRequest.class, this::decrypt));
        ops.put("ReEncrypt", new Operation<>(ReEncryptRequest.class, this::reEncrypt));
        return ops;
    }

    // ---- keys

    private CompletionStage<?> createKey(Caller caller, CreateKeyRequest r) {
        authorizer.require(caller, "kms:CreateKey", "*");
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
                        .thenApply(d -> metadata(view)))
                .exceptionally(f -> {
                    throw ApiException.of(f);
                });
    }

    private KeyMetadataResponse metadata(KeyEntity.KeyView k) {
        boolean pending = k.keyState().equals("PendingDeletion");
        return new KeyMetadataResponse(new KeyMetadata(settings.accountId(), k.keyId(), k.arn(),
                Instant.ofEpochMilli(k.createdAtMillis()), k.keyState().equals("Enabled"), k.description(),
                "ENCRYPT_DECRYPT", k.keyState(), pending ? Instant.ofEpochMilli(k.deletionDateMillis()) : null, "AWS_KMS",
                k.keyManager(), "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", List.of("SYMMETRIC_DEFAULT"), false,
                pending ? k.pendingWindowDays() : null));
    }

    /** Resolves the reference, then sends the command (or just reads the key when command is null). */
    private CompletionStage<KeyEntity.KeyView> keyCommand(Caller caller, String action, String reference,
            java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<org.apache.pekko.pattern.StatusReply<KeyEntity.KeyView>>, KeyEntity.Command> command) {
        new Validation().required("keyId", reference).length("keyId", reference, 1, 2048).check();
        return keys.keyIdOf(reference).thenCompose(id -> {
            authorizer.require(caller, action, KeyEntity.arn(settings, id));
            return command == null ? keys.view(id) : keys.ask(id, command);
        });
    }

    private CompletionStage<?> listKeys(Caller caller, ListKeysRequest r) {
        authorizer.require(caller, "kms:ListKeys", "*");
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

    private CompletionStage<?> putAlias(Caller caller, AliasRequest r, boolean update) {
        new Validation().required("aliasName", r.aliasName()).length("aliasName", r.aliasName(), 1, 256)
                .required("targetKeyId", r.targetKeyId()).length("targetKeyId", r.targetKeyId(), 1, 2048).check();
        if (!ALIAS_NAME.matcher(r.aliasName()).matches()) {
            throw AwsError.InvalidAliasNameException.exception("Alias must start with the prefix \"alias/\". Please see "
                    + "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
        }
        if (r.aliasName().startsWith("alias/aws/")) {
            throw AwsError.InvalidAliasNameException.exception("Cannot create alias with prefix 'alias/aws/'");
        }
        return keyCommand(caller, update ? "kms:UpdateAlias" : "kms:CreateAlias", r.targetKeyId(), null).thenCompose(key -> {
            if (key.keyManager().equals("AWS")) {
                throw AwsError.UnsupportedOperationException.exception("Aliases cannot point to AWS managed keys.");
            }
            return Futures.direct(KeyCatalog.ref(system, settings.accountId()).<Done>askWithStatus(
                    replyTo -> new KeyCatalog.PutAlias(r.aliasName(), key.keyId(), update, false, replyTo), settings.askTimeout()));
        }).handle((d, f) -> {
            if (f != null) throw ApiException.of(f);
            return Map.of();
        });
    }

    private CompletionStage<?> deleteAlias(Caller caller, AliasRequest r) {
        new Validation().required("aliasName", r.aliasName()).check();
        authorizer.require(caller, "kms:DeleteAlias", keys.keyArnPrefix() + r.aliasName());
        return Futures.direct(KeyCatalog.ref(system, settings.accountId())
                .<Done>askWithStatus(replyTo -> new KeyCatalog.DeleteAlias(r.aliasName(), replyTo), settings.askTimeout()))
                .handle((d, f) -> {
                    if (f != null) throw ApiException.of(f);
                    return Map.of();
                });
    }

    private CompletionStage<?> listAliases(Caller caller, ListAliasesRequest r) {
        authorizer.require(caller, "kms:ListAliases", "*");
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

    private CompletionStage<?> scheduleDeletion(Caller caller, ScheduleKeyDeletionRequest r) {
        new Validation().range("pendingWindowInDays", r.pendingWindowInDays(), 1, 365).check();
        int days = r.pendingWindowInDays() == null ? 30 : r.pendingWindowInDays();
        if (days < 7 || days > 30) {
            throw AwsError.ValidationException.exception("PendingWindowInDays must be between 7 and 30 (" + days + " given).");
        }
        return keyCommand(caller, "kms:ScheduleKeyDeletion", r.keyId(), replyTo -> new KeyEntity.ScheduleDeletion(days, replyTo))
                .thenApply(k -> new ScheduleKeyDeletionResponse(k.arn(), Instant.ofEpochMilli(k.deletionDateMillis()),
                        k.keyState(), k.pendingWindowDays()));
    }

    private CompletionStage<?> enableRotation(Caller caller, EnableKeyRotationRequest r) {
        new Validation().range("rotationPeriodInDays", r.rotationPeriodInDays(), 90, 2560).check();
        int days = r.rotationPeriodInDays() == null ? 365 : r.rotationPeriodInDays();
        return keyCommand(caller, "kms:EnableKeyRotation", r.keyId(), replyTo -> new KeyEntity.SetRotation(true, days, replyTo))
                .thenApply(k -> Map.of());
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

    private CompletionStage<?> generateDataKey(Caller caller, GenerateDataKeyRequest r, boolean withPlaintext) {
        new Validation().required("keyId", r.keyId()).range("numberOfBytes", r.numberOfBytes(), 1, 1024)
                .oneOf("keySpec", r.keySpec(), List.of("AES_256", "AES_128")).check();
        if (r.numberOfBytes() == null && r.keySpec() == null) {
            throw AwsError.ValidationException.exception("Please specify either number of bytes or key spec.");
        }
        if (r.numberOfBytes() != null && r.keySpec() != null) {
            throw AwsError.ValidationException.exception("Please specify either number of bytes or key spec, not both.");
        }
        int n = r.numberOfBytes() != null ? r.numberOfBytes() : r.keySpec().equals("AES_128") ? 16 : 32;
        return keyCommand(caller, withPlaintext ? "kms:GenerateDataKey" : "kms:GenerateDataKeyWithoutPlaintext", r.keyId(), null)
                .thenApply(key -> {
            byte[] plaintext = new byte[n];
            RANDOM.nextBytes(plaintext);
            byte[] blob = keys.seal(usable(key), plaintext, r.encryptionContext());
            return new GenerateDataKeyResponse(blob, withPlaintext ? plaintext : null, key.arn());
        });
    }

    private CompletionStage<?> encrypt(Caller caller, EncryptRequest r) {
        new Validation().required("keyId", r.keyId()).required("plaintext", r.plaintext())
                .bytes("plaintext", r.plaintext(), 4096).check();
        if (r.plaintext().length == 0) {
            throw AwsError.ValidationException.exception("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1");
        }
        return keyCommand(caller, "kms:Encrypt", r.keyId(), null).thenApply(key ->
                new EncryptResponse(keys.seal(usable(key), r.plaintext(), r.encryptionContext()), key.arn(), "SYMMETRIC_DEFAULT"));
    }

    private CompletionStage<KeyEntity.KeyView> keyOfBlob(Caller caller, String action, byte[] blob, String expectedKey) {
        new Validation().required("ciphertextBlob", blob).check();
        String keyId = KeyRing.keyIdOfBlob(blob);
        CompletionStage<String> expected = expectedKey == null ? CompletableFuture.completedFuture(keyId) : keys.keyIdOf(expectedKey);
        return expected.thenCompose(id -> {
            if (!id.equals(keyId)) {
                throw AwsError.InvalidCiphertextException.exception("The ciphertext was not encrypted under the key " + expectedKey + ".");
            }
            authorizer.require(caller, action, KeyEntity.arn(settings, keyId));
            return keys.view(keyId);
        }).exceptionally(f -> {
            throw ApiException.of(f);
        });
    }

    private CompletionStage<?> decrypt(Caller caller, DecryptRequest r) {
        return keyOfBlob(caller, "kms:Decrypt", r.ciphertextBlob(), r.keyId()).thenApply(key ->
                new DecryptResponse(key.arn(), keys.open(usable(key), r.ciphertextBlob(), r.encryptionContext()), "SYMMETRIC_DEFAULT"));
    }

    private CompletionStage<?> reEncrypt(Caller caller, ReEncryptRequest r) {
        new Validation().required("destinationKeyId", r.destinationKeyId()).check();
        return keyOfBlob(caller, "kms:ReEncryptFrom", r.ciphertextBlob(), r.sourceKeyId()).thenCompose(source -> {
            byte[] plaintext = keys.open(usable(source), r.ciphertextBlob(), r.sourceEncryptionContext());
            return keyCommand(caller, "kms:ReEncryptTo", r.destinationKeyId(), null).thenApply(dest -> new ReEncryptResponse(
                    keys.seal(usable(dest), plaintext, r.destinationEncryptionContext()), source.arn(), dest.arn(),
                    "SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT"));
        });
    }
}
