package io.sluice.node.kms;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.crypto.RootKey;
import io.sluice.protocol.AwsError;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One KMS key: metadata, state, rotation, and its key material versions, each wrapped by the node
 * root key (material never appears in an event or a reply in the clear). Rotation adds a version
 * and keeps the old ones so old ciphertexts still open. Once a scheduled deletion date has passed,
 * the first command that touches the key destroys its material: everything encrypted under it is
 * unreadable from then on (crypto-shredding).
 */
public final class KeyEntity
        extends EventSourcedBehaviorWithEnforcedReplies<KeyEntity.Command, KeyEntity.Event, KeyEntity.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Key");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long DAY_MILLIS = Duration.ofDays(1).toMillis();

    // ---- commands

    public sealed interface Command extends CborSerializable {}

    /** Create the key; {@code ifAbsent} makes it idempotent (the AWS-managed key is created on first use). */
    public record Create(String description, String keyManager, boolean ifAbsent, ActorRef<StatusReply<KeyView>> replyTo)
            implements Command {}

    public record Get(ActorRef<StatusReply<KeyView>> replyTo) implements Command {}

    public record SetEnabled(boolean enabled, ActorRef<StatusReply<KeyView>> replyTo) implements Command {}

    public record ScheduleDeletion(int pendingWindowDays, ActorRef<StatusReply<KeyView>> replyTo) implements Command {}

    public record CancelDeletion(ActorRef<StatusReply<KeyView>> replyTo) implements Command {}

    public record SetRotation(boolean enabled, int periodDays, ActorRef<StatusReply<KeyView>> replyTo) implements Command {}

    public record RotateNow(ActorRef<StatusReply<KeyView>> replyTo) implements Command {}

    // ---- events

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Created.class, name = "created"),
            @JsonSubTypes.Type(value = EnabledChanged.class, name = "enabled-changed"),
            @JsonSubTypes.Type(value = DeletionScheduled.class, name = "deletion-scheduled"),
            @JsonSubTypes.Type(value = DeletionCancelled.class, name = "deletion-cancelled"),
            @JsonSubTypes.Type(value = RotationChanged.class, name = "rotation-changed"),
            @JsonSubTypes.Type(value = Rotated.class, name = "rotated"),
            @JsonSubTypes.Type(value = MaterialDestroyed.class, name = "material-destroyed")})
    public sealed interface Event extends CborSerializable {}

    public record Created(long createdAtMillis, String description, String keyManager, byte[] wrappedMaterial) implements Event {}

    public record EnabledChanged(boolean enabled) implements Event {}

    public record DeletionScheduled(long deletionDateMillis, int pendingWindowDays) implements Event {}

    public record DeletionCancelled() implements Event {}

    public record RotationChanged(boolean enabled, int periodDays, long atMillis) implements Event {}

    public record Rotated(long atMillis, byte[] wrappedMaterial) implements Event {}

    public record MaterialDestroyed(long atMillis) implements Event {}

    // ---- state

    /**
     * A key as the front end sees it. {@code keyState} is Enabled, Disabled or PendingDeletion;
     * {@code wrappedVersions} holds the material of every version, wrapped by the root key.
     */
    public record KeyView(String keyId, String arn, String description, long createdAtMillis, String keyManager,
                          String keyState, long deletionDateMillis, int pendingWindowDays, boolean rotationEnabled,
                          int rotationPeriodDays, long lastRotatedAtMillis, List<byte[]> wrappedVersions)
            implements CborSerializable {
        public int currentVersion() {
            return wrappedVersions.size() - 1;
        }
    }

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Absent.class, name = "absent"),
            @JsonSubTypes.Type(value = Present.class, name = "present"),
            @JsonSubTypes.Type(value = Destroyed.class, name = "destroyed")})
    public sealed interface State extends CborSerializable {}

    public record Absent() implements State {}

    public record Present(KeyView key) implements State {}

    /** Deleted: the id is never reused and its material is gone. */
    public record Destroyed(String arn) implements State {}

    // ---- wiring

    public static void init(ActorSystem<?> system, NodeSettings settings, RootKey rootKey, Clock clock) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
                ctx -> create(ctx.getEntityId(), settings, rootKey, clock)));
    }

    public static Behavior<Command> create(String keyId, NodeSettings settings, RootKey rootKey, Clock clock) {
        return new KeyEntity(keyId, settings, rootKey, clock);
    }

    public static String arn(NodeSettings settings, String keyId) {
        return "arn:aws:kms:" + settings.region() + ":" + settings.accountId() + ":key/" + keyId;
    }

    /** The AAD that binds a wrapped material version to its key, so it cannot be passed off as another key's. */
    public static byte[] wrapContext(String arn, int version) {
        return (arn + "#" + version).getBytes(StandardCharsets.UTF_8);
    }

    private final String keyId;
    private final String arn;
    private final RootKey rootKey;
    private final Clock clock;

    private KeyEntity(String keyId, NodeSettings settings, RootKey rootKey, Clock clock) {
        super(PersistenceId.of(ENTITY_KEY.name(), keyId),
                Entities.RESTART);
        this.keyId = keyId;
        this.arn = arn(settings, keyId);
        this.rootKey = rootKey;
        this.clock = clock;
    }

    @Override
    public State emptyState() {
        return new Absent();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2);
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        var builder = newCommandHandlerWithReplyBuilder();
        builder.forStateType(Absent.class)
                .onCommand(Create.class, this::onCreate)
                .onAnyCommand((s, c) -> Effect().reply(replyTo(c), notFound()));
        builder.forStateType(Destroyed.class)
                .onAnyCommand((s, c) -> Effect().reply(replyTo(c), notFound()));
        builder.forStateType(Present.class)
                .onCommand(Create.class, (s, c) -> c.ifAbsent()
                        ? Effect().reply(c.replyTo(), StatusReply.success(s.key()))
                        : Effect().reply(c.replyTo(), StatusReply.error(AwsError.AlreadyExistsException.exception("Key " + arn + " already exists."))))
                .onAnyCommand(this::onPresent);
        return builder.build();
    }

    private static ActorRef<StatusReply<KeyView>> replyTo(Command c) {
        if (c instanceof Create x) return x.replyTo();
        if (c instanceof Get x) return x.replyTo();
        if (c instanceof SetEnabled x) return x.replyTo();
        if (c instanceof ScheduleDeletion x) return x.replyTo();
        if (c instanceof CancelDeletion x) return x.replyTo();
        if (c instanceof SetRotation x) return x.replyTo();
        return ((RotateNow) c).replyTo();
    }

    private ReplyEffect<Event, State> onCreate(Absent state, Create cmd) {
        byte[] material = new byte[32];
        RANDOM.nextBytes(material);
        Created created = new Created(clock.millis(), cmd.description() == null ? "" : cmd.description(),
                cmd.keyManager(), rootKey.wrap(material, wrapContext(arn, 0)));
        Arrays.fill(material, (byte) 0);
        return Effect().persist(created).thenReply(cmd.replyTo(), s -> StatusReply.success(((Present) s).key()));
    }

    /** Every command on a live key first settles what time alone decides: deletion and scheduled rotation. */
    private ReplyEffect<Event, State> onPresent(Present state, Command cmd) {
        KeyView key = state.key();
        long now = clock.millis();
        if (key.keyState().equals("PendingDeletion") && now >= key.deletionDateMillis()) {
            return Effect().persist(new MaterialDestroyed(now)).thenReply(replyTo(cmd), s -> notFound());
        }
        if (key.rotationEnabled() && key.keyState().equals("Enabled")
                && now - key.lastRotatedAtMillis() >= key.rotationPeriodDays() * DAY_MILLIS && !(cmd instanceof SetRotation)) {
            return Effect().persist(rotation(key, now)).thenReply(replyTo(cmd), KeyEntity::view);
        }
        if (cmd instanceof SetEnabled c) {
            if (key.keyState().equals("PendingDeletion")) return Effect().reply(c.replyTo(), pendingDeletion());
            return Effect().persist(new EnabledChanged(c.enabled())).thenReply(c.replyTo(), KeyEntity::view);
        }
        if (cmd instanceof ScheduleDeletion c) {
            if (key.keyManager().equals("AWS")) return Effect().reply(c.replyTo(), awsManaged());
            if (key.keyState().equals("PendingDeletion")) return Effect().reply(c.replyTo(), pendingDeletion());
            return Effect().persist(new DeletionScheduled(now + c.pendingWindowDays() * DAY_MILLIS, c.pendingWindowDays()))
                    .thenReply(c.replyTo(), KeyEntity::view);
        }
        if (cmd instanceof CancelDeletion c) {
            if (!key.keyState().equals("PendingDeletion")) {
                return Effect().reply(c.replyTo(), StatusReply.error(AwsError.KMSInvalidStateException.exception(arn + " is not pending deletion.")));
            }
            return Effect().persist(new DeletionCancelled()).thenReply(c.replyTo(), KeyEntity::view);
        }
        if (cmd instanceof SetRotation c) {
            if (key.keyManager().equals("AWS")) return Effect().reply(c.replyTo(), awsManaged());
            if (!key.keyState().equals("Enabled")) return Effect().reply(c.replyTo(), notEnabled(key));
            return Effect().persist(new RotationChanged(c.enabled(), c.periodDays(), now)).thenReply(c.replyTo(), KeyEntity::view);
        }
        if (cmd instanceof RotateNow c) {
            if (key.keyManager().equals("AWS")) return Effect().reply(c.replyTo(), awsManaged());
            if (!key.keyState().equals("Enabled")) return Effect().reply(c.replyTo(), notEnabled(key));
            return Effect().persist(rotation(key, now)).thenReply(c.replyTo(), KeyEntity::view);
        }
        // Get, and Create of an existing key with ifAbsent
        return Effect().reply(replyTo(cmd), StatusReply.success(key));
    }

    private static StatusReply<KeyView> view(State s) {
        return StatusReply.success(((Present) s).key());
    }

    private Rotated rotation(KeyView key, long now) {
        byte[] material = new byte[32];
        RANDOM.nextBytes(material);
        Rotated rotated = new Rotated(now, rootKey.wrap(material, wrapContext(arn, key.wrappedVersions().size())));
        Arrays.fill(material, (byte) 0);
        return rotated;
    }

    private <T> StatusReply<T> notFound() {
        return StatusReply.error(AwsError.NotFoundException.exception("Key '" + arn + "' does not exist"));
    }

    private <T> StatusReply<T> pendingDeletion() {
        return StatusReply.error(AwsError.KMSInvalidStateException.exception(arn + " is pending deletion."));
    }

    private <T> StatusReply<T> notEnabled(KeyView key) {
        return key.keyState().equals("PendingDeletion") ? pendingDeletion()
                : StatusReply.error(AwsError.DisabledException.exception(arn + " is disabled."));
    }

    private <T> StatusReply<T> awsManaged() {
        return StatusReply.error(AwsError.UnsupportedOperationException.exception(arn + " is an AWS managed key and cannot be changed."));
    }

    // ---- events (pure)

    @Override
    public EventHandler<State, Event> eventHandler() {
        var builder = newEventHandlerBuilder();
        builder.forStateType(Absent.class)
                .onEvent(Created.class, (s, e) -> new Present(new KeyView(keyId, arn, e.description(), e.createdAtMillis(),
                        e.keyManager(), "Enabled", 0, 0, e.keyManager().equals("AWS"), 365, e.createdAtMillis(),
                        List.of(e.wrappedMaterial()))));
        builder.forStateType(Present.class)
                .onEvent(EnabledChanged.class, (s, e) -> new Present(with(s.key(), e.enabled() ? "Enabled" : "Disabled", 0, 0)))
                .onEvent(DeletionScheduled.class, (s, e) -> new Present(with(s.key(), "PendingDeletion",
                        e.deletionDateMillis(), e.pendingWindowDays())))
                .onEvent(DeletionCancelled.class, (s, e) -> new Present(with(s.key(), "Disabled", 0, 0)))
                .onEvent(RotationChanged.class, (s, e) -> {
                    KeyView k = s.key();
                    return new Present(new KeyView(k.keyId(), k.arn(), k.description(), k.createdAtMillis(), k.keyManager(),
                            k.keyState(), k.deletionDateMillis(), k.pendingWindowDays(), e.enabled(), e.periodDays(),
                            e.enabled() && !k.rotationEnabled() ? e.atMillis() : k.lastRotatedAtMillis(), k.wrappedVersions()));
                })
                .onEvent(Rotated.class, (s, e) -> {
                    KeyView k = s.key();
                    List<byte[]> versions = new ArrayList<>(k.wrappedVersions());
                    versions.add(e.wrappedMaterial());
                    return new Present(new KeyView(k.keyId(), k.arn(), k.description(), k.createdAtMillis(), k.keyManager(),
                            k.keyState(), k.deletionDateMillis(), k.pendingWindowDays(), k.rotationEnabled(),
                            k.rotationPeriodDays(), e.atMillis(), List.copyOf(versions)));
                })
                .onEvent(MaterialDestroyed.class, (s, e) -> new Destroyed(s.key().arn()));
        return builder.build();
    }

    private static KeyView with(KeyView k, String state, long deletionDate, int window) {
        return new KeyView(k.keyId(), k.arn(), k.description(), k.createdAtMillis(), k.keyManager(), state, deletionDate,
                window, k.rotationEnabled(), k.rotationPeriodDays(), k.lastRotatedAtMillis(), k.wrappedVersions());
    }
}
