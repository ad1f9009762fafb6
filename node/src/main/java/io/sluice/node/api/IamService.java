package io.sluice.node.api;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.auth.Caller;
import io.sluice.node.auth.IdentityDirectory;
import io.sluice.node.auth.IdentityEntity;
import io.sluice.node.auth.PolicyDocument;
import io.sluice.node.crypto.RootKey;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.iam.Iam.*;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.StatusReply;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;

import static io.sluice.node.api.Service.IAM;

/**
 * The IAM API subset for users, access keys and inline user policies ({@code iam:*}, served over
 * the AWS Query protocol). An operation without output answers null, which the Query codec writes
 * as a response without a Result element. Each operation's resource is the user it acts on: the
 * named one, else the caller itself (or, for an access key, the key's owner).
 */
public final class IamService {
    private static final Pattern USER_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern POLICY_NAME = Pattern.compile("[\\w+=,.@-]{1,128}");
    private static final String KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ActorSystem<?> system;
    private final NodeSettings settings;
    private final RootKey rootKey;
    private final IdentityDirectory directory;
    private final Clock clock;
    private final String userArnPrefix;

    public IamService(ActorSystem<?> system, NodeSettings settings, RootKey rootKey, IdentityDirectory directory, Clock clock) {
        this.system = system;
        this.settings = settings;
        this.rootKey = rootKey;
        this.directory = directory;
        this.clock = clock;
        this.userArnPrefix = "arn:aws:iam::" + settings.accountId() + ":user/";
    }

    public List<Operation<?>> operations() {
        return List.of(
                Operation.of(IAM, "CreateUser", CreateUserRequest.class, (c, r) -> userArn(r.userName()), this::createUser)
                        .checkedBy(r -> required("userName", r.userName())),
                // the root asking about itself is answered from the caller ("*": the root may do everything)
                Operation.of(IAM, "GetUser", GetUserRequest.class,
                        (c, r) -> r.userName() == null && c.root() ? "*" : userArn(orCaller(c, r.userName())), this::getUser),
                Operation.of(IAM, "ListUsers", ListUsersRequest.class, (c, r) -> "*", this::listUsers),
                Operation.of(IAM, "DeleteUser", DeleteUserRequest.class, (c, r) -> userArn(r.userName()),
                                (c, r, arn) -> noOutput(change(replyTo -> new IdentityEntity.DeleteUser(r.userName(), replyTo))))
                        .checkedBy(r -> required("userName", r.userName())),
                Operation.of(IAM, "CreateAccessKey", CreateAccessKeyRequest.class,
                        (c, r) -> userArn(orCaller(c, r.userName())), this::createAccessKey),
                Operation.of(IAM, "DeleteAccessKey", DeleteAccessKeyRequest.class,
                                (c, r) -> userArn(keyOwner(c, r.userName(), r.accessKeyId())),
                                (c, r, arn) -> noOutput(change(replyTo ->
                                        new IdentityEntity.RemoveAccessKey(userName(arn), r.accessKeyId(), replyTo))))
                        .checkedBy(r -> required("accessKeyId", r.accessKeyId())),
                Operation.of(IAM, "UpdateAccessKey", UpdateAccessKeyRequest.class,
                                (c, r) -> userArn(keyOwner(c, r.userName(), r.accessKeyId())), this::updateAccessKey)
                        .checkedBy(r -> required("accessKeyId", r.accessKeyId())),
                Operation.of(IAM, "ListAccessKeys", ListAccessKeysRequest.class,
                        (c, r) -> userArn(orCaller(c, r.userName())), this::listAccessKeys),
                Operation.of(IAM, "PutUserPolicy", PutUserPolicyRequest.class, (c, r) -> userArn(r.userName()), this::putUserPolicy)
                        .checkedBy(r -> required("userName", r.userName())),
                Operation.of(IAM, "GetUserPolicy", GetUserPolicyRequest.class, (c, r) -> userArn(r.userName()), this::getUserPolicy)
                        .checkedBy(r -> required("userName", r.userName())),
                Operation.of(IAM, "DeleteUserPolicy", DeleteUserPolicyRequest.class, (c, r) -> userArn(r.userName()),
                                this::deleteUserPolicy)
                        .checkedBy(r -> required("userName", r.userName())),
                Operation.of(IAM, "ListUserPolicies", ListUserPoliciesRequest.class, (c, r) -> userArn(r.userName()),
                                (c, r, arn) -> fresh().thenApply(s -> new ListUserPoliciesResponse(
                                        List.copyOf(existing(s, r.userName()).policies().keySet()), false, null)))
                        .checkedBy(r -> required("userName", r.userName())));
    }

    // ---- users

    private CompletionStage<?> createUser(Caller caller, CreateUserRequest r, String arn) {
        String name = r.userName();
        if (!USER_NAME.matcher(name).matches()) {
            throw AwsError.ValidationError.exception("The specified value for userName is invalid. It must contain only "
                    + "alphanumeric characters and/or the following: +=,.@_-");
        }
        String userId = "AIDA" + random(17);
        return change(replyTo -> new IdentityEntity.CreateUser(name, userId, arn, clock.millis(), replyTo))
                .thenApply(s -> new CreateUserResponse(user(s.users().get(name))));
    }

    private CompletionStage<?> getUser(Caller caller, GetUserRequest r, String arn) {
        if (arn.equals("*")) {
            return CompletableFuture.completedFuture(new GetUserResponse(
                    new User(null, null, settings.accountId(), caller.arn(), Instant.EPOCH, null, null, null)));
        }
        return fresh().thenApply(s -> new GetUserResponse(user(existing(s, userName(arn)))));
    }

    private CompletionStage<?> listUsers(Caller caller, ListUsersRequest r, String arn) {
        return fresh().thenApply(s -> new ListUsersResponse(false, s.users().values().stream().map(IamService::user).toList(), null));
    }

    private static User user(IdentityEntity.User u) {
        return User.of(u.userName(), u.userId(), u.arn(), Instant.ofEpochMilli(u.createdAtMillis()));
    }

    // ---- access keys

    private CompletionStage<?> createAccessKey(Caller caller, CreateAccessKeyRequest r, String arn) {
        String owner = userName(arn);
        String keyId = "AKIA" + random(16);
        byte[] secretBytes = new byte[30];
        RANDOM.nextBytes(secretBytes);
        String secret = Base64.getEncoder().encodeToString(secretBytes);
        long now = clock.millis();
        IdentityEntity.AccessKey key = new IdentityEntity.AccessKey(keyId,
                rootKey.wrap(secret.getBytes(StandardCharsets.UTF_8), IdentityDirectory.secretContext(keyId)), "Active", now);
        return change(replyTo -> new IdentityEntity.AddAccessKey(owner, key, replyTo)).thenApply(s -> new CreateAccessKeyResponse(
                new AccessKey(owner, keyId, "Active", secret, Instant.ofEpochMilli(now))));
    }

    private CompletionStage<?> updateAccessKey(Caller caller, UpdateAccessKeyRequest r, String arn) {
        String status = required("status", r.status());
        if (!status.equals("Active") && !status.equals("Inactive")) {
            throw AwsError.ValidationError.exception("1 validation error detected: Value '" + status
                    + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
        }
        return noOutput(change(replyTo -> new IdentityEntity.SetAccessKeyStatus(userName(arn), r.accessKeyId(), status, replyTo)));
    }

    private CompletionStage<?> listAccessKeys(Caller caller, ListAccessKeysRequest r, String arn) {
        String owner = userName(arn);
        return fresh().thenApply(s -> new ListAccessKeysResponse(owner, existing(s, owner).accessKeys().stream()
                .map(k -> new AccessKeyMetadata(owner, k.accessKeyId(), k.status(), Instant.ofEpochMilli(k.createdAtMillis())))
                .toList(), false, null));
    }

    /** The named user, else the owner of the key, else the caller (whose own key it then is not, which the entity answers). */
    private String keyOwner(Caller caller, String userName, String accessKeyId) {
        return userName != null ? userName
                : directory.owner(accessKeyId).map(o -> o.user().userName()).orElse(caller.name());
    }

    // ---- inline user policies

    private CompletionStage<?> putUserPolicy(Caller caller, PutUserPolicyRequest r, String arn) {
        String name = required("policyName", r.policyName());
        String document = required("policyDocument", r.policyDocument());
        if (!POLICY_NAME.matcher(name).matches()) {
            throw AwsError.ValidationError.exception("The specified value for policyName is invalid.");
        }
        if (document.length() > 2048) {
            throw AwsError.LimitExceeded.exception("Maximum policy size of 2048 bytes exceeded for user " + r.userName());
        }
        try {
            PolicyDocument.parse(document);
        } catch (PolicyDocument.MalformedPolicyDocumentException e) {
            throw AwsError.MalformedPolicyDocument.exception(e.getMessage());
        }
        return noOutput(change(replyTo -> new IdentityEntity.PutPolicy(r.userName(), name, document, replyTo)));
    }

    private CompletionStage<?> getUserPolicy(Caller caller, GetUserPolicyRequest r, String arn) {
        String name = required("policyName", r.policyName());
        return fresh().thenApply(s -> {
            String document = existing(s, r.userName()).policies().get(name);
            if (document == null) {
                throw AwsError.NoSuchEntity.exception("The user policy with name " + name + " cannot be found.");
            }
            // IAM answers policy documents URL-encoded; the CLIs decode them
            return new GetUserPolicyResponse(r.userName(), name,
                    URLEncoder.encode(document, StandardCharsets.UTF_8).replace("+", "%20"));
        });
    }

    private CompletionStage<?> deleteUserPolicy(Caller caller, DeleteUserPolicyRequest r, String arn) {
        String name = required("policyName", r.policyName());
        return noOutput(change(replyTo -> new IdentityEntity.DeletePolicy(r.userName(), name, replyTo)));
    }

    // ---- the identity entity

    private CompletionStage<IdentityEntity.State> change(
            Function<ActorRef<StatusReply<IdentityEntity.State>>, IdentityEntity.Command> command) {
        return Futures.direct(IdentityEntity.ref(system, settings.accountId())
                        .<IdentityEntity.State>askWithStatus(command::apply, settings.askTimeout()))
                .whenComplete((s, f) -> {
                    if (s != null) directory.update(s);
                })
                .exceptionally(f -> {
                    throw ApiException.of(f);
                });
    }

    private CompletionStage<IdentityEntity.State> fresh() {
        return directory.refresh().exceptionally(f -> {
            throw ApiException.of(f);
        });
    }

    private static CompletionStage<?> noOutput(CompletionStage<?> done) {
        return done.thenApply(s -> null);
    }

    private static IdentityEntity.User existing(IdentityEntity.State s, String name) {
        IdentityEntity.User u = s.users().get(name);
        if (u == null) throw AwsError.NoSuchEntity.exception("The user with name " + name + " cannot be found.");
        return u;
    }

    // ---- names

    /** IAM's words for a missing (or empty) member, one at a time, as IAM reports them. */
    private static String required(String member, String value) {
        if (value == null || value.isEmpty()) {
            throw AwsError.ValidationError.exception("1 validation error detected: Value null at '" + member
                    + "' failed to satisfy constraint: Member must not be null");
        }
        return value;
    }

    private static String orCaller(Caller caller, String userName) {
        return userName != null ? userName : caller.name();
    }

    private String userArn(String userName) {
        return userArnPrefix + userName;
    }

    /** The user a resource ARN names (the whole rest of the ARN, so a name with a slash stays whole). */
    private String userName(String userArn) {
        return userArn.substring(userArnPrefix.length());
    }

    private static String random(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(KEY_CHARS.charAt(RANDOM.nextInt(KEY_CHARS.length())));
        return sb.toString();
    }
}
