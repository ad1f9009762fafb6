package io.sluice.node.table;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.node.runtime.Entities;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.AttributeValue;
import io.sluice.protocol.dynamodb.ExpressionRequest;
import io.sluice.protocol.dynamodb.Expressions;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * One DynamoDB table: its schema and all its items, event sourced. Every write to the table, and every
 * read, is a command to this one entity, so a conditional write is decided against the latest item
 * and is linearizable per item (and per table) on the cluster: Cluster Sharding runs one incarnation
 * at a time, and the journal holds the item before the write is acknowledged. The KCL's lease
 * protocol rests on exactly that (two workers must never both take a lease).
 *
 * <p>Lifecycle: absent, ACTIVE, DELETING (its events and snapshots are being erased), absent again
 * (the name may be reused). Tables and their indexes are ACTIVE as soon as they exist: there is no
 * provisioning and an index is built in the same command. CreateTable says so at once (AWS says
 * CREATING first; the KCL's table waiters then sleep 10 to 20 s before looking again).
 */
public final class TableEntity
        extends EventSourcedBehaviorWithEnforcedReplies<TableEntity.Command, TableEntity.Event, TableEntity.State> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Table");

    private static final Duration ERASE_RETRY = Duration.ofSeconds(5);

    // ---- commands

    public sealed interface Command extends CborSerializable {}

    public record Create(TableSchema schema, ActorRef<StatusReply<TableView>> replyTo) implements Command {}

    public record Describe(ActorRef<StatusReply<TableView>> replyTo) implements Command {}

    /** UpdateTable: each non-null part changes; {@code createIndex}/{@code deleteIndex} add or drop a global secondary index. */
    public record Update(Boolean deletionProtection, String billingMode, Long readCapacity, Long writeCapacity,
                         TableSchema.Index createIndex, String deleteIndex, long nowMillis,
                         ActorRef<StatusReply<TableView>> replyTo) implements Command {}

    public record Delete(ActorRef<StatusReply<TableView>> replyTo) implements Command {}

    public record ChangeTags(Map<String, String> add, List<String> remove, ActorRef<StatusReply<TableView>> replyTo)
            implements Command {}

    public record ChangeBackups(boolean enabled, int recoveryPeriodDays, ActorRef<StatusReply<TableView>> replyTo)
            implements Command {}

    /** PutItem ({@code item}), UpdateItem or DeleteItem ({@code key}). */
    public record Write(Expressions.Kind kind, Map<String, AttributeValue> keyOrItem, ExpressionRequest expressions,
                        String returnValues, String returnValuesOnConditionCheckFailure,
                        ActorRef<StatusReply<Written>> replyTo) implements Command {}

    public record Get(Map<String, AttributeValue> key, ExpressionRequest expressions,
                      ActorRef<StatusReply<Got>> replyTo) implements Command {}

    /** A Scan ({@code query} false) or Query page, of the table or of {@code indexName}. */
    public record Read(boolean query, String indexName, ExpressionRequest expressions, boolean forward,
                       Map<String, AttributeValue> exclusiveStartKey, int limit, Integer segment, Integer totalSegments,
                       boolean countOnly, ActorRef<StatusReply<ReadPage>> replyTo) implements Command {}

    /** Internal: erasing a deleted table's journal ended, {@code done} or failed. */
    public record Erased(boolean done) implements Command {}

    /** Internal: try erasing again after a failure. */
    public record EraseAgain() implements Command {}

    // ---- replies

    public record IndexView(long itemCount, long sizeBytes) implements CborSerializable {}

    public record TableView(TableSchema schema, String status, long itemCount, long sizeBytes,
                            Map<String, IndexView> indexes) implements CborSerializable {}

    /**
     * A write's outcome: {@code attributes} as ReturnValues asked; or, when the condition failed,
     * {@code conditionFailed} and the item as ReturnValuesOnConditionCheckFailure asked.
     */
    public record Written(Map<String, AttributeValue> attributes, boolean conditionFailed, long bytes)
            implements CborSerializable {}

    public record Got(Map<String, AttributeValue> item, long bytes) implements CborSerializable {}

    public record ReadPage(List<Map<String, AttributeValue>> items, int count, int scannedCount,
                           Map<String, AttributeValue> lastEvaluatedKey, long bytes) implements CborSerializable {}

    // ---- events

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = TableCreated.class, name = "table-created"),
            @JsonSubTypes.Type(value = IndexAdded.class, name = "index-added"),
            @JsonSubTypes.Type(value = IndexRemoved.class, name = "index-removed"),
            @JsonSubTypes.Type(value = SettingsChanged.class, name = "settings-changed"),
            @JsonSubTypes.Type(value = TagsChanged.class, name = "tags-changed"),
            @JsonSubTypes.Type(value = BackupsChanged.class, name = "backups-changed"),
            @JsonSubTypes.Type(value = ItemPut.class, name = "item-put"),
            @JsonSubTypes.Type(value = ItemRemoved.class, name = "item-removed"),
            @JsonSubTypes.Type(value = TableDeleted.class, name = "table-deleted"),
            @JsonSubTypes.Type(value = TableErased.class, name = "table-erased")})
    public sealed interface Event extends CborSerializable {}

    public record TableCreated(TableSchema schema) implements Event {}

    public record IndexAdded(TableSchema.Index index) implements Event {}

    public record IndexRemoved(String indexName) implements Event {}

    public record SettingsChanged(boolean deletionProtection, String billingMode, long readCapacity, long writeCapacity,
                                  long changedAtMillis) implements Event {}

    public record TagsChanged(Map<String, String> tags) implements Event {}

    public record BackupsChanged(boolean enabled, int recoveryPeriodDays) implements Event {}

    /** The whole item after a PutItem or UpdateItem. */
    public record ItemPut(Map<String, AttributeValue> item) implements Event {}

    public record ItemRemoved(Map<String, AttributeValue> key) implements Event {}

    public record TableDeleted() implements Event {}

    /** The deleted table's earlier events and snapshots are gone; the name is free. */
    public record TableErased() implements Event {}

    // ---- state

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
    @JsonSubTypes({
            @JsonSubTypes.Type(value = Absent.class, name = "absent"),
            @JsonSubTypes.Type(value = Active.class, name = "active"),
            @JsonSubTypes.Type(value = Deleting.class, name = "deleting")})
    public sealed interface State extends CborSerializable {}

    public record Absent() implements State {}

    public record Deleting(TableSchema schema) implements State {}

    /** A live table: its schema and its items (immutable, see {@link Items}); a snapshot writes the items as a list. */
    public static final class Active implements State {
        private final TableSchema schema;
        private final Items items;

        @JsonCreator
        Active(@JsonProperty("schema") TableSchema schema, @JsonProperty("items") List<Map<String, AttributeValue>> list) {
            this.schema = schema;
            Items all = Items.EMPTY;
            for (Map<String, AttributeValue> item : list) all = all.put(keyOf(schema, item), item);
            this.items = all;
        }

        private Active(TableSchema schema, Items items) {
            this.schema = schema;
            this.items = items;
        }

        @JsonProperty("schema")
        public TableSchema schema() {
            return schema;
        }

        @JsonProperty("items")
        List<Map<String, AttributeValue>> itemList() {
            return items.all();
        }

        @JsonIgnore
        Items items() {
            return items;
        }

        Active with(TableSchema newSchema) {
            return new Active(newSchema, items);
        }

        Active with(Items newItems) {
            return new Active(schema, newItems);
        }

        TableView view(String status) {
            Map<String, IndexView> indexes = new LinkedHashMap<>();
            for (TableSchema.Index index : schema.indexes()) {
                long[] stats = items.indexStats(index);
                indexes.put(index.name(), new IndexView(stats[0], stats[1]));
            }
            return new TableView(schema, status, items.count(), items.bytes(), indexes);
        }
    }

    private static ItemKey keyOf(TableSchema schema, Map<String, AttributeValue> item) {
        return ItemKey.of(item.get(schema.hash().name()), schema.range() == null ? null : item.get(schema.range().name()));
    }

    // ---- set-up

    public static void init(ActorSystem<?> system, int snapshotEvery, Duration deleteDelay,
                            Function<String, CompletionStage<Done>> eraser) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), snapshotEvery, deleteDelay, eraser)));
    }

    public static Behavior<Command> create(String tableName, int snapshotEvery, Function<String, CompletionStage<Done>> eraser) {
        return create(tableName, snapshotEvery, Duration.ZERO, eraser);
    }

    /**
     * @param deleteDelay how long a deleted table stays DELETING before its erasure starts; the timer belongs to
     *                    this incarnation of the entity, so one that moved or stopped never erases a later table
     * @param eraser deletes every event and snapshot of a persistence id that will be used again
     */
    public static Behavior<Command> create(String tableName, int snapshotEvery, Duration deleteDelay,
                                           Function<String, CompletionStage<Done>> eraser) {
        return Behaviors.setup(ctx -> new TableEntity(ctx, tableName, snapshotEvery, deleteDelay, eraser));
    }

    private final ActorContext<Command> context;
    private final String tableName;
    private final int snapshotEvery;
    private final Duration deleteDelay;
    private final Function<String, CompletionStage<Done>> eraser;

    private TableEntity(ActorContext<Command> context, String tableName, int snapshotEvery, Duration deleteDelay,
                        Function<String, CompletionStage<Done>> eraser) {
        super(PersistenceId.of(ENTITY_KEY.name(), tableName), Entities.RESTART);
        this.context = context;
        this.tableName = tableName;
        this.snapshotEvery = snapshotEvery;
        this.deleteDelay = deleteDelay;
        this.eraser = eraser;
    }

    @Override
    public State emptyState() {
        return new Absent();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        // a lease table is written every few seconds forever: its journal must not grow with it
        return RetentionCriteria.snapshotEvery(snapshotEvery, 2).withDeleteEventsOnSnapshot();
    }

    @Override
    public SignalHandler<State> signalHandler() {
        return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), state -> {
            if (state instanceof Deleting) eraseLater();
        }).build();
    }

    // ---- command handlers

    @Override
    public CommandHandlerWithReply<Command, Event, State> commandHandler() {
        var builder = newCommandHandlerWithReplyBuilder();
        builder.forStateType(Absent.class)
                .onCommand(Create.class, this::onCreate)
                .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(), tableNotFound()))
                .onCommand(Update.class, (s, c) -> Effect().reply(c.replyTo(), tableNotFound()))
                .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(), tableNotFound()))
                .onCommand(ChangeTags.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(ChangeBackups.class, (s, c) -> Effect().reply(c.replyTo(), tableNotFound()))
                .onCommand(Write.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Read.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onAnyCommand((s, c) -> Effect().noReply());
        builder.forStateType(Deleting.class)
                .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(), inUse(DELETING + tableName)))
                .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(),
                        StatusReply.success(new TableView(s.schema(), "DELETING", 0, 0, Map.of()))))
                .onCommand(Update.class, (s, c) -> Effect().reply(c.replyTo(), inUse(DELETING + tableName)))
                // AWS: "If table is already in the DELETING state, no error is returned"
                .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(),
                        StatusReply.success(new TableView(s.schema(), "DELETING", 0, 0, Map.of()))))
                .onCommand(ChangeTags.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(ChangeBackups.class, (s, c) -> Effect().reply(c.replyTo(), tableNotFound()))
                .onCommand(Write.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Read.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
                .onCommand(Erased.class, this::onErased)
                .onCommand(EraseAgain.class, (s, c) -> {
                    erase();
                    return Effect().noReply();
                })
                .onAnyCommand((s, c) -> Effect().noReply());
        builder.forStateType(Active.class)
                .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(), inUse(EXISTS + tableName)))
                .onCommand(Describe.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s.view("ACTIVE"))))
                .onCommand(Update.class, this::onUpdate)
                .onCommand(Delete.class, this::onDelete)
                .onCommand(ChangeTags.class, this::onChangeTags)
                .onCommand(ChangeBackups.class, (s, c) -> Effect()
                        .persist(new BackupsChanged(c.enabled(), c.recoveryPeriodDays()))
                        .thenReply(c.replyTo(), next -> StatusReply.success(((Active) next).view("ACTIVE"))))
                .onCommand(Write.class, this::onWrite)
                .onCommand(Get.class, this::onGet)
                .onCommand(Read.class, this::onRead)
                .onAnyCommand((s, c) -> Effect().noReply());
        return builder.build();
    }

    private ReplyEffect<Event, State> onCreate(Absent state, Create cmd) {
        return Effect().persist(new TableCreated(cmd.schema()))
                .thenReply(cmd.replyTo(), s -> StatusReply.success(((Active) s).view("ACTIVE")));
    }

    private ReplyEffect<Event, State> onUpdate(Active state, Update cmd) {
        TableSchema schema = state.schema();
        List<Event> events = new ArrayList<>();
        if (cmd.createIndex() != null) {
            if (schema.index(cmd.createIndex().name()).isPresent()) {
                return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.ValidationException.exception(
                        "One or more parameter values were invalid: Index with name: " + cmd.createIndex().name() + " already exists")));
            }
            events.add(new IndexAdded(cmd.createIndex()));
        }
        if (cmd.deleteIndex() != null) {
            if (schema.index(cmd.deleteIndex()).isEmpty()) {
                return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.ResourceNotFoundException.exception(
                        "Requested resource not found: Index " + cmd.deleteIndex() + " for table " + tableName)));
            }
            events.add(new IndexRemoved(cmd.deleteIndex()));
        }
        if (cmd.deletionProtection() != null || cmd.billingMode() != null || cmd.readCapacity() != null) {
            String billing = cmd.billingMode() != null ? cmd.billingMode() : schema.billingMode();
            boolean provisioned = billing.equals(TableSchema.PROVISIONED);
            long read = provisioned ? (cmd.readCapacity() != null ? cmd.readCapacity() : schema.readCapacity()) : 0;
            long write = provisioned ? (cmd.writeCapacity() != null ? cmd.writeCapacity() : schema.writeCapacity()) : 0;
            if (provisioned && (read <= 0 || write <= 0)) {
                return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.ValidationException.exception(
                        "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")));
            }
            long changedAt = billing.equals(schema.billingMode()) ? schema.billingChangedAtMillis() : cmd.nowMillis();
            events.add(new SettingsChanged(cmd.deletionProtection() != null ? cmd.deletionProtection() : schema.deletionProtection(),
                    billing, read, write, changedAt));
        }
        String createdIndex = cmd.createIndex() == null ? null : cmd.createIndex().name();
        return Effect().persist(events).thenReply(cmd.replyTo(), s -> {
            TableView view = ((Active) s).view("ACTIVE");
            // as AWS answers: the table is UPDATING while a new index builds (here it is built already)
            return StatusReply.success(createdIndex == null ? view
                    : new TableView(view.schema(), "UPDATING", view.itemCount(), view.sizeBytes(), view.indexes()));
        });
    }

    private ReplyEffect<Event, State> onDelete(Active state, Delete cmd) {
        if (state.schema().deletionProtection()) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.ValidationException.exception(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")));
        }
        TableView before = state.view("DELETING");
        return Effect().persist(new TableDeleted()).thenRun(s -> eraseLater()).thenReply(cmd.replyTo(), s -> StatusReply.success(before));
    }

    private ReplyEffect<Event, State> onChangeTags(Active state, ChangeTags cmd) {
        Map<String, String> tags = new LinkedHashMap<>(state.schema().tags());
        if (cmd.add() != null) tags.putAll(cmd.add());
        if (cmd.remove() != null) cmd.remove().forEach(tags::remove);
        if (tags.size() > 50) {
            return Effect().reply(cmd.replyTo(), StatusReply.error(AwsError.LimitExceededException.exception(
                    "The number of tags on the resource exceeds the limit of 50.")));
        }
        return Effect().persist(new TagsChanged(tags))
                .thenReply(cmd.replyTo(), s -> StatusReply.success(((Active) s).view("ACTIVE")));
    }

    private ReplyEffect<Event, State> onWrite(Active state, Write cmd) {
        TableSchema schema = state.schema();
        try {
            Expressions.Compiled expressions = Expressions.compile(cmd.kind(), cmd.expressions(), schema.keyAttributes());
            ItemKey key = cmd.kind() == Expressions.Kind.PUT ? schema.keyOfItem(cmd.keyOrItem()) : schema.keyOf(cmd.keyOrItem());
            Map<String, AttributeValue> current = state.items().get(key);
            Map<String, AttributeValue> seen = current == null ? Map.of() : current;
            if (expressions.condition().isPresent() && !expressions.condition().get().test(seen)) {
                boolean wantsItem = "ALL_OLD".equals(cmd.returnValuesOnConditionCheckFailure());
                return Effect().reply(cmd.replyTo(), StatusReply.success(new Written(wantsItem ? current : null, true, 0)));
            }
            Map<String, AttributeValue> next;
            Expressions.Projection touched = item -> item;
            switch (cmd.kind()) {
                case PUT -> {
                    next = cmd.keyOrItem();
                    requireSize(next, "Item size has exceeded the maximum allowed size");
                }
                case UPDATE -> {
                    Map<String, AttributeValue> base = current != null ? current : new LinkedHashMap<>(cmd.keyOrItem());
                    Expressions.Updated updated = expressions.update().map(u -> u.apply(base))
                            .orElse(Expressions.Updated.none(base));
                    next = updated.item();
                    touched = updated.touched();
                    schema.keyOfItem(next);
                    requireSize(next, "Item size to update has exceeded the maximum allowed size");
                }
                default -> next = null;
            }
            Map<String, AttributeValue> returned = returnValues(cmd.returnValues(), current, next, touched);
            long bytes = Math.max(current == null ? 0 : AttributeValue.itemSize(current), next == null ? 0 : AttributeValue.itemSize(next));
            Written written = new Written(returned, false, bytes);
            if (next == null) {
                return current == null ? Effect().reply(cmd.replyTo(), StatusReply.success(written))
                        : Effect().persist(new ItemRemoved(schema.keyPart(current))).thenReply(cmd.replyTo(), s -> StatusReply.success(written));
            }
            return Effect().persist(new ItemPut(next)).thenReply(cmd.replyTo(), s -> StatusReply.success(written));
        } catch (RuntimeException e) {
            return Effect().reply(cmd.replyTo(), rejection(e));
        }
    }

    private static void requireSize(Map<String, AttributeValue> item, String message) {
        if (AttributeValue.itemSize(item) > AttributeValue.MAX_ITEM_SIZE) {
            throw AwsError.ValidationException.exception(message);
        }
    }

    /** What ReturnValues asks back: nothing, the old or new item, or only the paths the update acted on. */
    private static Map<String, AttributeValue> returnValues(String returnValues, Map<String, AttributeValue> before,
                                                            Map<String, AttributeValue> after, Expressions.Projection touched) {
        if (returnValues == null) return null;
        return switch (returnValues) {
            case "ALL_OLD" -> before;
            case "ALL_NEW" -> after;
            case "UPDATED_OLD" -> nonEmpty(before == null ? null : touched.apply(before));
            case "UPDATED_NEW" -> nonEmpty(after == null ? null : touched.apply(after));
            default -> null;
        };
    }

    private static Map<String, AttributeValue> nonEmpty(Map<String, AttributeValue> attributes) {
        return attributes == null || attributes.isEmpty() ? null : attributes;
    }

    private ReplyEffect<Event, State> onGet(Active state, Get cmd) {
        try {
            Expressions.Compiled expressions = Expressions.compile(Expressions.Kind.GET, cmd.expressions(), state.schema().keyAttributes());
            Map<String, AttributeValue> item = state.items().get(state.schema().keyOf(cmd.key()));
            long bytes = item == null ? 0 : AttributeValue.itemSize(item);
            Map<String, AttributeValue> shown = item == null ? null : expressions.projection().map(p -> p.apply(item)).orElse(item);
            return Effect().reply(cmd.replyTo(), StatusReply.success(new Got(shown, bytes)));
        } catch (RuntimeException e) {
            return Effect().reply(cmd.replyTo(), rejection(e));
        }
    }

    private ReplyEffect<Event, State> onRead(Active state, Read cmd) {
        TableSchema schema = state.schema();
        try {
            TableSchema.Index index = null;
            if (cmd.indexName() != null) {
                index = schema.index(cmd.indexName()).orElseThrow(() -> AwsError.ValidationException.exception(
                        "The table does not have the specified index: " + cmd.indexName()));
            }
            Expressions.Compiled expressions = Expressions.compile(cmd.query() ? Expressions.Kind.QUERY : Expressions.Kind.SCAN,
                    cmd.expressions(), schema.keyAttributes());
            AttributeValue hashValue = null;
            Expressions.KeyCondition keyCondition = null;
            if (cmd.query()) {
                TableSchema.KeyAttribute hash = index == null ? schema.hash() : index.hash();
                TableSchema.KeyAttribute range = index == null ? schema.range() : index.range();
                keyCondition = expressions.keyCondition(hash.name(), hash.type(), range == null ? null : range.name(),
                        range == null ? null : range.type());
                hashValue = keyCondition.hashValue();
            }
            Items.Page page = state.items().page(schema, index, hashValue, keyCondition, cmd.forward(), cmd.exclusiveStartKey(),
                    cmd.limit(), cmd.segment(), cmd.totalSegments(), expressions.filter().orElse(null),
                    expressions.projection().orElse(null), cmd.countOnly());
            return Effect().reply(cmd.replyTo(), StatusReply.success(new ReadPage(page.items(), page.count(),
                    page.scannedCount(), page.lastEvaluatedKey(), page.bytesRead())));
        } catch (RuntimeException e) {
            return Effect().reply(cmd.replyTo(), rejection(e));
        }
    }

    private ReplyEffect<Event, State> onErased(Deleting state, Erased cmd) {
        if (!cmd.done()) {
            context.scheduleOnce(ERASE_RETRY, context.getSelf(), new EraseAgain());
            return Effect().noReply();
        }
        return Effect().persist(new TableErased()).thenNoReply();
    }

    /** Erases once the table has been DELETING for the delete delay, by this incarnation's own timer. */
    private void eraseLater() {
        if (deleteDelay.isZero()) {
            erase();
        } else {
            context.scheduleOnce(deleteDelay, context.getSelf(), new EraseAgain());
        }
    }

    /** Deletes every earlier event and snapshot of the table (the name stays usable), then tells itself. */
    private void erase() {
        context.pipeToSelf(eraser.apply(persistenceId().id()), (done, failure) -> {
            if (failure != null) {
                context.getLog().warn("Erasing deleted table {} failed; retrying in {}", tableName, ERASE_RETRY, failure);
            }
            return new Erased(failure == null);
        });
    }

    /**
     * A request the table refuses: its typed rejection, or, for a failure nobody foresaw, an internal
     * failure for the caller, while the entity carries on (a crash would restart it and drop what it stashed).
     */
    private <T> StatusReply<T> rejection(RuntimeException e) {
        if (e instanceof ApiException api) return StatusReply.error(api);
        context.getLog().error("Table {} failed on a request", tableName, e);
        return StatusReply.error(AwsError.InternalFailure.exception("Internal server error"));
    }

    private StatusReply<TableView> tableNotFound() {
        return StatusReply.error(AwsError.ResourceNotFoundException.exception(
                "Requested resource not found: Table: " + tableName + " not found"));
    }

    private static <T> StatusReply<T> notFound() {
        return StatusReply.error(AwsError.ResourceNotFoundException.exception("Requested resource not found"));
    }

    /** How a refused Create or Delete says the table exists, or is on its way out (DynamoDbService keeps its catalogue by them). */
    public static final String EXISTS = "Table already exists: ";
    public static final String DELETING = "Table is being deleted: ";

    private static <T> StatusReply<T> inUse(String message) {
        return StatusReply.error(AwsError.ResourceInUseException.exception("Attempt to change a resource which is still in use: " + message));
    }

    // ---- event handler

    @Override
    public EventHandler<State, Event> eventHandler() {
        var builder = newEventHandlerBuilder();
        builder.forStateType(Absent.class)
                .onEvent(TableCreated.class, (s, e) -> new Active(e.schema(), List.of()))
                .onEvent(TableErased.class, (s, e) -> s);
        builder.forStateType(Deleting.class)
                .onEvent(TableErased.class, (s, e) -> new Absent());
        builder.forStateType(Active.class)
                .onEvent(IndexAdded.class, (s, e) -> s.with(s.schema().withIndex(e.index())))
                .onEvent(IndexRemoved.class, (s, e) -> s.with(s.schema().withoutIndex(e.indexName())))
                .onEvent(SettingsChanged.class, (s, e) -> s.with(s.schema().withSettings(e.deletionProtection(),
                        e.billingMode(), e.readCapacity(), e.writeCapacity(), e.changedAtMillis())))
                .onEvent(TagsChanged.class, (s, e) -> s.with(s.schema().withTags(e.tags())))
                .onEvent(BackupsChanged.class, (s, e) -> s.with(s.schema().withBackups(e.enabled(), e.recoveryPeriodDays())))
                .onEvent(ItemPut.class, (s, e) -> s.with(s.items().put(keyOf(s.schema(), e.item()), e.item())))
                .onEvent(ItemRemoved.class, (s, e) -> s.with(s.items().remove(keyOf(s.schema(), e.key()))))
                .onEvent(TableDeleted.class, (s, e) -> new Deleting(s.schema()));
        return builder.build();
    }
}
