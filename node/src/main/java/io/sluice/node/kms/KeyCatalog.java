package io.sluice.node.kms;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.protocol.AwsError;
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
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/** The KMS keys of one account, in creation order, and its aliases (name -> key id). */
public final class KeyCatalog
        extends EventSourcedBehaviorWithEnforcedReplies<KeyCatalog.Command, KeyCatalog.Event, KeyCatalog.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "KeyCatalog");

    public sealed interface Command extends CborSerializable {}

    public record AddKey(String keyId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /** Create (or, with {@code replace}, re-point) an alias; {@code ifAbsent} leaves an existing alias alone. */
    public record PutAlias(String aliasName, String keyId, boolean replace, boolean ifAbsent,
                           ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record DeleteAlias(String aliasName, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    /** Forget a destroyed key and every alias that pointed to it, as AWS does when a key is deleted. */
    public record RemoveKey(String keyId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

    public record Read(ActorRef<State> replyTo) implements Command {}

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = KeyAdded.class, name = "key-added"),
            @JsonSubTypes.Type(value = AliasSet.class, name = "alias-set"),
            @JsonSubTypes.Type(value = AliasDeleted.class, name = "alias-deleted"),
            @JsonSubTypes.Type(value = KeyRemoved.class, name = "key-removed")})
    public sealed interface Event extends CborSerializable {}

    public record KeyAdded(String keyId) implements Event {}

    public record AliasSet(String aliasName, String keyId, long atMillis) implements Event {}

    public record AliasDeleted(String aliasName) implements Event {}

    public record KeyRemoved(String keyId) implements Event {}

    public record Alias(String keyId, long createdAtMillis, long updatedAtMillis) implements CborSerializable {}

    public record State(List<String> keys, SortedMap<String, Alias> aliases) implements CborSerializable {}

    public static void init(ActorSystem<?> system, String region, Clock clock) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), region, clock)));
    }

    public static EntityRef<Command> ref(ActorSystem<?> system, String accountId) {
        return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, accountId);
    }

    public static Behavior<Command> create(String accountId, String region, Clock clock) {
        return new KeyCatalog(accountId, region, clock);
    }

    private final String accountId;
    private final String region;
    private final Clock clock;

    private KeyCatalog(String accountId, String region, Clock clock) {
        super(PersistenceId.of(ENTITY_KEY.name(), accountId),
                Entities.RESTART);
        this.accountId = accountId;
        this.region = region;
        this.clock = clock;
    }

    @Override
    public State emptyState() {
        return new State(List.of(), Collections.unmodifiableSortedMap(new TreeMap<>()));
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2).withDeleteEventsOnSnapshot();
    }

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(AddKey.class, (s, c) -> s.keys().contains(c.keyId())
                        ? Effect().reply(c.replyTo(), StatusReply.ack())
                        : Effect().persist(new KeyAdded(c.keyId())).thenReply(c.replyTo(), st -> StatusReply.ack()))
                .onCommand(PutAlias.class, (s, c) -> {
                    Alias existing = s.aliases().get(c.aliasName());
                    if (existing != null && c.ifAbsent()) {
                        return Effect().reply(c.replyTo(), StatusReply.ack());
                    }
                    if (existing != null && !c.replace()) {
                        return Effect().reply(c.replyTo(), StatusReply.error(AwsError.AlreadyExistsException.exception("An alias with the name " + aliasArn(c.aliasName()) + " already exists")));
                    }
                    if (existing == null && c.replace()) {
                        return Effect().reply(c.replyTo(), StatusReply.error(AwsError.NotFoundException.exception("Alias " + aliasArn(c.aliasName()) + " is not found.")));
                    }
                    return Effect().persist(new AliasSet(c.aliasName(), c.keyId(), clock.millis()))
                            .thenReply(c.replyTo(), st -> StatusReply.ack());
                })
                .onCommand(DeleteAlias.class, (s, c) -> !s.aliases().containsKey(c.aliasName())
                        ? Effect().reply(c.replyTo(), StatusReply.error(AwsError.NotFoundException.exception("Alias " + aliasArn(c.aliasName()) + " is not found.")))
                        : Effect().persist(new AliasDeleted(c.aliasName())).thenReply(c.replyTo(), st -> StatusReply.ack()))
                .onCommand(RemoveKey.class, (s, c) -> !s.keys().contains(c.keyId())
                        ? Effect().reply(c.replyTo(), StatusReply.ack())
                        : Effect().persist(new KeyRemoved(c.keyId())).thenReply(c.replyTo(), st -> StatusReply.ack()))
                .onCommand(Read.class, (s, c) -> Effect().reply(c.replyTo(), s))
                .build();
    }

    private String aliasArn(String aliasName) {
        return "arn:aws:kms:" + region + ":" + accountId + ":" + aliasName;
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
                .onEvent(KeyAdded.class, (s, e) -> {
                    List<String> keys = new ArrayList<>(s.keys());
                    keys.add(e.keyId());
                    return new State(List.copyOf(keys), s.aliases());
                })
                .onEvent(AliasSet.class, (s, e) -> {
                    TreeMap<String, Alias> aliases = new TreeMap<>(s.aliases());
                    Alias old = aliases.get(e.aliasName());
                    aliases.put(e.aliasName(), new Alias(e.keyId(), old == null ? e.atMillis() : old.createdAtMillis(), e.atMillis()));
                    return new State(s.keys(), Collections.unmodifiableSortedMap(aliases));
                })
                .onEvent(KeyRemoved.class, (s, e) -> {
                    List<String> keys = new ArrayList<>(s.keys());
                    keys.remove(e.keyId());
                    TreeMap<String, Alias> aliases = new TreeMap<>(s.aliases());
                    aliases.values().removeIf(a -> a.keyId().equals(e.keyId()));
                    return new State(List.copyOf(keys), Collections.unmodifiableSortedMap(aliases));
                })
                .onEvent(AliasDeleted.class, (s, e) -> {
                    TreeMap<String, Alias> aliases = new TreeMap<>(s.aliases());
                    aliases.remove(e.aliasName());
                    return new State(s.keys(), Collections.unmodifiableSortedMap(aliases));
                })
                .build();
    }
}
