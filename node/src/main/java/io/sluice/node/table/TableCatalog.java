package io.sluice.node.table;

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

import io.sluice.protocol.AwsError;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The DynamoDB tables of one account, by name: what ListTables pages through. A table is listed once
 * CreateTable has made it and leaves when DeleteTable has been accepted.
 *
 * <p>The account's table limit is kept here, one command at a time: CreateTable first reserves a
 * place ({@link Reserve}), then makes the table, then lists it ({@link Add}), so two CreateTables
 * racing for the last place cannot both have it. A reservation is held in memory only, and lapses
 * after a while: a node that stops between the two leaves no table listed that does not exist.
 */
public final class TableCatalog
        extends EventSourcedBehaviorWithEnforcedReplies<TableCatalog.Command, TableCatalog.Event, TableCatalog.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "TableCatalog");

    public sealed interface Command extends CborSerializable {}

    public record Add(String tableName, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record Remove(String tableName, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record ListAll(ActorRef<State> replyTo) implements Command {}

    /**
     * Holds a place for a table about to be made, unless the account has {@code limit} tables listed or
     * reserved already (LimitExceededException); a name already listed or reserved needs no new place.
     * The place lapses after {@code holdForMillis} unless the table is listed by then.
     */
    public record Reserve(String tableName, int limit, long holdForMillis, ActorRef<StatusReply<Done>> replyTo)
            implements Command {}

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Added.class, name = "added"),
            @JsonSubTypes.Type(value = Removed.class, name = "removed")})
    public sealed interface Event extends CborSerializable {}

    public record Added(String tableName) implements Event {}

    public record Removed(String tableName) implements Event {}

    public record State(SortedSet<String> tables) implements CborSerializable {
        State with(String name, boolean present) {
            TreeSet<String> copy = new TreeSet<>(tables);
            if (present) copy.add(name); else copy.remove(name);
            return new State(Collections.unmodifiableSortedSet(copy));
        }
    }

    public static void init(ActorSystem<?> system) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())));
    }

    public static EntityRef<Command> ref(ActorSystem<?> system, String accountId) {
        return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, accountId);
    }

    public static Behavior<Command> create(String accountId) {
        return new TableCatalog(accountId);
    }

    /**
     * Places held by CreateTables under way, by name, until a deadline (System.nanoTime). Not state: a
     * reservation is not recovered, so none outlives the incarnation that granted it.
     */
    private final Map<String, Long> reserved = new HashMap<>();

    private TableCatalog(String accountId) {
        super(PersistenceId.of(ENTITY_KEY.name(), accountId), Entities.RESTART);
    }

    @Override
    public State emptyState() {
        return new State(Collections.unmodifiableSortedSet(new TreeSet<>()));
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2).withDeleteEventsOnSnapshot();
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                // a listed or removed table holds no reservation any more: its place is counted by the listing, or free
                .onCommand(Add.class, (s, c) -> {
                    reserved.remove(c.tableName());
                    return s.tables().contains(c.tableName())
                            ? Effect().reply(c.replyTo(), StatusReply.ack())
                            : Effect().persist(new Added(c.tableName())).thenReply(c.replyTo(), n -> StatusReply.ack());
                })
                .onCommand(Remove.class, (s, c) -> {
                    reserved.remove(c.tableName());
                    return !s.tables().contains(c.tableName())
                            ? Effect().reply(c.replyTo(), StatusReply.ack())
                            : Effect().persist(new Removed(c.tableName())).thenReply(c.replyTo(), n -> StatusReply.ack());
                })
                .onCommand(ListAll.class, (s, c) -> Effect().reply(c.replyTo(), s))
                .onCommand(Reserve.class, this::onReserve)
                .build();
    }

    private ReplyEffect<Event, State> onReserve(State state, Reserve cmd) {
        long now = System.nanoTime();
        reserved.values().removeIf(deadline -> deadline - now < 0);
        reserved.keySet().removeAll(state.tables());
        if (state.tables().contains(cmd.tableName()) || reserved.containsKey(cmd.tableName())) {
            return Effect().reply(cmd.replyTo(), StatusReply.ack());
        }
        if (state.tables().size() + reserved.size() >= cmd.limit()) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.LimitExceededException.exception(
                    "Subscriber limit exceeded: Table limit of " + cmd.limit() + " tables per account exceeded")));
        }
        reserved.put(cmd.tableName(), now + cmd.holdForMillis() * 1_000_000L);
        return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(Added.class, (s, e) -> s.with(e.tableName(), true))
                .onEvent(Removed.class, (s, e) -> s.with(e.tableName(), false))
                .build();
    }
}
