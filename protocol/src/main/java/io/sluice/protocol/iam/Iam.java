package io.sluice.protocol.iam;

import java.time.Instant;
import java.util.List;

/**
 * Request and response shapes of the IAM operations Sluice serves (users, access keys, inline user
 * policies; iam 2010-05-08, the AWS Query protocol), named and ordered as in the AWS API model.
 * Fields are the model's members in camel case, absent ones null; the Query codec reads and writes
 * them in the model's Pascal case, in declaration order, and leaves out absent ones.
 */
public final class Iam {
    private Iam() {}

    // ---- shared structures

    public record Tag(String key, String value) {}

    public record AttachedPermissionsBoundary(String permissionsBoundaryType, String permissionsBoundaryArn) {}

    public record User(String path, String userName, String userId, String arn, Instant createDate,
                       Instant passwordLastUsed, AttachedPermissionsBoundary permissionsBoundary, List<Tag> tags) {
        /** A user as Sluice keeps one: path "/", no password, boundary or tags. */
        public static User of(String userName, String userId, String arn, Instant createDate) {
            return new User("/", userName, userId, arn, createDate, null, null, null);
        }
    }

    public record AccessKey(String userName, String accessKeyId, String status, String secretAccessKey, Instant createDate) {
        /** Without the secret, which only the CreateAccessKey answer may carry. */
        @Override
        public String toString() {
            return "AccessKey[userName=" + userName + ", accessKeyId=" + accessKeyId + ", status=" + status
                    + ", secretAccessKey=" + (secretAccessKey == null ? "null" : "<redacted>") + ", createDate=" + createDate + "]";
        }
    }

    public record AccessKeyMetadata(String userName, String accessKeyId, String status, Instant createDate) {}

    // ---- users

    public record CreateUserRequest(String path, String userName, String permissionsBoundary, List<Tag> tags) {}

    public record CreateUserResponse(User user) {}

    public record GetUserRequest(String userName) {}

    public record GetUserResponse(User user) {}

    public record ListUsersRequest(String pathPrefix, String marker, Integer maxItems) {}

    /**
     * IsTruncated comes before Users here, unlike the model, because Sluice has always answered in this
     * order; XML readers (botocore, the SDKs) find members by name, so either order reads the same.
     */
    public record ListUsersResponse(Boolean isTruncated, List<User> users, String marker) {}

    public record DeleteUserRequest(String userName) {}

    // ---- access keys

    public record CreateAccessKeyRequest(String userName) {}

    public record CreateAccessKeyResponse(AccessKey accessKey) {}

    public record DeleteAccessKeyRequest(String userName, String accessKeyId) {}

    public record UpdateAccessKeyRequest(String userName, String accessKeyId, String status) {}

    public record ListAccessKeysRequest(String userName, String marker, Integer maxItems) {}

    /** UserName is not in the model's shape, but in AWS's documented answer, and Sluice has always sent it. */
    public record ListAccessKeysResponse(String userName, List<AccessKeyMetadata> accessKeyMetadata, Boolean isTruncated,
                                         String marker) {}

    // ---- inline user policies

    public record PutUserPolicyRequest(String userName, String policyName, String policyDocument) {}

    public record GetUserPolicyRequest(String userName, String policyName) {}

    /** The document URL-encoded, as IAM answers it (the CLIs decode it). */
    public record GetUserPolicyResponse(String userName, String policyName, String policyDocument) {}

    public record DeleteUserPolicyRequest(String userName, String policyName) {}

    public record ListUserPoliciesRequest(String userName, String marker, Integer maxItems) {}

    public record ListUserPoliciesResponse(List<String> policyNames, Boolean isTruncated, String marker) {}
}
