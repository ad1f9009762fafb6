package io.sluice.node.auth;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.crypto.RootKey;
import org.apache.pekko.actor.typed.ActorSystem;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A node's copy of the account's identities, refreshed from the {@link IdentityEntity} every
 * second (and at once after a change made through this node), so that authentication and
 * authorization never wait for a remote ask. Secrets are unwrapped lazily and kept in memory only.
 */
public final class IdentityDirectory {
    private final RootKey rootKey;
    private final Supplier<CompletionStage<IdentityEntity.State>> read;
    private final AtomicReference<IdentityEntity.State> state = new AtomicReference<>(IdentityEntity.State.empty());
    private final ConcurrentHashMap<String, String> secrets = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, PolicyDocument> parsed = new ConcurrentHashMap<>();

    public IdentityDirectory(ActorSystem<?> system, NodeSettings settings, RootKey rootKey, Duration refresh) {
        this(rootKey, () -> Futures.direct(IdentityEntity.ref(system, settings.accountId())
                .<IdentityEntity.State>askWithStatus(IdentityEntity.Read::new, settings.askTimeout())));
        system.scheduler().scheduleWithFixedDelay(Duration.ZERO, refresh, this::refresh, system.executionContext());
    }

    /** A directory that reads the account's identities with {@code read}, only when {@link #refresh()} is called. */
    IdentityDirectory(RootKey rootKey, Supplier<CompletionStage<IdentityEntity.State>> read) {
        this.rootKey = rootKey;
        this.read = read;
    }

    public static byte[] secretContext(String accessKeyId) {
        return ("iam access key " + accessKeyId).getBytes(StandardCharsets.UTF_8);
    }

    /** Reads the identities again; completes with the state then in force (never older than before). */
    public CompletionStage<IdentityEntity.State> refresh() {
        return read.get().thenApply(this::update);
    }

    /**
     * Takes {@code s} unless the directory already holds a newer state: a slow read asked before a
     * change made through this node must not undo the change. Returns the state in force.
     */
    public IdentityEntity.State update(IdentityEntity.State s) {
        return state.accumulateAndGet(s, (held, offered) -> offered.isOlderThan(held) ? held : offered);
    }

    public IdentityEntity.State current() {
        return state.get();
    }

    /** The user owning an access key, and whether that key is active. */
    public record KeyOwner(IdentityEntity.User user, IdentityEntity.AccessKey key) {}

    public Optional<KeyOwner> owner(String accessKeyId) {
        for (IdentityEntity.User u : state.get().users().values()) {
            for (IdentityEntity.AccessKey k : u.accessKeys()) {
                if (k.accessKeyId().equals(accessKeyId)) return Optional.of(new KeyOwner(u, k));
            }
        }
        return Optional.empty();
    }

    /** The signing key of an Active access key; inactive and deleted keys are not found. */
    public Optional<SigV4Verifier.Key> activeKey(String accessKeyId) {
        return owner(accessKeyId).filter(o -> o.key().status().equals("Active")).map(o -> new SigV4Verifier.Key(
                secrets.computeIfAbsent(accessKeyId, id -> new String(rootKey.unwrap(o.key().wrappedSecret(),
                        secretContext(id)), StandardCharsets.UTF_8)),
                new Caller(accessKeyId, o.user().arn(), o.user().userName(), false)));
    }

    public List<PolicyDocument> policies(Caller caller) {
        IdentityEntity.User u = state.get().users().get(caller.name());
        if (u == null || !u.arn().equals(caller.arn())) return List.of();
        List<PolicyDocument> out = new ArrayList<>();
        for (Map.Entry<String, String> p : u.policies().entrySet()) {
            out.add(parsed.computeIfAbsent(p.getValue(), PolicyDocument::parse));
        }
        return out;
    }
}
