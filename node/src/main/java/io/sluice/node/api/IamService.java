package io.sluice.node.api;

import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.Caller;
import io.sluice.node.auth.IdentityDirectory;
import io.sluice.node.auth.IdentityEntity;
import io.sluice.node.auth.PolicyDocument;
import io.sluice.node.Futures;
import io.sluice.node.NodeSettings;
import io.sluice.node.crypto.RootKey;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.actor.typed.ActorSystem;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The IAM API subset for users, access keys and inline user policies, in the AWS Query protocol:
 * form-encoded {@code Action=...} requests, XML answers in the 2010-05-08 namespace, XML errors.
 */
public final class IamService {
    private static final String NS = "https://iam.amazonaws.com/doc/2010-05-08/";
    private static final Pattern USER_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern POLICY_NAME = Pattern.compile("[\\w+=,.@-]{1,128}");
    private static final String KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ActorSystem<?> system;
    private final NodeSettings settings;
    private final RootKey rootKey;
    private final IdentityDirectory directory;
    private final Authorizer authorizer;
    private final Clock clock;

    public IamService(ActorSystem<?> system, NodeSettings settings, RootKey rootKey, IdentityDirectory directory,
                      Authorizer authorizer, Clock clock) {
        this.system = system;
        this.settings = settings;
        this.rootKey = rootKey;
        this.directory = directory;
        this.authorizer = authorizer;
        this.clock = clock;
    }

    public static Map<String, String> form(byte[] body) {
        Map<String, String> out = new HashMap<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    /** Runs one action; the answer is the XML body of a 200 response. */
    public CompletionStage<String> handle(Caller caller, Map<String, String> p, String requestId) {
        String action = p.getOrDefault("Action", "");
        String user = p.get("UserName");
        return switch (action) {
            case "CreateUser" -> guarded(caller, action, required(p, "UserName"), () -> {
                validName(user);
                String userId = "AIDA" + random(17);
                return change(r -> new IdentityEntity.CreateUser(user, userId, userArn(user), clock.millis(), r))
                        .thenApply(s -> result(action, requestId, userXml(s.users().get(user))));
            });
            case "GetUser" -> {
                String name = user != null ? user : caller.root() ? null : caller.name();
                if (name == null) {
                    yield CompletableFuture.completedFuture(result(action, requestId, "<User><UserId>" + settings.accountId()
                            + "</UserId><Arn>" + caller.arn() + "</Arn><CreateDate>" + date(0) + "</CreateDate></User>"));
                }
                yield guarded(caller, action, name, () -> fresh().thenApply(s -> result(action, requestId,
                        userXml(existing(s, name)))));
            }
            case "ListUsers" -> guarded(caller, action, null, () -> fresh().thenApply(s -> {
                StringBuilder xml = new StringBuilder("<IsTruncated>false</IsTruncated><Users>");
                s.users().values().forEach(u -> xml.append("<member>").append(userXml(u), 6, userXml(u).length() - 7).append("</member>"));
                return result(action, requestId, xml.append("</Users>").toString());
            }));
            case "DeleteUser" -> guarded(caller, action, required(p, "UserName"),
                    () -> change(r -> new IdentityEntity.DeleteUser(user, r)).thenApply(s -> empty(action, requestId)));
            case "CreateAccessKey" -> {
                String owner = user != null ? user : caller.name();
                yield guarded(caller, action, owner, () -> {
                    String keyId = "AKIA" + random(16);
                    byte[] secretBytes = new byte[30];
                    RANDOM.nextBytes(secretBytes);
                    String secret = Base64.getEncoder().encodeToString(secretBytes);
                    long now = clock.millis();
                    IdentityEntity.AccessKey key = new IdentityEntity.AccessKey(keyId,
                            rootKey.wrap(secret.getBytes(StandardCharsets.UTF_8), IdentityDirectory.secretContext(keyId)), "Active", now);
                    return change(r -> new IdentityEntity.AddAccessKey(owner, key, r)).thenApply(s -> result(action, requestId,
                            "<AccessKey><UserName>" + xml(owner) + "</UserName><AccessKeyId>" + keyId
                                    + "</AccessKeyId><Status>Active</Status><SecretAccessKey>" + xml(secret)
                                    + "</SecretAccessKey><CreateDate>" + date(now) + "</CreateDate></AccessKey>"));
                });
            }
            case "DeleteAccessKey", "UpdateAccessKey" -> {
                String keyId = required(p, "AccessKeyId");
                String owner = user != null ? user : directory.owner(keyId).map(o -> o.user().userName()).orElse(caller.name());
                yield guarded(caller, action, owner, () -> {
                    if (action.equals("DeleteAccessKey")) {
                        return change(r -> new IdentityEntity.RemoveAccessKey(owner, keyId, r)).thenApply(s -> empty(action, requestId));
                    }
                    String status = required(p, "Status");
                    if (!status.equals("Active") && !status.equals("Inactive")) {
                        throw AwsError.ValidationError.exception("1 validation error detected: Value '" + status
                                + "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
                    }
                    return change(r -> new IdentityEntity.SetAccessKeyStatus(owner, keyId, status, r)).thenApply(s -> empty(action, requestId));
                });
            }
            case "ListAccessKeys" -> {
                String owner = user != null ? user : caller.name();
                yield guarded(caller, action, owner, () -> fresh().thenApply(s -> {
                    IdentityEntity.User u = existing(s, owner);
                    StringBuilder xml = new StringBuilder("<UserName>" + xml(owner) + "</UserName><AccessKeyMetadata>");
                    for (IdentityEntity.AccessKey k : u.accessKeys()) {
                        xml.append("<member><UserName>").append(xml(owner)).append("</UserName><AccessKeyId>").append(k.accessKeyId())
                                .append("</AccessKeyId><Status>").append(k.status()).append("</Status><CreateDate>")
                                .append(date(k.createdAtMillis())).append("</CreateDate></member>");
                    }
                    return result(action, requestId, xml.append("</AccessKeyMetadata><IsTruncated>false</IsTruncated>").toString());
                }));
            }
            case "PutUserPolicy" -> guarded(caller, action, required(p, "UserName"), () -> {
                String name = required(p, "PolicyName");
                String document = required(p, "PolicyDocument");
                if (!POLICY_NAME.matcher(name).matches()) {
                    throw AwsError.ValidationError.exception("The specified value for policyName is invalid.");
                }
                if (document.length() > 2048) {
                    throw AwsError.LimitExceeded.exception("Maximum policy size of 2048 bytes exceeded for user " + user);
                }
                try {
                    PolicyDocument.parse(document);
                } catch (PolicyDocument.MalformedPolicyDocumentException e) {
                    throw AwsError.MalformedPolicyDocument.exception(e.getMessage());
                }
                return change(r -> new IdentityEntity.PutPolicy(user, name, document, r)).thenApply(s -> empty(action, requestId));
            });
            case "GetUserPolicy" -> guarded(caller, action, required(p, "UserName"), () -> {
                String name = required(p, "PolicyName");
                return fresh().thenApply(s -> {
                    String doc = existing(s, user).policies().get(name);
                    if (doc == null) {
                        throw AwsError.NoSuchEntity.exception("The user policy with name " + name + " cannot be found.");
                    }
                    return result(action, requestId, "<UserName>" + xml(user) + "</UserName><PolicyName>" + xml(name)
                            + "</PolicyName><PolicyDocument>" + xml(URLEncoder.encode(doc, StandardCharsets.UTF_8).replace("+", "%20"))
                            + "</PolicyDocument>");
                });
            });
            case "DeleteUserPolicy" -> guarded(caller, action, required(p, "UserName"), () -> {
                String name = required(p, "PolicyName");
                return change(r -> new IdentityEntity.DeletePolicy(user, name, r)).thenApply(s -> empty(action, requestId));
            });
            case "ListUserPolicies" -> guarded(caller, action, required(p, "UserName"), () -> fresh().thenApply(s -> {
                StringBuilder xml = new StringBuilder("<PolicyNames>");
                existing(s, user).policies().keySet().forEach(n -> xml.append("<member>").append(xml(n)).append("</member>"));
                return result(action, requestId, xml.append("</PolicyNames><IsTruncated>false</IsTruncated>").toString());
            }));
            default -> throw AwsError.InvalidAction.exception("Could not find operation " + action + " for version "
                    + p.getOrDefault("Version", "NO_VERSION_SPECIFIED"));
        };
    }

    public static String errorXml(ApiException e, String requestId) {
        String type = e.error().status() >= 500 ? "Receiver" : "Sender";
        return "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>" + type + "</Type><Code>" + e.error().wireName()
                + "</Code><Message>" + xml(e.getMessage()) + "</Message></Error><RequestId>" + requestId
                + "</RequestId></ErrorResponse>";
    }

    private interface Body {
        CompletionStage<String> run();
    }

    private CompletionStage<String> guarded(Caller caller, String action, String userName, Body body) {
        authorizer.require(caller, "iam:" + action, userName == null ? "*" : userArn(userName), AwsError.AccessDenied);
        return body.run();
    }

    private CompletionStage<IdentityEntity.State> change(
            Function<org.apache.pekko.actor.typed.ActorRef<org.apache.pekko.pattern.StatusReply<IdentityEntity.State>>, IdentityEntity.Command> command) {
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

    private static IdentityEntity.User existing(IdentityEntity.State s, String name) {
        IdentityEntity.User u = s.users().get(name);
        if (u == null) throw AwsError.NoSuchEntity.exception("The user with name " + name + " cannot be found.");
        return u;
    }

    private static String required(Map<String, String> p, String name) {
        String v = p.get(name);
        if (v == null || v.isEmpty()) {
            throw AwsError.ValidationError.exception("1 validation error detected: Value null at '"
                    + Character.toLowerCase(name.charAt(0)) + name.substring(1) + "' failed to satisfy constraint: Member must not be null");
        }
        return v;
    }

    private static void validName(String user) {
        if (!USER_NAME.matcher(user).matches()) {
            throw AwsError.ValidationError.exception("The specified value for userName is invalid. It must contain only "
                    + "alphanumeric characters and/or the following: +=,.@_-");
        }
    }

    private String userArn(String userName) {
        return "arn:aws:iam::" + settings.accountId() + ":user/" + userName;
    }

    private static String userXml(IdentityEntity.User u) {
        return "<User><Path>/</Path><UserName>" + xml(u.userName()) + "</UserName><UserId>" + u.userId() + "</UserId><Arn>"
                + xml(u.arn()) + "</Arn><CreateDate>" + date(u.createdAtMillis()) + "</CreateDate></User>";
    }

    private static String result(String action, String requestId, String inner) {
        return "<" + action + "Response xmlns=\"" + NS + "\"><" + action + "Result>" + inner + "</" + action
                + "Result><ResponseMetadata><RequestId>" + requestId + "</RequestId></ResponseMetadata></" + action + "Response>";
    }

    private static String empty(String action, String requestId) {
        return "<" + action + "Response xmlns=\"" + NS + "\"><ResponseMetadata><RequestId>" + requestId
                + "</RequestId></ResponseMetadata></" + action + "Response>";
    }

    private static String date(long millis) {
        return Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    static String xml(String s) {
        if (s == null) return "";
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&apos;");
    }

    private static String random(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(KEY_CHARS.charAt(RANDOM.nextInt(KEY_CHARS.length())));
        return sb.toString();
    }
}
