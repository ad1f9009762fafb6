package io.sluice.node.api;

import io.sluice.node.auth.Caller;
import io.sluice.node.runtime.Futures;
import io.sluice.node.table.TableCatalog;
import io.sluice.node.table.TableEntity;
import io.sluice.node.table.TableEntity.TableView;
import io.sluice.node.table.TableSchema;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Page;
import io.sluice.protocol.Validation;
import io.sluice.protocol.dynamodb.AttributeValue;
import io.sluice.protocol.dynamodb.DynamoDb.*;
import io.sluice.protocol.dynamodb.ExpressionRequest;
import io.sluice.protocol.dynamodb.Expressions;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;

import static io.sluice.node.api.Service.DYNAMODB;

/**
 * The DynamoDB API ({@code DynamoDB_20120810.*}, AWS JSON 1.0) that the Kinesis Client Library and
 * the DynamoDB lock client need: tables with a global secondary index, tags and backup settings, and
 * items with conditional writes in both the legacy and the expression style. Each table is one
 * {@link TableEntity}; this facade checks the request's shape, asks the entity and shapes the answer.
 * IAM actions are {@code dynamodb:<Operation>} on the table's (or the queried index's) ARN.
 */
public final class DynamoDbService {
    private static final Pattern TABLE_NAME = Pattern.compile("[a-zA-Z0-9_.-]+");
    private static final List<String> KEY_TYPES = List.of("S", "N", "B");
    private static final Map<String, Object> EMPTY = Map.of();

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final String region;
    private final String accountId;
    private final Duration askTimeout;
    private final int tableLimit;
    private final Clock clock;

    public DynamoDbService(ActorSystem<?> system, String region, String accountId, Duration askTimeout, int tableLimit,
                           Clock clock) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.region = region;
        this.accountId = accountId;
        this.askTimeout = askTimeout;
        this.tableLimit = tableLimit;
        this.clock = clock;
    }

    public List<Operation<?>> operations() {
        return List.of(
                onTable("CreateTable", CreateTableRequest.class, CreateTableRequest::tableName, this::createTable),
                onTable("DescribeTable", TableNameRequest.class, TableNameRequest::tableName,
                        (c, r, arn) -> ask(nameOf(r.tableName()), TableEntity.Describe::new)
                                .thenApply(v -> new DescribeTableResponse(describe(v)))),
                onTable("UpdateTable", UpdateTableRequest.class, UpdateTableRequest::tableName, this::updateTable),
                onTable("DeleteTable", TableNameRequest.class, TableNameRequest::tableName, this::deleteTable),
                Operation.of(DYNAMODB, "ListTables", ListTablesRequest.class, (c, r) -> "*", this::listTables),
                Operation.of(DYNAMODB, "TagResource", TagResourceRequest.class, (c, r) -> r.resourceArn(), this::tagResource)
                        .checkedBy(r -> new Validation().required("resourceArn", r.resourceArn()).required("tags", r.tags()).check()),
                Operation.of(DYNAMODB, "UntagResource", UntagResourceRequest.class, (c, r) -> r.resourceArn(), this::untagResource)
                        .checkedBy(r -> new Validation().required("resourceArn", r.resourceArn()).required("tagKeys", r.tagKeys()).check()),
                Operation.of(DYNAMODB, "ListTagsOfResource", ListTagsOfResourceRequest.class, (c, r) -> r.resourceArn(),
                                (c, r, arn) -> tagged(r.resourceArn(), this.<TableView>ask(tableOfArn(r.resourceArn()), TableEntity.Describe::new))
                                        .thenApply(v -> new ListTagsOfResourceResponse(tags(v.schema().tags()), null)))
                        .checkedBy(r -> new Validation().required("resourceArn", r.resourceArn()).check()),
                onTable("DescribeContinuousBackups", TableNameRequest.class, TableNameRequest::tableName,
                        (c, r, arn) -> this.<TableView>ask(nameOf(r.tableName()), TableEntity.Describe::new).thenApply(this::backups)),
                onTable("UpdateContinuousBackups", UpdateContinuousBackupsRequest.class, UpdateContinuousBackupsRequest::tableName,
                        this::updateBackups),
                onTable("GetItem", GetItemRequest.class, GetItemRequest::tableName, this::getItem),
                onTable("PutItem", PutItemRequest.class, PutItemRequest::tableName, this::putItem),
                onTable("UpdateItem", UpdateItemRequest.class, UpdateItemRequest::tableName, this::updateItem),
                onTable("DeleteItem", DeleteItemRequest.class, DeleteItemRequest::tableName, this::deleteItem),
                onIndex("Scan", ScanRequest.class, ScanRequest::tableName, ScanRequest::indexName, this::scan),
                onIndex("Query", QueryRequest.class, QueryRequest::tableName, QueryRequest::indexName, this::query));
    }

    /** An operation on one table named by TableName (a name or the table's ARN), authorized on the table's ARN. */
    private <Q> Operation<Q> onTable(String name, Class<Q> type, Function<Q, String> table, Operation.Handler<Q> handler) {
        return Operation.of(DYNAMODB, name, type, (caller, r) -> tableArn(nameOf(table.apply(r))), handler);
    }

    /** A Scan or Query, authorized on the index's ARN when it reads an index. */
    private <Q> Operation<Q> onIndex(String name, Class<Q> type, Function<Q, String> table, Function<Q, String> index,
                                     Operation.Handler<Q> handler) {
        return Operation.of(DYNAMODB, name, type, (caller, r) -> {
            String arn = tableArn(nameOf(table.apply(r)));
            String indexName = index.apply(r);
            new Validation().length("indexName", indexName, 3, 255).pattern("indexName", indexName, TABLE_NAME).check();
            return indexName == null ? arn : arn + "/index/" + indexName;
        }, handler);
    }

    private String tableArn(String tableName) {
        return "arn:aws:dynamodb:" + region + ":" + accountId + ":table/" + tableName;
    }

    /** The table a TableName names: a name, or the ARN of a table of this region and account. */
    private String nameOf(String tableName) {
        new Validation().required("tableName", tableName).length("tableName", tableName, 1, 1024).check();
        String name = tableName.startsWith("arn:") ? tableOfArn(tableName) : tableName;
        new Validation().length("tableName", name, 3, 255).pattern("tableName", name, TABLE_NAME).check();
        return name;
    }

    private String tableOfArn(String arn) {
        String prefix = tableArn("");
        if (arn == null || !arn.startsWith(prefix) || arn.length() == prefix.length() || arn.indexOf('/', prefix.length()) >= 0) {
            throw AwsError.ValidationException.exception("Invalid TableArn: Invalid ResourceArn provided as input " + arn);
        }
        return arn.substring(prefix.length());
    }

    private <T> CompletionStage<T> ask(String tableName, Function<ActorRef<StatusReply<T>>, TableEntity.Command> command) {
        return Futures.direct(sharding.entityRefFor(TableEntity.ENTITY_KEY, tableName).askWithStatus(command::apply, askTimeout));
    }

    private CompletionStage<Done> catalog(Function<ActorRef<StatusReply<Done>>, TableCatalog.Command> command) {
        return Futures.direct(TableCatalog.ref(system, accountId).askWithStatus(command::apply, askTimeout));
    }

    /**
     * What a table entity's refusal says of the table: there ("Table already exists"), not there ("Table is
     * being deleted", not found), or nothing (a time-out, an internal failure): null.
     */
    private static Boolean tableExists(String name, Throwable failure) {
        ApiException refused = ApiException.of(failure);
        String message = refused.getMessage() == null ? "" : refused.getMessage();
        return message.endsWith(TableEntity.EXISTS + name) ? Boolean.TRUE
                : message.endsWith(TableEntity.DELETING + name) || refused.error() == AwsError.ResourceNotFoundException
                ? Boolean.FALSE : null;
    }

    /**
     * The catalogue (ListTables, the table limit) is told after the table's entity, so a node that stops
     * or an ask that times out in between leaves it behind the entity. The client retries, and the
     * entity's refusal says where the table stands: it exists (a lost Add), or is absent or being
     * deleted (a lost Remove). The catalogue is put right by it before the refusal is answered. (A
     * DeleteTable of a table being deleted is no refusal: it is answered as the first was, Remove and all.)
     */
    private <T> CompletionStage<T> catalogued(String name, Throwable failure) {
        ApiException refused = ApiException.of(failure);
        Boolean exists = tableExists(name, failure);
        if (exists == null) return CompletableFuture.failedStage(failure);
        return catalog(replyTo -> exists ? new TableCatalog.Add(name, replyTo) : new TableCatalog.Remove(name, replyTo))
                .handle((done, ignored) -> { throw new java.util.concurrent.CompletionException(refused); });
    }

    // ---- tables

    private CompletionStage<?> createTable(Caller caller, CreateTableRequest r, String arn) {
        String name = nameOf(r.tableName());
        new Validation().required("attributeDefinitions", r.attributeDefinitions()).required("keySchema", r.keySchema())
                .size("keySchema", r.keySchema(), 1, 2)
                .oneOf("billingMode", r.billingMode(), List.of("PROVISIONED", "PAY_PER_REQUEST"))
                .oneOf("tableClass", r.tableClass(), List.of("STANDARD", "STANDARD_INFREQUENT_ACCESS"))
                .size("tags", r.tags(), 1, 50).check();
        if (r.localSecondaryIndexes() != null && !r.localSecondaryIndexes().isEmpty()) {
            throw AwsError.ValidationException.exception("Sluice does not support LocalSecondaryIndexes; use a GlobalSecondaryIndex.");
        }
        Map<String, String> types = attributeTypes(r.attributeDefinitions());
        TableSchema.KeyAttribute[] key = keySchema(r.keySchema(), types, null);
        String billing = r.billingMode() == null ? TableSchema.PROVISIONED : r.billingMode();
        long[] capacity = capacity(billing, r.provisionedThroughput());
        Set<String> used = new HashSet<>();
        used.add(key[0].name());
        if (key[1] != null) used.add(key[1].name());
        List<TableSchema.Index> indexes = new ArrayList<>();
        for (GlobalSecondaryIndex g : r.globalSecondaryIndexes() == null ? List.<GlobalSecondaryIndex>of() : r.globalSecondaryIndexes()) {
            TableSchema.Index index = index(g.indexName(), g.keySchema(), g.projection(), g.provisionedThroughput(), types, billing);
            if (indexes.stream().anyMatch(i -> i.name().equals(index.name()))) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: Duplicate index name: " + index.name());
            }
            indexes.add(index);
            used.add(index.hash().name());
            if (index.range() != null) used.add(index.range().name());
        }
        if (!used.equals(types.keySet())) {
            throw AwsError.ValidationException.exception("One or more parameter values were invalid: Number of attributes in KeySchema "
                    + "does not exactly match number of attributes defined in AttributeDefinitions");
        }
        Map<String, String> tags = new LinkedHashMap<>();
        if (r.tags() != null) r.tags().forEach(t -> tags.put(t.key(), t.value()));
        long now = clock.millis();
        TableSchema schema = new TableSchema(name, UUID.randomUUID().toString(), now, key[0], key[1], billing, capacity[0],
                capacity[1], now, Boolean.TRUE.equals(r.deletionProtectionEnabled()), List.copyOf(indexes), Map.copyOf(tags),
                false, 0, r.tableClass() == null ? "STANDARD" : r.tableClass());
        // the place is held for as long as the two asks after it may take
        long holdFor = askTimeout.toMillis() * 3;
        return catalog(replyTo -> new TableCatalog.Reserve(name, tableLimit, holdFor, replyTo))
                .thenCompose(reserved -> this.<TableView>ask(name, replyTo -> new TableEntity.Create(schema, replyTo))
                        // catalogued: the refusal's Add or Remove also ends the reservation; after a time-out (the
                        // table may have been made) the place is held until it lapses
                        .exceptionallyCompose(failure -> catalogued(name, failure)))
                .thenCompose(view -> catalog(replyTo -> new TableCatalog.Add(name, replyTo))
                        .thenApply(d -> new TableDescriptionResponse(describe(view))));
    }

    private static Map<String, String> attributeTypes(List<AttributeDefinition> definitions) {
        Map<String, String> types = new LinkedHashMap<>();
        for (AttributeDefinition d : definitions) {
            new Validation().required("attributeDefinitions.member.attributeName", d.attributeName())
                    .length("attributeDefinitions.member.attributeName", d.attributeName(), 1, 255)
                    .required("attributeDefinitions.member.attributeType", d.attributeType())
                    .oneOf("attributeDefinitions.member.attributeType", d.attributeType(), KEY_TYPES).check();
            if (types.put(d.attributeName(), d.attributeType()) != null) {
                throw AwsError.ValidationException.exception("Cannot have two attributes with the same name");
            }
        }
        return types;
    }

    /** A key schema: HASH first, then an optional RANGE, each defined in AttributeDefinitions. */
    private static TableSchema.KeyAttribute[] keySchema(List<KeySchemaElement> elements, Map<String, String> types, String indexName) {
        new Validation().size("keySchema", elements, 1, 2).check();
        String where = indexName == null ? "" : " for index " + indexName;
        for (KeySchemaElement e : elements) {
            new Validation().required("keySchema.member.attributeName", e.attributeName())
                    .length("keySchema.member.attributeName", e.attributeName(), 1, 255)
                    .required("keySchema.member.keyType", e.keyType())
                    .oneOf("keySchema.member.keyType", e.keyType(), List.of("HASH", "RANGE")).check();
        }
        if (!elements.get(0).keyType().equals("HASH")) {
            throw AwsError.ValidationException.exception("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
        }
        if (elements.size() == 2 && !elements.get(1).keyType().equals("RANGE")) {
            throw AwsError.ValidationException.exception("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
        }
        if (elements.size() == 2 && elements.get(0).attributeName().equals(elements.get(1).attributeName())) {
            throw AwsError.ValidationException.exception("Both the Hash Key and the Range Key element in the KeySchema have the same name");
        }
        TableSchema.KeyAttribute[] out = new TableSchema.KeyAttribute[2];
        for (int i = 0; i < elements.size(); i++) {
            String name = elements.get(i).attributeName();
            String type = types.get(name);
            if (type == null) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: Some index key attributes are "
                        + "not defined in AttributeDefinitions. Keys: " + elements.stream().map(KeySchemaElement::attributeName).toList()
                        + ", AttributeDefinitions: " + List.copyOf(types.keySet()) + where);
            }
            out[i] = new TableSchema.KeyAttribute(name, type);
        }
        return out;
    }

    private static long[] capacity(String billing, ProvisionedThroughput throughput) {
        if (billing.equals(TableSchema.PAY_PER_REQUEST)) {
            if (throughput != null && (throughput.readCapacityUnits() != null || throughput.writeCapacityUnits() != null)) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                        + "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
            }
            return new long[] {0, 0};
        }
        if (throughput == null || throughput.readCapacityUnits() == null || throughput.writeCapacityUnits() == null) {
            throw AwsError.ValidationException.exception("One or more parameter values were invalid: ReadCapacityUnits and "
                    + "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
        }
        new Validation().range("provisionedThroughput.readCapacityUnits", throughput.readCapacityUnits(), 1, Long.MAX_VALUE)
                .range("provisionedThroughput.writeCapacityUnits", throughput.writeCapacityUnits(), 1, Long.MAX_VALUE).check();
        return new long[] {throughput.readCapacityUnits(), throughput.writeCapacityUnits()};
    }

    private static TableSchema.Index index(String name, List<KeySchemaElement> keySchema, Projection projection,
                                           ProvisionedThroughput throughput, Map<String, String> types, String billing) {
        new Validation().required("indexName", name).length("indexName", name, 3, 255).pattern("indexName", name, TABLE_NAME)
                .required("keySchema", keySchema).required("projection", projection).check();
        new Validation().oneOf("projection.projectionType", projection.projectionType(), List.of("ALL", "KEYS_ONLY", "INCLUDE")).check();
        TableSchema.KeyAttribute[] key = keySchema(keySchema, types, name);
        long[] capacity = capacity(billing, throughput);
        String projectionType = projection.projectionType() == null ? "ALL" : projection.projectionType();
        List<String> nonKey = projection.nonKeyAttributes() == null ? List.of() : List.copyOf(projection.nonKeyAttributes());
        if (!projectionType.equals("INCLUDE") && !nonKey.isEmpty()) {
            throw AwsError.ValidationException.exception("One or more parameter values were invalid: "
                    + "ProjectionType is " + projectionType + ", but NonKeyAttributes is specified");
        }
        return new TableSchema.Index(name, key[0], key[1], projectionType, nonKey, capacity[0], capacity[1]);
    }

    private CompletionStage<?> updateTable(Caller caller, UpdateTableRequest r, String arn) {
        String name = nameOf(r.tableName());
        new Validation().oneOf("billingMode", r.billingMode(), List.of("PROVISIONED", "PAY_PER_REQUEST")).check();
        List<GlobalSecondaryIndexUpdate> updates = r.globalSecondaryIndexUpdates() == null ? List.of() : r.globalSecondaryIndexUpdates();
        for (GlobalSecondaryIndexUpdate u : updates) {
            int actions = (u.create() != null ? 1 : 0) + (u.delete() != null ? 1 : 0) + (u.update() != null ? 1 : 0);
            if (actions == 0) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: "
                        + "One of GlobalSecondaryIndexUpdate.Update, Create, Delete must not be null");
            }
            if (actions > 1) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: "
                        + "Only one of GlobalSecondaryIndexUpdate.Update, Create, Delete can be specified");
            }
        }
        // AWS builds or drops one index at a time: two Creates or Deletes in one request are refused as a limit
        // (any number of Update actions may come along; the index is never CREATING here, see TableEntity)
        if (updates.stream().filter(u -> u.create() != null || u.delete() != null).count() > 1) {
            throw AwsError.LimitExceededException.exception("Subscriber limit exceeded: Only 1 online index can be created or deleted "
                    + "simultaneously per table");
        }
        if (updates.isEmpty() && r.billingMode() == null && r.provisionedThroughput() == null && r.deletionProtectionEnabled() == null
                && r.tableClass() == null) {
            throw AwsError.ValidationException.exception("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                    + "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
        }
        Long read = r.provisionedThroughput() == null ? null : r.provisionedThroughput().readCapacityUnits();
        Long write = r.provisionedThroughput() == null ? null : r.provisionedThroughput().writeCapacityUnits();
        if (TableSchema.PAY_PER_REQUEST.equals(r.billingMode()) && (read != null || write != null)) {
            capacity(TableSchema.PAY_PER_REQUEST, r.provisionedThroughput());
        }
        return this.<TableView>ask(name, TableEntity.Describe::new).thenCompose(current -> {
            TableSchema.Index create = null;
            String delete = null;
            for (GlobalSecondaryIndexUpdate u : updates) {
                if (u.create() != null) {
                    Map<String, String> types = new LinkedHashMap<>(current.schema().attributeDefinitions());
                    if (r.attributeDefinitions() != null) types.putAll(attributeTypes(r.attributeDefinitions()));
                    String billing = r.billingMode() != null ? r.billingMode() : current.schema().billingMode();
                    create = index(u.create().indexName(), u.create().keySchema(), u.create().projection(),
                            u.create().provisionedThroughput(), types, billing);
                } else if (u.delete() != null) {
                    new Validation().required("globalSecondaryIndexUpdates.member.delete.indexName", u.delete().indexName()).check();
                    delete = u.delete().indexName();
                }
            }
            TableSchema.Index newIndex = create;
            String dropIndex = delete;
            return this.<TableView>ask(name, replyTo -> new TableEntity.Update(r.deletionProtectionEnabled(), r.billingMode(),
                    read, write, newIndex, dropIndex, clock.millis(), replyTo));
        }).thenApply(view -> new TableDescriptionResponse(describe(view)));
    }

    private CompletionStage<?> deleteTable(Caller caller, TableNameRequest r, String arn) {
        String name = nameOf(r.tableName());
        return this.<TableView>ask(name, TableEntity.Delete::new)
                .exceptionallyCompose(failure -> catalogued(name, failure))
                .thenCompose(view -> catalog(replyTo -> new TableCatalog.Remove(name, replyTo))
                        .thenApply(d -> new TableDescriptionResponse(describe(view))));
    }

    private CompletionStage<?> listTables(Caller caller, ListTablesRequest r, String arn) {
        new Validation().range("limit", r.limit(), 1, 100).length("exclusiveStartTableName", r.exclusiveStartTableName(), 3, 255)
                .pattern("exclusiveStartTableName", r.exclusiveStartTableName(), TABLE_NAME).check();
        int limit = r.limit() == null ? 100 : r.limit();
        return Futures.direct(TableCatalog.ref(system, accountId).<TableCatalog.State>ask(TableCatalog.ListAll::new, askTimeout))
                .thenApply(listing -> {
                    Page<String> page = Page.after(listing.tables(), n -> n, r.exclusiveStartTableName(), limit);
                    return new ListTablesResponse(page.items(), page.more() ? page.items().get(page.items().size() - 1) : null);
                });
    }

    private CompletionStage<?> tagResource(Caller caller, TagResourceRequest r, String arn) {
        String table = tableOfArn(r.resourceArn());
        if (r.tags().isEmpty()) {
            throw AwsError.ValidationException.exception("Atleast one Tag needs to be provided as Input.");
        }
        Map<String, String> tags = new LinkedHashMap<>();
        for (Tag t : r.tags()) {
            new Validation().required("tags.member.key", t.key()).length("tags.member.key", t.key(), 1, 128)
                    .required("tags.member.value", t.value()).length("tags.member.value", t.value(), 0, 256).check();
            tags.put(t.key(), t.value());
        }
        return tagged(r.resourceArn(), this.<TableView>ask(table, replyTo -> new TableEntity.ChangeTags(tags, List.of(), replyTo)))
                .thenApply(v -> EMPTY);
    }

    private CompletionStage<?> untagResource(Caller caller, UntagResourceRequest r, String arn) {
        String table = tableOfArn(r.resourceArn());
        if (r.tagKeys().isEmpty()) {
            throw AwsError.ValidationException.exception("Atleast one Tag Key needs to be provided as Input.");
        }
        // AWS names nothing here, unlike TagResource and ListTagsOfResource
        return this.<TableView>ask(table, replyTo -> new TableEntity.ChangeTags(Map.of(), r.tagKeys(), replyTo)).thenApply(v -> EMPTY);
    }

    /** TagResource and ListTagsOfResource say which ARN names no table in AWS's words (sic: "ResourcArn"). */
    private static <T> CompletionStage<T> tagged(String arn, CompletionStage<T> call) {
        return call.exceptionallyCompose(failure -> {
            if (ApiException.of(failure).error() != AwsError.ResourceNotFoundException) return CompletableFuture.failedStage(failure);
            return CompletableFuture.failedStage(AwsError.ResourceNotFoundException.exception(
                    "Requested resource not found: ResourcArn: " + arn + " not found"));
        });
    }

    private static List<Tag> tags(Map<String, String> tags) {
        List<Tag> out = new ArrayList<>();
        new java.util.TreeMap<>(tags).forEach((k, v) -> out.add(new Tag(k, v)));
        return out;
    }

    private CompletionStage<?> updateBackups(Caller caller, UpdateContinuousBackupsRequest r, String arn) {
        PointInTimeRecoverySpecification spec = r.pointInTimeRecoverySpecification();
        new Validation().required("pointInTimeRecoverySpecification", spec).check();
        new Validation().required("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled", spec.pointInTimeRecoveryEnabled())
                .range("pointInTimeRecoverySpecification.recoveryPeriodInDays", spec.recoveryPeriodInDays(), 1, 35).check();
        int days = spec.recoveryPeriodInDays() == null ? 35 : spec.recoveryPeriodInDays();
        return this.<TableView>ask(nameOf(r.tableName()),
                replyTo -> new TableEntity.ChangeBackups(spec.pointInTimeRecoveryEnabled(), days, replyTo)).thenApply(this::backups);
    }

    /**
     * Continuous backups as DynamoDB reports them: always ENABLED, with point-in-time recovery as set.
     * Sluice keeps and reports the setting; it does not restore to a point in time.
     */
    private ContinuousBackupsResponse backups(TableView view) {
        TableSchema s = view.schema();
        Instant now = clock.instant();
        PointInTimeRecoveryDescription pitr = s.pointInTimeRecovery()
                ? new PointInTimeRecoveryDescription("ENABLED", s.recoveryPeriodDays(),
                now.minus(Duration.ofDays(s.recoveryPeriodDays())).isBefore(Instant.ofEpochMilli(s.createdAtMillis()))
                        ? Instant.ofEpochMilli(s.createdAtMillis()) : now.minus(Duration.ofDays(s.recoveryPeriodDays())),
                now.minusSeconds(300))
                : new PointInTimeRecoveryDescription("DISABLED", null, null, null);
        return new ContinuousBackupsResponse(new ContinuousBackupsDescription("ENABLED", pitr));
    }

    private TableDescription describe(TableView view) {
        TableSchema s = view.schema();
        List<AttributeDefinition> definitions = new ArrayList<>();
        s.attributeDefinitions().forEach((n, t) -> definitions.add(new AttributeDefinition(n, t)));
        List<GlobalSecondaryIndexDescription> indexes = new ArrayList<>();
        for (TableSchema.Index i : s.indexes()) {
            TableEntity.IndexView stats = view.indexes().getOrDefault(i.name(), new TableEntity.IndexView(0, 0));
            indexes.add(new GlobalSecondaryIndexDescription(i.name(), keySchema(i.hash(), i.range()),
                    new Projection(i.projectionType(), i.nonKeyAttributes().isEmpty() ? null : i.nonKeyAttributes()),
                    view.status().equals("DELETING") ? "DELETING" : "ACTIVE", false,
                    throughput(i.readCapacity(), i.writeCapacity()), stats.sizeBytes(), stats.itemCount(),
                    tableArn(s.name()) + "/index/" + i.name()));
        }
        boolean onDemand = s.billingMode().equals(TableSchema.PAY_PER_REQUEST);
        return new TableDescription(definitions, s.name(), keySchema(s.hash(), s.range()), view.status(),
                Instant.ofEpochMilli(s.createdAtMillis()), throughput(s.readCapacity(), s.writeCapacity()),
                view.sizeBytes(), view.itemCount(), tableArn(s.name()), s.tableId(),
                new BillingModeSummary(s.billingMode(), onDemand ? Instant.ofEpochMilli(s.billingChangedAtMillis()) : null),
                indexes.isEmpty() ? null : indexes, new TableClassSummary(s.tableClass()), s.deletionProtection());
    }

    private static List<KeySchemaElement> keySchema(TableSchema.KeyAttribute hash, TableSchema.KeyAttribute range) {
        return range == null ? List.of(new KeySchemaElement(hash.name(), "HASH"))
                : List.of(new KeySchemaElement(hash.name(), "HASH"), new KeySchemaElement(range.name(), "RANGE"));
    }

    private static ProvisionedThroughputDescription throughput(long read, long write) {
        return new ProvisionedThroughputDescription(null, null, 0L, read, write);
    }

    // ---- items

    private CompletionStage<?> getItem(Caller caller, GetItemRequest r, String arn) {
        new Validation().required("key", r.key()).oneOf("returnConsumedCapacity", r.returnConsumedCapacity(), CAPACITY).check();
        ExpressionRequest expressions = new ExpressionRequest(null, null, r.projectionExpression(), null, null,
                r.expressionAttributeNames(), null, null, null, null, null, null, r.attributesToGet());
        String name = nameOf(r.tableName());
        return this.<TableEntity.Got>ask(name, replyTo -> new TableEntity.Get(r.key(), expressions, replyTo))
                .thenApply(got -> new GetItemResponse(got.item(),
                        consumed(name, r.returnConsumedCapacity(), readUnits(got.bytes(), Boolean.TRUE.equals(r.consistentRead())))));
    }

    private CompletionStage<?> putItem(Caller caller, PutItemRequest r, String arn) {
        new Validation().required("item", r.item()).oneOf("returnValues", r.returnValues(), RETURN_VALUES).check();
        requireAtMostOld(r.returnValues());
        ExpressionRequest expressions = new ExpressionRequest(r.conditionExpression(), null, null, null, null,
                r.expressionAttributeNames(), r.expressionAttributeValues(), r.expected(), null, null, null,
                r.conditionalOperator(), null);
        return write(r.tableName(), Expressions.Kind.PUT, r.item(), expressions, r.returnValues(),
                r.returnValuesOnConditionCheckFailure(), r.returnConsumedCapacity());
    }

    private CompletionStage<?> updateItem(Caller caller, UpdateItemRequest r, String arn) {
        new Validation().required("key", r.key()).oneOf("returnValues", r.returnValues(), RETURN_VALUES).check();
        ExpressionRequest expressions = new ExpressionRequest(r.conditionExpression(), r.updateExpression(), null, null, null,
                r.expressionAttributeNames(), r.expressionAttributeValues(), r.expected(), r.attributeUpdates(), null, null,
                r.conditionalOperator(), null);
        return write(r.tableName(), Expressions.Kind.UPDATE, r.key(), expressions, r.returnValues(),
                r.returnValuesOnConditionCheckFailure(), r.returnConsumedCapacity());
    }

    private CompletionStage<?> deleteItem(Caller caller, DeleteItemRequest r, String arn) {
        new Validation().required("key", r.key()).oneOf("returnValues", r.returnValues(), RETURN_VALUES).check();
        requireAtMostOld(r.returnValues());
        ExpressionRequest expressions = new ExpressionRequest(r.conditionExpression(), null, null, null, null,
                r.expressionAttributeNames(), r.expressionAttributeValues(), r.expected(), null, null, null,
                r.conditionalOperator(), null);
        return write(r.tableName(), Expressions.Kind.DELETE, r.key(), expressions, r.returnValues(),
                r.returnValuesOnConditionCheckFailure(), r.returnConsumedCapacity());
    }

    private static final List<String> CAPACITY = List.of("INDEXES", "TOTAL", "NONE");
    private static final List<String> RETURN_VALUES = List.of("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW");

    /** PutItem and DeleteItem can return only the old item; the rest of the enum passes the shape check and is refused so. */
    private static void requireAtMostOld(String returnValues) {
        if (returnValues != null && !returnValues.equals("NONE") && !returnValues.equals("ALL_OLD")) {
            throw AwsError.ValidationException.exception("Return values set to invalid value");
        }
    }

    /** PutItem, UpdateItem and DeleteItem: one command to the table; a failed condition is ConditionalCheckFailedException. */
    private CompletionStage<?> write(String tableName, Expressions.Kind kind, Map<String, AttributeValue> keyOrItem,
                                     ExpressionRequest expressions, String returnValues, String onFailure, String capacity) {
        new Validation().oneOf("returnValuesOnConditionCheckFailure", onFailure, List.of("ALL_OLD", "NONE"))
                .oneOf("returnConsumedCapacity", capacity, CAPACITY).check();
        String name = nameOf(tableName);
        return this.<TableEntity.Written>ask(name, replyTo -> new TableEntity.Write(kind, keyOrItem, expressions,
                returnValues, onFailure, replyTo)).thenApply(written -> {
            if (written.conditionFailed()) {
                var failed = AwsError.ConditionalCheckFailedException.exception("The conditional request failed");
                throw written.attributes() == null ? failed : failed.with("Item", written.attributes());
            }
            return new WriteItemResponse(written.attributes(), consumed(name, capacity, writeUnits(written.bytes())));
        });
    }

    private CompletionStage<?> scan(Caller caller, ScanRequest r, String arn) {
        new Validation().range("limit", r.limit(), 1, Integer.MAX_VALUE).range("totalSegments", r.totalSegments(), 1, 1_000_000)
                .range("segment", r.segment(), 0, 999_999).oneOf("select", r.select(), SELECT)
                .oneOf("returnConsumedCapacity", r.returnConsumedCapacity(), CAPACITY).check();
        if (r.segment() != null && r.totalSegments() == null) {
            throw AwsError.ValidationException.exception("The TotalSegments parameter is required but was not present in the request "
                    + "when Segment parameter is present");
        }
        if (r.totalSegments() != null && r.segment() == null) {
            throw AwsError.ValidationException.exception("The Segment parameter is required but was not present in the request "
                    + "when parameter TotalSegments is present");
        }
        if (r.segment() != null && r.segment() >= r.totalSegments()) {
            throw AwsError.ValidationException.exception("The Segment parameter is zero-based and must be less than parameter "
                    + "TotalSegments: Segment: " + r.segment() + " is not less than TotalSegments: " + r.totalSegments());
        }
        requireConsistentOnTable(r.indexName(), r.consistentRead());
        ExpressionRequest expressions = new ExpressionRequest(null, null, r.projectionExpression(), null, r.filterExpression(),
                r.expressionAttributeNames(), r.expressionAttributeValues(), null, null, null, r.scanFilter(),
                r.conditionalOperator(), r.attributesToGet());
        String name = nameOf(r.tableName());
        return this.<TableEntity.ReadPage>ask(name, replyTo -> new TableEntity.Read(false, r.indexName(), expressions, true,
                        r.exclusiveStartKey(), r.limit() == null ? Integer.MAX_VALUE : r.limit(), r.segment(), r.totalSegments(),
                        "COUNT".equals(r.select()), replyTo))
                .thenApply(page -> items(name, page, r.select(), r.returnConsumedCapacity(), Boolean.TRUE.equals(r.consistentRead())));
    }

    private CompletionStage<?> query(Caller caller, QueryRequest r, String arn) {
        new Validation().range("limit", r.limit(), 1, Integer.MAX_VALUE).oneOf("select", r.select(), SELECT)
                .oneOf("returnConsumedCapacity", r.returnConsumedCapacity(), CAPACITY).check();
        requireConsistentOnTable(r.indexName(), r.consistentRead());
        if (r.keyConditionExpression() == null && r.keyConditions() == null) {
            throw AwsError.ValidationException.exception("Either the KeyConditions or KeyConditionExpression parameter must be specified "
                    + "in the request.");
        }
        ExpressionRequest expressions = new ExpressionRequest(null, null, r.projectionExpression(), r.keyConditionExpression(),
                r.filterExpression(), r.expressionAttributeNames(), r.expressionAttributeValues(), null, null, r.keyConditions(),
                r.queryFilter(), r.conditionalOperator(), r.attributesToGet());
        String name = nameOf(r.tableName());
        return this.<TableEntity.ReadPage>ask(name, replyTo -> new TableEntity.Read(true, r.indexName(), expressions,
                        r.scanIndexForward() == null || r.scanIndexForward(), r.exclusiveStartKey(),
                        r.limit() == null ? Integer.MAX_VALUE : r.limit(), null, null, "COUNT".equals(r.select()), replyTo))
                .thenApply(page -> items(name, page, r.select(), r.returnConsumedCapacity(), Boolean.TRUE.equals(r.consistentRead())));
    }

    private static final List<String> SELECT = List.of("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT");

    private static void requireConsistentOnTable(String indexName, Boolean consistentRead) {
        if (indexName != null && Boolean.TRUE.equals(consistentRead)) {
            throw AwsError.ValidationException.exception("Consistent reads are not supported on global secondary indexes");
        }
    }

    private ItemsResponse items(String table, TableEntity.ReadPage page, String select, String capacity, boolean consistent) {
        return new ItemsResponse("COUNT".equals(select) ? null : page.items(), page.count(), page.scannedCount(),
                page.lastEvaluatedKey(), consumed(table, capacity, readUnits(page.bytes(), consistent)));
    }

    /** Capacity units as DynamoDB counts them: reads per 4 KB (half for eventually consistent), writes per 1 KB. */
    private static double readUnits(long bytes, boolean consistent) {
        return Math.max(1, (bytes + 4095) / 4096) * (consistent ? 1.0 : 0.5);
    }

    private static double writeUnits(long bytes) {
        return Math.max(1, (bytes + 1023) / 1024);
    }

    private static ConsumedCapacity consumed(String table, String returnConsumedCapacity, double units) {
        return returnConsumedCapacity == null || returnConsumedCapacity.equals("NONE") ? null : new ConsumedCapacity(table, units);
    }
}
