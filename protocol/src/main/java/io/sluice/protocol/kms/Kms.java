package io.sluice.protocol.kms;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Request and response shapes of the AWS KMS operations Sluice serves ({@code TrentService.*},
 * kms 2014-11-01), symmetric keys only. Same conventions as {@code Kinesis}.
 */
public final class Kms {
    private Kms() {}

    public record Tag(String tagKey, String tagValue) {}

    public record KeyMetadata(@JsonProperty("AWSAccountId") String awsAccountId, String keyId, String arn,
                              Instant creationDate, Boolean enabled, String description, String keyUsage,
                              String keyState, Instant deletionDate, String origin, String keyManager,
                              String customerMasterKeySpec, String keySpec, List<String> encryptionAlgorithms,
                              Boolean multiRegion, Integer pendingDeletionWindowInDays) {}

    public record CreateKeyRequest(String policy, String description, String keyUsage, String customerMasterKeySpec,
                                   String keySpec, String origin, List<Tag> tags, Boolean multiRegion) {}

    public record KeyMetadataResponse(KeyMetadata keyMetadata) {}

    public record KeyIdRequest(String keyId) {}

    public record KeyIdResponse(String keyId) {}

    public record ListKeysRequest(Integer limit, String marker) {}

    public record KeyListEntry(String keyId, String keyArn) {}

    public record ListKeysResponse(List<KeyListEntry> keys, String nextMarker, Boolean truncated) {}

    public record AliasRequest(String aliasName, String targetKeyId) {}

    public record ListAliasesRequest(String keyId, Integer limit, String marker) {}

    public record AliasListEntry(String aliasName, String aliasArn, String targetKeyId, Instant creationDate,
                                 Instant lastUpdatedDate) {}

    public record ListAliasesResponse(List<AliasListEntry> aliases, String nextMarker, Boolean truncated) {}

    public record ScheduleKeyDeletionRequest(String keyId, Integer pendingWindowInDays) {}

    public record ScheduleKeyDeletionResponse(String keyId, Instant deletionDate, String keyState,
                                              Integer pendingWindowInDays) {}

    public record EnableKeyRotationRequest(String keyId, Integer rotationPeriodInDays) {}

    public record GetKeyRotationStatusResponse(Boolean keyRotationEnabled, String keyId, Integer rotationPeriodInDays,
                                               Instant nextRotationDate, Instant onDemandRotationStartDate) {}

    public record GenerateDataKeyRequest(String keyId, Map<String, String> encryptionContext, Integer numberOfBytes,
                                         String keySpec, List<String> grantTokens, Boolean dryRun) {}

    public record GenerateDataKeyResponse(byte[] ciphertextBlob, byte[] plaintext, String keyId) {}

    public record EncryptRequest(String keyId, byte[] plaintext, Map<String, String> encryptionContext,
                                 List<String> grantTokens, String encryptionAlgorithm, Boolean dryRun) {}

    public record EncryptResponse(byte[] ciphertextBlob, String keyId, String encryptionAlgorithm) {}

    public record DecryptRequest(byte[] ciphertextBlob, Map<String, String> encryptionContext, List<String> grantTokens,
                                 String keyId, String encryptionAlgorithm, Boolean dryRun) {}

    public record DecryptResponse(String keyId, byte[] plaintext, String encryptionAlgorithm) {}

    public record ReEncryptRequest(byte[] ciphertextBlob, Map<String, String> sourceEncryptionContext,
                                   String sourceKeyId, String destinationKeyId,
                                   Map<String, String> destinationEncryptionContext,
                                   String sourceEncryptionAlgorithm, String destinationEncryptionAlgorithm,
                                   List<String> grantTokens, Boolean dryRun) {}

    public record ReEncryptResponse(byte[] ciphertextBlob, String sourceKeyId, String keyId,
                                    String sourceEncryptionAlgorithm, String destinationEncryptionAlgorithm) {}
}
