package io.sluice.node.stream;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import org.apache.pekko.Done;
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

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The streams of one account, by name, with the creation time of each stream's current
 * incarnation: what ListStreams pages through and what the retention sweeper visits.
 * Streams register themselves when they become ACTIVE and leave when deleted.
 */
public final class StreamCatalog
        extends EventSourcedBehaviorWithEnforcedReplies<StreamCatalog.Command, StreamCatalog.Event, StreamCatalog.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "StreamCatalog");

    public sealed interface Command extends CborSerializable {}

    public record Register(String streamName, long createdAtMillis, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record Unregister(String streamName, long createdAtMillis, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record ListAll(ActorRef<Listing> replyTo) implements Command {}

    public record Listing(SortedMap<String, Long> streams) implements CborSerializable {}

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Registered.class, name = "registered"),
            @JsonSubTypes.Type(value = Unregistered.class, name = "unregistered")})
    public sealed interface Event extends CborSerializable {}

    public record Registered(String streamName, long createdAtMillis) implements Event {}

    public record Unregistered(String streamName) implements Event {}

    public record State(SortedMap<String, Long> streams) implements CborSerializable {
        State with(String name, long createdAt) {
            TreeMap<String, Long> copy = new TreeMap<>(streams);
            copy.put(name, createdAt);
            return new State(Collections.unmodifiableSortedMap(copy));
        }

        State without(String name) {
            TreeMap<String, Long> copy = new TreeMap<>(streams);
            copy.remove(name);
            return new State(Collections.unmodifiableSortedMap(copy));
        }
    }

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())));
    }

    public static EntityRef<Command> ref(ActorSystem<?> system, String accountId) {
        return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, accountId);
    }

    public static Behavior<Command> create(String accountId) {
        return new StreamCatalog(accountId);
    }

    private StreamCatalog(String accountId) {
        super(PersistenceId.of(ENTITY_KEY.name(), accountId),
                Entities.RESTART);
    }

    @Override
    public State emptyState() {
        return new State(Collections.unmodifiableSortedMap(new TreeMap<>()));
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2).withDeleteEventsOnSnapshot();
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Register.class, this::onRegister)
                .onCommand(Unregister.class, this::onUnregister)
                .onCommand(ListAll.class, (s, c) -> Effect().reply(c.replyTo(), new Listing(s.streams())))
                .build();
    }

    private ReplyEffect<Event, State> onRegister(State state, Register cmd) {
        Long known = state.streams().get(cmd.streamName());
        if (known != null && known == cmd.createdAtMillis()) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        return Effect().persist(new Registered(cmd.streamName(), cmd.createdAtMillis()))
                .thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    private ReplyEffect<Event, State> onUnregister(State state, Unregister cmd) {
        Long known = state.streams().get(cmd.streamName());
        if (known == null || known != cmd.createdAtMillis()) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        return Effect().persist(new Unregistered(cmd.streamName())).thenReply(cmd.replyTo(), s -> StatusReply.ack());
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Registered.class, (s, e) -> s.with(e.streamName(), e.createdAtMillis()))
                .onEvent(Unregistered.class, (s, e) -> s.without(e.streamName()))
                .build();
    }
}
