package io.sluice.node.auth;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.node.runtime.Redaction;
import io.sluice.protocol.AwsError;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The IAM users of one account: their access keys (secrets wrapped by the node root key, never
 * stored in the clear) and inline policies. Every node keeps a copy through its
 * {@link IdentityDirectory}; a change is in force everywhere within the directory's refresh period.
 */
public final class IdentityEntity
        extends EventSourcedBehaviorWithEnforcedReplies<IdentityEntity.Command, IdentityEntity.Event, IdentityEntity.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Identities");
    public static final int MAX_ACCESS_KEYS = 2;

    // ---- model

    public record AccessKey(String accessKeyId, byte[] wrappedSecret, String status, long createdAtMillis)
            implements CborSerializable {
        @Override
        public String toString() {
            return Redaction.toString(this, "wrappedSecret");
        }
    }

    public record User(String userName, String userId, String arn, long createdAtMillis,
                       SortedMap<String, String> policies, List<AccessKey> accessKeys) implements CborSerializable {}

    /**
     * The account's users, and the number of events applied so far: a node's directory keeps the
     * state with the highest revision, so a read answered before a change never replaces the state
     * after it. Snapshots written before the revision existed read as 0 and count on from there.
     */
    public record State(SortedMap<String, User> users, long revision) implements CborSerializable {
        public static State empty() {
            return new State(Collections.unmodifiableSortedMap(new TreeMap<>()), 0);
        }

        public boolean isOlderThan(State other) {
            return revision < other.revision;
        }

        State next(SortedMap<String, User> changed) {
            return new State(Collections.unmodifiableSortedMap(changed), revision + 1);
        }
    }

    // ---- commands: all answer with the account's identities after the change

    public sealed interface Command extends CborSerializable {}

    public record CreateUser(String userName, String userId, String arn, long nowMillis,
                             ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record DeleteUser(String userName, ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record AddAccessKey(String userName, AccessKey key, ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record RemoveAccessKey(String userName, String accessKeyId, ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record SetAccessKeyStatus(String userName, String accessKeyId, String status,
                                     ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record PutPolicy(String userName, String policyName, String document,
                            ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record DeletePolicy(String userName, String policyName, ActorRef<StatusReply<State>> replyTo) implements Command {}

    public record Read(ActorRef<StatusReply<State>> replyTo) implements Command {}

    // ---- events

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = UserCreated.class, name = "user-created"),
            @JsonSubTypes.Type(value = UserDeleted.class, name = "user-deleted"),
            @JsonSubTypes.Type(value = AccessKeyAdded.class, name = "access-key-added"),
            @JsonSubTypes.Type(value = AccessKeyRemoved.class, name = "access-key-removed"),
            @JsonSubTypes.Type(value = AccessKeyStatusSet.class, name = "access-key-status-set"),
            @JsonSubTypes.Type(value = PolicyPut.class, name = "policy-put"),
            @JsonSubTypes.Type(value = PolicyDeleted.class, name = "policy-deleted")})
    public sealed interface Event extends CborSerializable {}

    public record UserCreated(String userName, String userId, String arn, long createdAtMillis) implements Event {}

    public record UserDeleted(String userName) implements Event {}

    public record AccessKeyAdded(String userName, AccessKey key) implements Event {}

    public record AccessKeyRemoved(String userName, String accessKeyId) implements Event {}

    public record AccessKeyStatusSet(String userName, String accessKeyId, String status) implements Event {}

    public record PolicyPut(String userName, String policyName, String document) implements Event {}

    public record PolicyDeleted(String userName, String policyName) implements Event {}

    // ---- wiring

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())));
    }

    public static EntityRef<Command> ref(ActorSystem<?> system, String accountId) {
        return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, accountId);
    }

    public static Behavior<Command> create(String accountId) {
        return new IdentityEntity(accountId);
    }

    private IdentityEntity(String accountId) {
        super(PersistenceId.of(ENTITY_KEY.name(), accountId),
                Entities.RESTART);
    }

    @Override
    public State emptyState() {
        return State.empty();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2).withDeleteEventsOnSnapshot();
    }

    // ---- command handlers

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(CreateUser.class, (s, c) -> s.users().containsKey(c.userName())
                        ? Effect().reply(c.replyTo(), StatusReply.error(AwsError.EntityAlreadyExists.exception("User with name " + c.userName() + " already exists.")))
                        : persist(new UserCreated(c.userName(), c.userId(), c.arn(), c.nowMillis()), c.replyTo()))
                .onCommand(DeleteUser.class, this::onDeleteUser)
                .onCommand(AddAccessKey.class, (s, c) -> withUser(s, c.userName(), c.replyTo(), u ->
                        u.accessKeys().size() >= MAX_ACCESS_KEYS
                                ? Effect().reply(c.replyTo(), StatusReply.error(AwsError.LimitExceeded.exception("Cannot exceed quota for AccessKeysPerUser: " + MAX_ACCESS_KEYS)))
                                : persist(new AccessKeyAdded(c.userName(), c.key()), c.replyTo())))
                .onCommand(RemoveAccessKey.class, (s, c) -> withKey(s, c.userName(), c.accessKeyId(), c.replyTo(),
                        () -> persist(new AccessKeyRemoved(c.userName(), c.accessKeyId()), c.replyTo())))
                .onCommand(SetAccessKeyStatus.class, (s, c) -> withKey(s, c.userName(), c.accessKeyId(), c.replyTo(),
                        () -> persist(new AccessKeyStatusSet(c.userName(), c.accessKeyId(), c.status()), c.replyTo())))
                .onCommand(PutPolicy.class, (s, c) -> withUser(s, c.userName(), c.replyTo(),
                        u -> persist(new PolicyPut(c.userName(), c.policyName(), c.document()), c.replyTo())))
                .onCommand(DeletePolicy.class, (s, c) -> withUser(s, c.userName(), c.replyTo(), u ->
                        !u.policies().containsKey(c.policyName())
                                ? Effect().reply(c.replyTo(), StatusReply.error(AwsError.NoSuchEntity.exception("The user policy with name " + c.policyName() + " cannot be found.")))
                                : persist(new PolicyDeleted(c.userName(), c.policyName()), c.replyTo())))
                .onCommand(Read.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s)))
                .build();
    }

    private ReplyEffect<Event, State> onDeleteUser(State s, DeleteUser c) {
        return withUser(s, c.userName(), c.replyTo(), u -> {
            if (!u.accessKeys().isEmpty() || !u.policies().isEmpty()) {
                return Effect().reply(c.replyTo(), StatusReply.error(AwsError.DeleteConflict.exception("Cannot delete entity, must delete " + (u.accessKeys().isEmpty() ? "policies" : "access keys") + " first.")));
            }
            return persist(new UserDeleted(c.userName()), c.replyTo());
        });
    }

    private ReplyEffect<Event, State> persist(Event e, ActorRef<StatusReply<State>> replyTo) {
        return Effect().persist(e).thenReply(replyTo, StatusReply::success);
    }

    private ReplyEffect<Event, State> withUser(State s, String userName, ActorRef<StatusReply<State>> replyTo,
                                               java.util.function.Function<User, ReplyEffect<Event, State>> then) {
        User u = userName == null ? null : s.users().get(userName);
        if (u == null) {
            return Effect().reply(replyTo, StatusReply.error(AwsError.NoSuchEntity.exception("The user with name " + userName + " cannot be found.")));
        }
        return then.apply(u);
    }

    private ReplyEffect<Event, State> withKey(State s, String userName, String keyId, ActorRef<StatusReply<State>> replyTo,
                                              java.util.function.Supplier<ReplyEffect<Event, State>> then) {
        return withUser(s, userName, replyTo, u -> u.accessKeys().stream().anyMatch(k -> k.accessKeyId().equals(keyId))
                ? then.get()
                : Effect().reply(replyTo, StatusReply.error(AwsError.NoSuchEntity.exception("The Access Key with id " + keyId + " cannot be found."))));
    }

    // ---- event handlers (pure)

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(UserCreated.class, (s, e) -> put(s, new User(e.userName(), e.userId(), e.arn(), e.createdAtMillis(),
                        Collections.unmodifiableSortedMap(new TreeMap<>()), List.of())))
                .onEvent(UserDeleted.class, (s, e) -> {
                    TreeMap<String, User> users = new TreeMap<>(s.users());
                    users.remove(e.userName());
                    return s.next(users);
                })
                .onEvent(AccessKeyAdded.class, (s, e) -> update(s, e.userName(), u -> withKeys(u, add(u.accessKeys(), e.key()))))
                .onEvent(AccessKeyRemoved.class, (s, e) -> update(s, e.userName(), u -> withKeys(u,
                        u.accessKeys().stream().filter(k -> !k.accessKeyId().equals(e.accessKeyId())).toList())))
                .onEvent(AccessKeyStatusSet.class, (s, e) -> update(s, e.userName(), u -> withKeys(u,
                        u.accessKeys().stream().map(k -> k.accessKeyId().equals(e.accessKeyId())
                                ? new AccessKey(k.accessKeyId(), k.wrappedSecret(), e.status(), k.createdAtMillis()) : k).toList())))
                .onEvent(PolicyPut.class, (s, e) -> update(s, e.userName(), u -> {
                    TreeMap<String, String> p = new TreeMap<>(u.policies());
                    p.put(e.policyName(), e.document());
                    return new User(u.userName(), u.userId(), u.arn(), u.createdAtMillis(), Collections.unmodifiableSortedMap(p), u.accessKeys());
                }))
                .onEvent(PolicyDeleted.class, (s, e) -> update(s, e.userName(), u -> {
                    TreeMap<String, String> p = new TreeMap<>(u.policies());
                    p.remove(e.policyName());
                    return new User(u.userName(), u.userId(), u.arn(), u.createdAtMillis(), Collections.unmodifiableSortedMap(p), u.accessKeys());
                }))
                .build();
    }

    private static List<AccessKey> add(List<AccessKey> keys, AccessKey key) {
        List<AccessKey> out = new ArrayList<>(keys);
        out.add(key);
        return List.copyOf(out);
    }

    private static User withKeys(User u, List<AccessKey> keys) {
        return new User(u.userName(), u.userId(), u.arn(), u.createdAtMillis(), u.policies(), keys);
    }

    private static State put(State s, User u) {
        TreeMap<String, User> users = new TreeMap<>(s.users());
        users.put(u.userName(), u);
        return s.next(users);
    }

    private static State update(State s, String userName, UnaryOperator<User> f) {
        User u = s.users().get(userName);
        return u == null ? s.next(s.users()) : put(s, f.apply(u));
    }
}
