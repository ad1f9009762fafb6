package io.sluice.node.auth;

import io.sluice.node.runtime.Futures;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.crypto.RootKey;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Declarative identities for deployments: a JSON file ({@code sluice.iam.bootstrap-file}) of users
 * with access keys and inline policies, applied at start. Applying is additive and idempotent:
 * missing users, keys and policies are created, policies are replaced with the file's text; nothing
 * is deleted. Format:
 * <pre>{"Users": [{"UserName": "producer",
 *              "AccessKeys": [{"AccessKeyId": "AKIA...", "SecretAccessKey": "..."}],
 *              "Policies": {"produce": {"Version": "2012-10-17", "Statement": [...]}}}]}</pre>
 */
public final class IamBootstrap {
    private static final Logger log = LoggerFactory.getLogger(IamBootstrap.class);

    private IamBootstrap() {}

    public static CompletionStage<IdentityEntity.State> apply(ActorSystem<?> system, NodeSettings settings, RootKey rootKey,
                                                               Path file, Clock clock) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the IAM bootstrap file " + file, e);
        }
        var identities = IdentityEntity.ref(system, settings.accountId());
        CompletionStage<IdentityEntity.State> chain = Futures.direct(identities.askWithStatus(IdentityEntity.Read::new, settings.askTimeout()));
        for (JsonNode user : root.path("Users")) {
            String name = user.path("UserName").asText();
            if (name.isEmpty()) throw new IllegalStateException("IAM bootstrap: a user without UserName");
            chain = chain.thenCompose(state -> state.users().containsKey(name) ? CompletableFuture.completedFuture(state)
                    : Futures.direct(identities.<IdentityEntity.State>askWithStatus(r -> new IdentityEntity.CreateUser(name,
                            "AIDA" + UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString().replace("-", "")
                                    .substring(0, 17).toUpperCase(),
                            "arn:aws:iam::" + settings.accountId() + ":user/" + name, clock.millis(), r), settings.askTimeout())));
            for (JsonNode key : user.path("AccessKeys")) {
                String id = key.path("AccessKeyId").asText();
                String secret = key.path("SecretAccessKey").asText();
                if (id.isEmpty() || secret.isEmpty()) throw new IllegalStateException("IAM bootstrap: incomplete access key of " + name);
                chain = chain.thenCompose(state -> state.users().get(name).accessKeys().stream().anyMatch(k -> k.accessKeyId().equals(id))
                        ? CompletableFuture.completedFuture(state)
                        : Futures.direct(identities.<IdentityEntity.State>askWithStatus(r -> new IdentityEntity.AddAccessKey(name,
                                new IdentityEntity.AccessKey(id, rootKey.wrap(secret.getBytes(StandardCharsets.UTF_8),
                                        IdentityDirectory.secretContext(id)), "Active", clock.millis()), r), settings.askTimeout())));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = user.path("Policies").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> policy = it.next();
                String document = policy.getValue().toString();
                PolicyDocument.parse(document);
                chain = chain.thenCompose(state -> Futures.direct(identities.<IdentityEntity.State>askWithStatus(
                        r -> new IdentityEntity.PutPolicy(name, policy.getKey(), document, r), settings.askTimeout())));
            }
        }
        return chain.whenComplete((s, f) -> {
            if (f != null) log.error("Applying the IAM bootstrap file {} failed", file, f);
            else log.info("IAM bootstrap file {} applied ({} users)", file, root.path("Users").size());
        });
    }

}
