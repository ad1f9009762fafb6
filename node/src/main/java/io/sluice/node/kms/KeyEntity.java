package io.sluice.node.kms;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.JournalCleanup;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import java.util.concurrent.CompletionStage;
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
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
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
 * One KMS key: metadata, state, rotation, and which material versions it has. The material itself
 * never enters the event log: each version is generated here, wrapped by the node root key and
 * written to the {@link KeyMaterialStore} before the event that makes it exist is persisted (a
 * command that needs new material waits, stashed, for that write). Rotation adds a version and
 * keeps the old ones so old ciphertexts still open.
 *
 * <p>Once a scheduled deletion date has passed, the first command that touches the key (the
 * {@link KeyDeletionSweeper} sends one to every key regularly) destroys it: the material rows are
 * deleted, then the key's own events and snapshots, so nothing Sluice keeps can unwrap anything
 * ever encrypted under it (crypto-shredding). A crash in between is resumed on the next recovery.
 *
 * <p>Keys created before material left the log carry it, wrapped, in their {@code Created} and
 * {@code Rotated} events ({@link KeyView#wrappedVersions}); their destruction deletes those events.
 */
public final class KeyEntity
        extends EventSourcedBehaviorWithEnforcedReplies<KeyEntity.Command, KeyEntity.Event, KeyEntity.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Key");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long DAY_MILLIS = Duration.ofDays(1).toMillis();
    private static final Duration SHRED_RETRY = Duration.ofSeconds(5);
    private static final long MATERIAL_FAILURE_BACKOFF_NANOS = Duration.ofSeconds(1).toNanos();

    // ---- commands

    public sealed interface Command extends CborSerializable {}

    /** A command that answers with the key's view. */
    public sealed interface KeyCommand extends Command {
        ActorRef<StatusReply<KeyView>> replyTo();
    }

    /** Create the key; {@code ifAbsent} makes it idempotent (the AWS-managed key is created on first use). */
    public record Create(String description, String keyManager, boolean ifAbsent, ActorRef<StatusReply<KeyView>> replyTo)
            implements KeyCommand {}

    public record Get(ActorRef<StatusReply<KeyView>> replyTo) implements KeyCommand {}

    public record SetEnabled(boolean enabled, ActorRef<StatusReply<KeyView>> replyTo) implements KeyCommand {}

    public record ScheduleDeletion(int pendingWindowDays, ActorRef<StatusReply<KeyView>> replyTo) implements KeyCommand {}

    public record CancelDeletion(ActorRef<StatusReply<KeyView>> replyTo) implements KeyCommand {}

    public record SetRotation(boolean enabled, int periodDays, ActorRef<StatusReply<KeyView>> replyTo) implements KeyCommand {}

    public record RotateNow(ActorRef<StatusReply<KeyView>> replyTo) implements KeyCommand {}

    /** Internal: a material version was written to the store, or could not be ({@code failure} set). */
    private record MaterialStored(int version, String failure) implements Command {}

    /** Internal: the destroyed key's material and events were deleted, or not yet ({@code failure} set). */
    private record Shredded(String failure) implements Command {}

    private record ShredAgain() implements Command {}

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

    /** {@code wrappedMaterial} is null: only keys made by earlier versions of Sluice carry it here. */
    public record Created(long createdAtMillis, String description, String keyManager, byte[] wrappedMaterial) implements Event {}

    public record EnabledChanged(boolean enabled) implements Event {}

    public record DeletionScheduled(long deletionDateMillis, int pendingWindowDays) implements Event {}

    public record DeletionCancelled() implements Event {}

    public record RotationChanged(boolean enabled, int periodDays, long atMillis) implements Event {}

    /** {@code wrappedMaterial} is null, as in {@link Created}. */
    public record Rotated(long atMillis, byte[] wrappedMaterial) implements Event {}

    public record MaterialDestroyed(long atMillis) implements Event {}

    // ---- state

    /**
     * A key as the front end sees it. {@code keyState} is Enabled, Disabled or PendingDeletion;
     * {@code versions} is how many material versions it has (the current one is the last), kept in
     * the {@link KeyMaterialStore}; {@code wrappedVersions} holds, by version, the material that keys
     * of earlier Sluice versions kept in their events (empty for every key made since).
     */
    public record KeyView(String keyId, String arn, String description, long createdAtMillis, String keyManager,
                          String keyState, long deletionDateMillis, int pendingWindowDays, boolean rotationEnabled,
                          int rotationPeriodDays, long lastRotatedAtMillis, List<byte[]> wrappedVersions, int versions)
            implements CborSerializable {
        public KeyView {
            wrappedVersions = wrappedVersions == null ? List.of() : wrappedVersions;
            // a snapshot taken before versions was recorded has every version in wrappedVersions
            versions = Math.max(versions, wrappedVersions.size());
        }

        public int currentVersion() {
            return versions - 1;
        }

        /** The material of a version as kept in the event log by earlier Sluice versions, or null. */
        public byte[] loggedMaterial(int version) {
            return version < wrappedVersions.size() ? wrappedVersions.get(version) : null;
        }

        KeyView with(String state, long deletionDate, int window) {
            return new KeyView(keyId, arn, description, createdAtMillis, keyManager, state, deletionDate, window,
                    rotationEnabled, rotationPeriodDays, lastRotatedAtMillis, wrappedVersions, versions);
        }

        KeyView withRotation(boolean enabled, int periodDays, long lastRotatedAt) {
            return new KeyView(keyId, arn, description, createdAtMillis, keyManager, keyState, deletionDateMillis,
                    pendingWindowDays, enabled, periodDays, lastRotatedAt, wrappedVersions, versions);
        }

        KeyView rotated(Rotated e) {
            List<byte[]> logged = wrappedVersions;
            if (e.wrappedMaterial() != null) {
                logged = new ArrayList<>(wrappedVersions);
                logged.add(e.wrappedMaterial());
                logged = List.copyOf(logged);
            }
            return new KeyView(keyId, arn, description, createdAtMillis, keyManager, keyState, deletionDateMillis,
                    pendingWindowDays, rotationEnabled, rotationPeriodDays, e.atMillis(), logged, versions + 1);
        }

        @Override
        public String toString() {
            return "KeyView[" + arn + ", " + keyState + ", versions=" + versions + "]";
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

    /** Deleted: the id is never reused and its material is gone (or being deleted, after a crash). */
    public record Destroyed(String arn) implements State {}

    // ---- wiring

    /** Deletes every event and snapshot of a persistence id; the Cassandra plugin's cleanup in production. */
    @FunctionalInterface
    public interface JournalEraser {
        CompletionStage<Done> eraseAll(String persistenceId);

        static JournalEraser cassandra(ActorSystem<?> system) {
            return new JournalCleanup(system)::deleteAll;
        }
    }

    public static void init(ActorSystem<?> system, NodeSettings settings, RootKey rootKey, Clock clock,
                            KeyMaterialStore store) {
        JournalEraser eraser = JournalEraser.cassandra(system);
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
                ctx -> create(ctx.getEntityId(), settings, rootKey, clock, store, eraser)));
    }

    public static Behavior<Command> create(String keyId, NodeSettings settings, RootKey rootKey, Clock clock,
                                           KeyMaterialStore store, JournalEraser eraser) {
        return Behaviors.setup(ctx -> new KeyEntity(ctx, keyId, settings, rootKey, clock, store, eraser));
    }

    public static String arn(NodeSettings settings, String keyId) {
        return "arn:aws:kms:" + settings.region() + ":" + settings.accountId() + ":key/" + keyId;
    }

    /** The AAD that binds a wrapped material version to its key, so it cannot be passed off as another key's. */
    public static byte[] wrapContext(String arn, int version) {
        return (arn + "#" + version).getBytes(StandardCharsets.UTF_8);
    }

    private final ActorContext<Command> context;
    private final String keyId;
    private final String arn;
    private final RootKey rootKey;
    private final Clock clock;
    private final KeyMaterialStore store;
    private final JournalEraser eraser;
    // material written to the store for a version not yet in the log; not state: lost with the object,
    // when the next attempt writes the version again (no ciphertext can use a version before its event)
    private int preparedVersion = -1;
    private boolean preparing;
    private long materialFailedAtNanos;
    private boolean materialFailed;

    private KeyEntity(ActorContext<Command> context, String keyId, NodeSettings settings, RootKey rootKey, Clock clock,
                      KeyMaterialStore store, JournalEraser eraser) {
        super(PersistenceId.of(ENTITY_KEY.name(), keyId), Entities.RESTART);
        this.context = context;
        this.keyId = keyId;
        this.arn = arn(settings, keyId);
        this.rootKey = rootKey;
        this.clock = clock;
        this.store = store;
        this.eraser = eraser;
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
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
            preparing = false;
            if (state instanceof Destroyed) {
                shred();
            }
        }).build();
    }

    // ---- command handlers

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        var builder = newCommandHandlerWithReplyBuilder();
        builder.forAnyState()
                .onCommand(MaterialStored.class, this::onMaterialStored);
        builder.forStateType(Absent.class)
                .onCommand(Create.class, this::onCreate)
                .onCommand(KeyCommand.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onAnyCommand((s, c) -> Effect().noReply());
        builder.forStateType(Destroyed.class)
                .onCommand(KeyCommand.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Shredded.class, this::onShredded)
                .onCommand(ShredAgain.class, (s, c) -> {
                    shred();
                    return Effect().noReply();
                })
                .onAnyCommand((s, c) -> Effect().noReply());
        builder.forStateType(Present.class)
                .onCommand(Create.class, (s, c) -> settled(s, c, this::onCreateExisting))
                .onCommand(Get.class, (s, c) -> settled(s, c, (k, cmd, now) -> Decision.answer()))
                .onCommand(SetEnabled.class, (s, c) -> settled(s, c, this::onSetEnabled))
                .onCommand(ScheduleDeletion.class, (s, c) -> settled(s, c, this::onScheduleDeletion))
                .onCommand(CancelDeletion.class, (s, c) -> settled(s, c, this::onCancelDeletion))
                .onCommand(SetRotation.class, (s, c) -> settled(s, c, this::onSetRotation))
                .onCommand(RotateNow.class, (s, c) -> settled(s, c, this::onRotateNow))
                .onAnyCommand((s, c) -> Effect().noReply());
        return builder.build();
    }

    /** What a command does to a live key: refuse it, change the key by events, or answer with it as it is. */
    private record Decision(List<Event> events, StatusReply<KeyView> refusal, int needsMaterial) {
        static Decision answer() {
            return new Decision(List.of(), null, -1);
        }

        static Decision change(Event event) {
            return new Decision(List.of(event), null, -1);
        }

        static Decision refuse(StatusReply<KeyView> refusal) {
            return new Decision(List.of(), refusal, -1);
        }

        static Decision material(int version) {
            return new Decision(List.of(), null, version);
        }
    }

    @FunctionalInterface
    private interface Decider<C extends KeyCommand> {
        Decision decide(KeyView key, C command, long now);
    }

    private ReplyEffect<Event, State> onCreate(Absent state, Create cmd) {
        if (preparedVersion != 0) {
            return prepareMaterial(0, cmd);
        }
        Created created = new Created(clock.millis(), cmd.description() == null ? "" : cmd.description(),
                cmd.keyManager(), null);
        return Effect().persist(created).thenReply(cmd.replyTo(), KeyEntity::view);
    }

    /**
     * Every command on a live key first settles what time alone decides: a deletion date that has
     * passed destroys the key (and the command finds it gone), a rotation that is due happens, and
     * then the command is decided on the key as it is now, its events persisted with the rotation's.
     */
    private <C extends KeyCommand> ReplyEffect<Event, State> settled(Present state, C cmd, Decider<C> decider) {
        KeyView key = state.key();
        long now = clock.millis();
        if (key.keyState().equals("PendingDeletion") && now >= key.deletionDateMillis()) {
            return Effect().persist(new MaterialDestroyed(now)).thenRun(s -> shred()).thenReply(cmd.replyTo(), s -> notFound());
        }
        List<Event> events = new ArrayList<>(2);
        if (key.rotationEnabled() && key.keyState().equals("Enabled")
                && now - key.lastRotatedAtMillis() >= key.rotationPeriodDays() * DAY_MILLIS && !(cmd instanceof SetRotation)) {
            if (preparedVersion != key.versions()) {
                return prepareMaterial(key.versions(), cmd);
            }
            Rotated rotated = new Rotated(now, null);
            events.add(rotated);
            key = key.rotated(rotated);
        }
        Decision decision = decider.decide(key, cmd, now);
        if (decision.needsMaterial() >= 0) {
            if (!events.isEmpty()) {
                // the due rotation first; the command comes back for its own version
                context.getSelf().tell(cmd);
                return Effect().persist(events).thenNoReply();
            }
            return prepareMaterial(decision.needsMaterial(), cmd);
        }
        if (decision.refusal() != null) {
            return events.isEmpty() ? Effect().reply(cmd.replyTo(), decision.refusal())
                    : Effect().persist(events).thenReply(cmd.replyTo(), s -> decision.refusal());
        }
        events.addAll(decision.events());
        return events.isEmpty() ? Effect().reply(cmd.replyTo(), StatusReply.success(key))
                : Effect().persist(events).thenReply(cmd.replyTo(), KeyEntity::view);
    }

    private Decision onCreateExisting(KeyView key, Create cmd, long now) {
        return cmd.ifAbsent() ? Decision.answer()
                : Decision.refuse(StatusReply.error(AwsError.AlreadyExistsException.exception("Key " + arn + " already exists.")));
    }

    private Decision onSetEnabled(KeyView key, SetEnabled cmd, long now) {
        if (key.keyState().equals("PendingDeletion")) return Decision.refuse(pendingDeletion());
        return Decision.change(new EnabledChanged(cmd.enabled()));
    }

    private Decision onScheduleDeletion(KeyView key, ScheduleDeletion cmd, long now) {
        if (key.keyManager().equals("AWS")) return Decision.refuse(awsManaged());
        if (key.keyState().equals("PendingDeletion")) return Decision.refuse(pendingDeletion());
        return Decision.change(new DeletionScheduled(now + cmd.pendingWindowDays() * DAY_MILLIS, cmd.pendingWindowDays()));
    }

    private Decision onCancelDeletion(KeyView key, CancelDeletion cmd, long now) {
        if (!key.keyState().equals("PendingDeletion")) {
            return Decision.refuse(StatusReply.error(AwsError.KMSInvalidStateException.exception(arn + " is not pending deletion.")));
        }
        return Decision.change(new DeletionCancelled());
    }

    private Decision onSetRotation(KeyView key, SetRotation cmd, long now) {
        if (key.keyManager().equals("AWS")) return Decision.refuse(awsManaged());
        if (!key.keyState().equals("Enabled")) return Decision.refuse(notEnabled(key));
        return Decision.change(new RotationChanged(cmd.enabled(), cmd.periodDays(), now));
    }

    private Decision onRotateNow(KeyView key, RotateNow cmd, long now) {
        if (key.keyManager().equals("AWS")) return Decision.refuse(awsManaged());
        if (!key.keyState().equals("Enabled")) return Decision.refuse(notEnabled(key));
        if (preparedVersion != key.versions()) return Decision.material(key.versions());
        return Decision.change(new Rotated(now, null));
    }

    // ---- material

    /**
     * Writes new material for {@code version} to the store and holds {@code cmd} (and every command
     * after it) until the write is done; the command then runs again and finds its material ready.
     * Right after a failed write, commands that need material are refused with a retryable error
     * instead of piling up behind a store that is down.
     */
    private ReplyEffect<Event, State> prepareMaterial(int version, KeyCommand cmd) {
        if (!preparing) {
            if (materialFailed && System.nanoTime() - materialFailedAtNanos < MATERIAL_FAILURE_BACKOFF_NANOS) {
                return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.KMSInternalException.exception(
                        "Key material could not be stored. Try again.")));
            }
            preparing = true;
            byte[] material = new byte[32];
            RANDOM.nextBytes(material);
            byte[] wrapped = rootKey.wrap(material, wrapContext(arn, version));
            Arrays.fill(material, (byte) 0);
            context.pipeToSelf(store.put(keyId, version, wrapped),
                    (done, failure) -> new MaterialStored(version, failure == null ? null : failure.toString()));
        }
        return Effect().stash();
    }

    private ReplyEffect<Event, State> onMaterialStored(State state, MaterialStored msg) {
        preparing = false;
        if (msg.failure() == null) {
            preparedVersion = msg.version();
            materialFailed = false;
        } else {
            context.getLog().warn("Storing material version {} of {} failed: {}", msg.version(), arn, msg.failure());
            materialFailed = true;
            materialFailedAtNanos = System.nanoTime();
        }
        // the Java DSL types thenUnstashAll() as a plain Effect, but it is a builder that can still say "no reply"
        return ((EffectBuilder<Event, State>) Effect().none().thenUnstashAll()).thenNoReply();
    }

    // ---- destruction

    /** Deletes the material, then the key's events and snapshots; retried until both are done. */
    private void shred() {
        String pid = persistenceId().id();
        context.pipeToSelf(store.destroy(keyId).thenCompose(d -> eraser.eraseAll(pid)),
                (done, failure) -> new Shredded(failure == null ? null : failure.toString()));
    }

    private ReplyEffect<Event, State> onShredded(Destroyed state, Shredded msg) {
        if (msg.failure() != null) {
            context.getLog().warn("Deleting the material and events of destroyed key {} failed ({}); retrying",
                    arn, msg.failure());
            context.scheduleOnce(SHRED_RETRY, context.getSelf(), new ShredAgain());
        } else {
            context.getLog().info("Key {} destroyed: its material, events and snapshots are deleted", arn);
        }
        return Effect().noReply();
    }

    private static StatusReply<KeyView> view(State s) {
        return StatusReply.success(((Present) s).key());
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
                        e.wrappedMaterial() == null ? List.of() : List.of(e.wrappedMaterial()), 1)))
                // a destroyed key whose earlier events are already erased
                .onEvent(MaterialDestroyed.class, (s, e) -> new Destroyed(arn));
        builder.forStateType(Present.class)
                .onEvent(EnabledChanged.class, (s, e) -> new Present(s.key().with(e.enabled() ? "Enabled" : "Disabled", 0, 0)))
                .onEvent(DeletionScheduled.class, (s, e) -> new Present(s.key().with("PendingDeletion",
                        e.deletionDateMillis(), e.pendingWindowDays())))
                .onEvent(DeletionCancelled.class, (s, e) -> new Present(s.key().with("Disabled", 0, 0)))
                .onEvent(RotationChanged.class, (s, e) -> {
                    KeyView k = s.key();
                    return new Present(k.withRotation(e.enabled(), e.periodDays(),
                            e.enabled() && !k.rotationEnabled() ? e.atMillis() : k.lastRotatedAtMillis()));
                })
                .onEvent(Rotated.class, (s, e) -> new Present(s.key().rotated(e)))
                .onEvent(MaterialDestroyed.class, (s, e) -> new Destroyed(s.key().arn()));
        return builder.build();
    }
}
