package io.sluice.node.kms;

import io.sluice.protocol.ApiException;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.crypto.CipherFailure;
import io.sluice.node.crypto.EnvelopeCipher;
import io.sluice.node.crypto.RootKey;
import io.sluice.protocol.AwsError;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A node's access to KMS keys: resolves the ways a key can be named (id, key ARN, alias name, alias
 * ARN), fetches key state from the KeyEntity (cached for one second on the data path, so a disabled
 * key is refused everywhere within that time), loads key material from the {@link KeyMaterialStore}
 * and unwraps it with the root key (before it hands out a view, so sealing never waits on
 * Cassandra), and seals and opens KMS ciphertext blobs.
 *
 * <p>Blob format: {@code 0x01 | key id (16 bytes) | material version (4) | nonce (12) | AES-GCM(data)},
 * with the header and the canonical encryption context as AAD, so a blob opened under a different
 * context, or with an altered header, fails as InvalidCiphertextException.
 *
 * <p>Every key command goes through {@link #ask}; one that may have changed the key is announced
 * on the {@link KeyChanged} topic, and every node's KeyRing drops its view and material of that
 * key when it hears of it.
 */
public final class KeyRing {
    public static final String KINESIS_MANAGED_ALIAS = "alias/aws/kinesis";
    private static final Pattern UUID_FORM = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final byte BLOB_VERSION = 1;
    private static final int HEADER = 1 + 16 + 4 + 12;

    private record Cached(KeyEntity.KeyView key, long expiresAtNanos) {}

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final RootKey rootKey;
    private final KeyMaterialStore store;
    private final EnvelopeCipher cipher = EnvelopeCipher.standard();
    private final ConcurrentHashMap<String, Cached> views = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, byte[]> materials = new ConcurrentHashMap<>();
    private final ActorRef<Topic.Command<KeyChanged>> changes;

    public KeyRing(ActorSystem<?> system, NodeSettings settings, RootKey rootKey, KeyMaterialStore store,
                   ActorRef<Topic.Command<KeyChanged>> changes) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.rootKey = rootKey;
        this.store = store;
        this.changes = changes;
        changes.tell(Topic.subscribe(system.systemActorOf(Behaviors.<KeyChanged>receiveMessage(c -> {
            forget(c.keyId());
            return Behaviors.same();
        }), "key-ring-changes", Props.empty())));
    }

    public String keyArnPrefix() {
        return "arn:aws:kms:" + settings.region() + ":" + settings.accountId() + ":";
    }

    /** The key id a reference names: a UUID, a key ARN, an alias name or an alias ARN. */
    public CompletionStage<String> keyIdOf(String reference) {
        String ref = reference.startsWith(keyArnPrefix()) ? reference.substring(keyArnPrefix().length()) : reference;
        if (ref.startsWith("key/")) ref = ref.substring(4);
        if (UUID_FORM.matcher(ref).matches()) {
            return CompletableFuture.completedFuture(ref);
        }
        if (!ref.startsWith("alias/")) {
            return CompletableFuture.failedFuture(AwsError.NotFoundException.exception("Invalid keyId '" + reference + "'"));
        }
        String alias = ref;
        CompletionStage<Done> ensured = alias.equals(KINESIS_MANAGED_ALIAS) ? ensureKinesisKey().thenApply(k -> Done.getInstance())
                : CompletableFuture.completedFuture(Done.getInstance());
        return ensured.thenCompose(d -> catalog()).thenApply(state -> {
            KeyCatalog.Alias a = state.aliases().get(alias);
            if (a == null) {
                throw AwsError.NotFoundException.exception("Alias " + keyArnPrefix() + alias + " is not found.");
            }
            return a.keyId();
        });
    }

    public CompletionStage<KeyCatalog.State> catalog() {
        return Futures.direct(KeyCatalog.ref(system, settings.accountId())
                .<KeyCatalog.State>ask(KeyCatalog.Read::new, settings.askTimeout()));
    }

    /** The AWS-managed key for Kinesis, created with its alias the first time anybody names it. */
    public CompletionStage<KeyEntity.KeyView> ensureKinesisKey() {
        String keyId = UUID.nameUUIDFromBytes(("aws/kinesis/" + settings.accountId()).getBytes(StandardCharsets.UTF_8)).toString();
        return ask(keyId, replyTo -> new KeyEntity.Create("Default key that protects my Kinesis data when no other key is defined",
                "AWS", true, replyTo))
                .thenCompose(view -> Futures.direct(KeyCatalog.ref(system, settings.accountId())
                        .<Done>askWithStatus(r -> new KeyCatalog.AddKey(keyId, r), settings.askTimeout()))
                        .thenCompose(d -> Futures.direct(KeyCatalog.ref(system, settings.accountId())
                                .<Done>askWithStatus(r -> new KeyCatalog.PutAlias(KINESIS_MANAGED_ALIAS, keyId, false, true, r),
                                        settings.askTimeout())))
                        .thenApply(d -> view));
    }

    /** Fresh key state, for the control plane. */
    public CompletionStage<KeyEntity.KeyView> view(String keyId) {
        return ask(keyId, KeyEntity.Get::new);
    }

    /** Key state at most a second old, for the data path. */
    public CompletionStage<KeyEntity.KeyView> cachedView(String keyId) {
        Cached c = views.get(keyId);
        if (c != null && c.expiresAtNanos() - System.nanoTime() > 0) {
            return CompletableFuture.completedFuture(c.key());
        }
        return view(keyId);
    }

    /**
     * Sends a command to the key. Any command but a read or a create may have changed the key, and
     * so may a read that finds it changed (time alone rotates or destroys a key, on whatever command
     * comes next): those are announced to every node, as is the key's refusal of a command, after
     * which this node, like every other, forgets what it knew of the key. A failure of any kind
     * makes this node forget.
     */
    public CompletionStage<KeyEntity.KeyView> ask(String keyId, Function<ActorRef<StatusReply<KeyEntity.KeyView>>, KeyEntity.Command> command) {
        // the command is built inside the ask; its reply cannot arrive before it was built
        AtomicReference<KeyEntity.Command> sent = new AtomicReference<>();
        return Futures.direct(sharding.entityRefFor(KeyEntity.ENTITY_KEY, keyId)
                .<KeyEntity.KeyView>askWithStatus(replyTo -> {
                    KeyEntity.Command c = command.apply(replyTo);
                    sent.set(c);
                    return c;
                }, settings.askTimeout()))
                .thenCompose(this::withMaterial)
                .whenComplete((view, failure) -> {
                    if (view != null) {
                        Cached before = views.put(keyId, new Cached(view, System.nanoTime() + settings.metadataCacheTtl().toNanos()));
                        if (mayHaveChanged(sent.get(), before, view)) {
                            changes.tell(Topic.publish(new KeyChanged(keyId)));
                        }
                    } else {
                        // gone or unreachable: forget what this node knew, including unwrapped material;
                        // only the key's own refusal (not found, say) is news for every node: a timeout while
                        // Cassandra is down is not, and announcing each one would flood the cluster
                        forget(keyId);
                        if (ApiException.of(failure).error().fault() == AwsError.Fault.CLIENT) {
                            changes.tell(Topic.publish(new KeyChanged(keyId)));
                        }
                    }
                });
    }

    /**
     * A create changes nothing anybody holds (a new key was never cached; creating an existing key
     * with ifAbsent, as every use of alias/aws/kinesis does, leaves it as it was), so announcing it
     * would only make every node drop good data keys.
     */
    private static boolean mayHaveChanged(KeyEntity.Command command, Cached before, KeyEntity.KeyView after) {
        if (command instanceof KeyEntity.Create) {
            return false;
        }
        if (command instanceof KeyEntity.Get) {
            return before != null && (!before.key().keyState().equals(after.keyState())
                    || before.key().currentVersion() != after.currentVersion());
        }
        return true;
    }

    /** Drops this node's view and unwrapped material of a key. */
    private void forget(String keyId) {
        views.remove(keyId);
        String arn = keyArnPrefix() + "key/" + keyId + "#";
        materials.keySet().removeIf(k -> k.startsWith(arn));
    }

    // ---- blobs

    /** Seals data under the key's current material version. */
    public byte[] seal(KeyEntity.KeyView key, byte[] plaintext, Map<String, String> context) {
        int version = key.currentVersion();
        UUID id = UUID.fromString(key.keyId());
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        header.put(BLOB_VERSION).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
                .putInt(version).put(EnvelopeCipher.newNonce());
        byte[] nonce = new byte[12];
        System.arraycopy(header.array(), HEADER - 12, nonce, 0, 12);
        byte[] sealed = cipher.seal(material(key, version), nonce, plaintext, aad(header.array(), context));
        byte[] blob = new byte[HEADER + sealed.length];
        System.arraycopy(header.array(), 0, blob, 0, HEADER);
        System.arraycopy(sealed, 0, blob, HEADER, sealed.length);
        return blob;
    }

    /** The key id a blob names, or InvalidCiphertextException when it is not a Sluice KMS blob. */
    public static String keyIdOfBlob(byte[] blob) {
        if (blob == null || blob.length < HEADER + 16 || blob[0] != BLOB_VERSION) {
            throw AwsError.InvalidCiphertextException.exception(null);
        }
        ByteBuffer in = ByteBuffer.wrap(blob, 1, 16);
        return new UUID(in.getLong(), in.getLong()).toString();
    }

    public byte[] open(KeyEntity.KeyView key, byte[] blob, Map<String, String> context) {
        keyIdOfBlob(blob);
        int version = ByteBuffer.wrap(blob, 17, 4).getInt();
        if (version < 0 || version > key.currentVersion()) {
            throw AwsError.InvalidCiphertextException.exception(null);
        }
        byte[] header = new byte[HEADER];
        System.arraycopy(blob, 0, header, 0, HEADER);
        byte[] nonce = new byte[12];
        System.arraycopy(blob, HEADER - 12, nonce, 0, 12);
        byte[] sealed = new byte[blob.length - HEADER];
        System.arraycopy(blob, HEADER, sealed, 0, sealed.length);
        try {
            return cipher.open(material(key, version), nonce, sealed, aad(header, context));
        } catch (CipherFailure e) {
            throw AwsError.InvalidCiphertextException.exception(null);
        }
    }

    /**
     * The view once this node holds the unwrapped material of each of its versions. Rows of versions
     * above the view's current one may be rewritten until their event is persisted, so only versions
     * the view knows are cached.
     */
    private CompletionStage<KeyEntity.KeyView> withMaterial(KeyEntity.KeyView key) {
        for (int v = 0; v <= key.currentVersion(); v++) {
            if (!materials.containsKey(materialId(key, v)) && key.loggedMaterial(v) == null) {
                return store.load(key.keyId()).thenApply(rows -> {
                    remember(key, rows);
                    return key;
                });
            }
        }
        return CompletableFuture.completedFuture(key);
    }

    private void remember(KeyEntity.KeyView key, Map<Integer, byte[]> rows) {
        for (int v = 0; v <= key.currentVersion(); v++) {
            byte[] wrapped = key.loggedMaterial(v) != null ? key.loggedMaterial(v) : rows.get(v);
            if (wrapped != null) {
                int version = v;
                materials.computeIfAbsent(materialId(key, v), k -> rootKey.unwrap(wrapped, KeyEntity.wrapContext(key.arn(), version)));
            }
        }
    }

    private byte[] material(KeyEntity.KeyView key, int version) {
        byte[] material = materials.get(materialId(key, version));
        if (material != null) {
            return material;
        }
        // forgotten since the view was handed out (the key changed on some node): load it again, here
        try {
            remember(key, store.load(key.keyId()).toCompletableFuture()
                    .get(settings.askTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AwsError.KMSInternalException.exception("Key material could not be loaded. Try again.");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw AwsError.KMSInternalException.exception("Key material could not be loaded. Try again.");
        }
        material = materials.get(materialId(key, version));
        if (material == null) {
            // destroyed meanwhile
            throw AwsError.NotFoundException.exception("Key '" + key.arn() + "' does not exist");
        }
        return material;
    }

    private static String materialId(KeyEntity.KeyView key, int version) {
        return key.arn() + "#" + version;
    }

    private static byte[] aad(byte[] header, Map<String, String> context) {
        StringBuilder sb = new StringBuilder();
        if (context != null) {
            new TreeMap<>(context).forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        }
        byte[] ctx = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] aad = new byte[header.length + ctx.length];
        System.arraycopy(header, 0, aad, 0, header.length);
        System.arraycopy(ctx, 0, aad, header.length, ctx.length);
        return aad;
    }
}
