package io.sluice.node.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.*;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every DynamoDB refusal the node has, sent through the AWS SDK for Java v2 (no retries, so each is sent
 * once): its error code, HTTP status and AWS's wording, and that nothing changed (DescribeTable, a
 * consistent Scan, the tags and ListTables read the same after). One node for all: an account limit of
 * 3 tables, and a deleted table that stays DELETING for the whole run, so that what a table being
 * deleted answers can be asked at leisure.
 *
 * <p>Wordings: dynalite (tested against live DynamoDB) for the tag, index-limit and PROVISIONED ones;
 * ScyllaDB's Alternator tests (also run against AWS) for which UpdateTable index requests are refused
 * with what code; a lab's probes of AWS (ack-api-quirks) for the unknown index; the botocore model for
 * DeleteTable of a DELETING table ("no error is returned") and ConsistentRead on an index.
 */
class DynamoDbRefusalTest {
    static final int TABLE_LIMIT = 3;
    static final String SUBJECT = "subject";
    static TestNode node;
    static DynamoDbClient ddb;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), "sluice.dynamodb.table-limit = " + TABLE_LIMIT + "\n"
                + "sluice.dynamodb.delete-delay = 10 minutes").start();
        ddb = DynamoDbClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
        // the lease table shape with its owner index, created with a tag (CreateTable's Tags)
        ddb.createTable(b -> b.tableName(SUBJECT)
                .keySchema(key("leaseKey", KeyType.HASH))
                .attributeDefinitions(attribute("leaseKey"), attribute("leaseOwner"))
                .globalSecondaryIndexes(GlobalSecondaryIndex.builder().indexName("byOwner").keySchema(key("leaseOwner", KeyType.HASH))
                        .projection(p -> p.projectionType(ProjectionType.KEYS_ONLY)).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .tags(Tag.builder().key("team").value("streams").build()));
        ddb.putItem(b -> b.tableName(SUBJECT).item(Map.of("leaseKey", s("shard-0"), "leaseOwner", s("worker-a"))));
    }

    @AfterAll
    static void stop() {
        if (ddb != null) ddb.close();
        if (node != null) node.close();
    }

    static AttributeValue s(String v) {
        return AttributeValue.builder().s(v).build();
    }

    static KeySchemaElement key(String name, KeyType type) {
        return KeySchemaElement.builder().attributeName(name).keyType(type).build();
    }

    static AttributeDefinition attribute(String name) {
        return AttributeDefinition.builder().attributeName(name).attributeType(ScalarAttributeType.S).build();
    }

    static String arn(String table) {
        return "arn:aws:dynamodb:us-east-1:000000000000:table/" + table;
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static void createTable(String name) {
        ddb.createTable(b -> b.tableName(name).keySchema(key("leaseKey", KeyType.HASH)).attributeDefinitions(attribute("leaseKey"))
                .billingMode(BillingMode.PAY_PER_REQUEST));
    }

    static List<String> tableNames() {
        return new ArrayList<>(ddb.listTablesPaginator(b -> b.limit(100)).tableNames().stream().toList());
    }

    /** What a client can see of a table and the account: it must read the same before and after a refusal. */
    record Seen(TableDescription table, List<Map<String, AttributeValue>> items, List<Tag> tags, List<String> tables) {}

    static Seen seen(String table) {
        return new Seen(ddb.describeTable(b -> b.tableName(table)).table(),
                ddb.scan(b -> b.tableName(table).consistentRead(true)).items(),
                ddb.listTagsOfResource(b -> b.resourceArn(arn(table))).tags(), tableNames());
    }

    static DynamoDbException refused(String code, String message, Executable call) {
        DynamoDbException e = assertThrows(DynamoDbException.class, call);
        assertEquals(code, e.awsErrorDetails().errorCode(), e::toString);
        assertEquals(400, e.statusCode(), e::toString);
        assertEquals(message, e.awsErrorDetails().errorMessage());
        return e;
    }

    /** Refused so, and the subject table and the account read the same after. */
    static void refusedOnSubject(String code, String message, Executable call) {
        Seen before = seen(SUBJECT);
        refused(code, message, call);
        assertEquals(before, seen(SUBJECT), "a refusal changed nothing: " + message);
    }

    /** A CreateTable refused so leaves no table behind, listed or not. */
    static void refusedCreate(String name, String code, String message, Executable call) {
        List<String> before = tableNames();
        refused(code, message, call);
        refused("ResourceNotFoundException", "Requested resource not found: Table: " + name + " not found",
                () -> ddb.describeTable(b -> b.tableName(name)));
        assertEquals(before, tableNames());
    }

    @Test
    void theAccountsTableLimitIsHeldOnePlaceAtATime() throws Exception {
        String limited = "Subscriber limit exceeded: Table limit of " + TABLE_LIMIT + " tables per account exceeded";
        List<String> made = new ArrayList<>();
        try {
            for (int i = tableNames().size(); i < TABLE_LIMIT; i++) {
                String name = unique("filler");
                createTable(name);
                made.add(name);
            }
            String over = unique("over");
            refusedCreate(over, "LimitExceededException", limited, () -> createTable(over));
            // a table that exists is told so, limit or not
            refused("ResourceInUseException", "Attempt to change a resource which is still in use: Table already exists: " + SUBJECT,
                    () -> createTable(SUBJECT));

            // a deleted table gives its place back at once, while it is still DELETING
            String freed = made.remove(0);
            assertEquals(TableStatus.DELETING, ddb.deleteTable(b -> b.tableName(freed)).tableDescription().tableStatus());
            assertFalse(tableNames().contains(freed));
            createTable(over);
            made.add(over);
            assertEquals(TABLE_LIMIT, tableNames().size());
            String another = unique("another");
            refusedCreate(another, "LimitExceededException", limited, () -> createTable(another));

            // six CreateTables race for one free place: one has it, the others are refused
            String last = made.remove(0);
            ddb.deleteTable(b -> b.tableName(last));
            List<String> racers = new ArrayList<>();
            for (int i = 0; i < 6; i++) racers.add(unique("racer" + i));
            ExecutorService pool = Executors.newFixedThreadPool(racers.size());
            CountDownLatch ready = new CountDownLatch(racers.size());
            List<Future<String>> outcomes = new ArrayList<>();
            try {
                for (String racer : racers) {
                    outcomes.add(pool.submit(() -> {
                        ready.countDown();
                        ready.await(10, TimeUnit.SECONDS);
                        try {
                            createTable(racer);
                            return "created";
                        } catch (DynamoDbException e) {
                            return e.awsErrorDetails().errorCode() + ": " + e.awsErrorDetails().errorMessage();
                        }
                    }));
                }
                List<String> created = new ArrayList<>();
                for (int i = 0; i < racers.size(); i++) {
                    String outcome = outcomes.get(i).get(60, TimeUnit.SECONDS);
                    if (outcome.equals("created")) {
                        created.add(racers.get(i));
                    } else {
                        assertEquals("LimitExceededException: " + limited, outcome);
                    }
                }
                made.addAll(created);
                assertEquals(1, created.size(), "exactly one CreateTable had the last place: " + created);
            } finally {
                pool.shutdownNow();
            }

            // a table made and deleted with no other CreateTable between leaves no place held behind it
            String gone = made.remove(0);
            ddb.deleteTable(b -> b.tableName(gone));
            String brief = unique("brief");
            createTable(brief);
            ddb.deleteTable(b -> b.tableName(brief));
            String after = unique("after");
            createTable(after);
            made.add(after);
            List<String> listed = tableNames();
            assertEquals(TABLE_LIMIT, listed.size(), listed::toString);
            for (String racer : racers) {
                if (!made.contains(racer)) {
                    refused("ResourceNotFoundException", "Requested resource not found: Table: " + racer + " not found",
                            () -> ddb.describeTable(b -> b.tableName(racer)));
                }
            }
        } finally {
            for (String name : made) ddb.deleteTable(b -> b.tableName(name));
        }
    }

    /**
     * AWS builds or drops one index of a table at a time, and refuses a second while the first is CREATING
     * or DELETING. Here an index is built (or dropped) by the command that asks for it and is ACTIVE at
     * once, so that state never shows; what remains is two Creates or Deletes in one UpdateTable.
     */
    @Test
    void updateTableCreatesOrDeletesOneIndexAtATime() {
        String oneAtATime = "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table";
        GlobalSecondaryIndexUpdate createA = GlobalSecondaryIndexUpdate.builder().create(c -> c.indexName("byA")
                .keySchema(key("a", KeyType.HASH)).projection(p -> p.projectionType(ProjectionType.ALL))).build();
        GlobalSecondaryIndexUpdate createB = GlobalSecondaryIndexUpdate.builder().create(c -> c.indexName("byB")
                .keySchema(key("b", KeyType.HASH)).projection(p -> p.projectionType(ProjectionType.ALL))).build();
        refusedOnSubject("LimitExceededException", oneAtATime, () -> ddb.updateTable(b -> b.tableName(SUBJECT)
                .attributeDefinitions(attribute("a"), attribute("b")).globalSecondaryIndexUpdates(createA, createB)));
        refusedOnSubject("LimitExceededException", oneAtATime, () -> ddb.updateTable(b -> b.tableName(SUBJECT)
                .attributeDefinitions(attribute("a")).globalSecondaryIndexUpdates(createA,
                        GlobalSecondaryIndexUpdate.builder().delete(d -> d.indexName("byOwner")).build())));
        // counted before either index is looked for
        refusedOnSubject("LimitExceededException", oneAtATime, () -> ddb.updateTable(b -> b.tableName(SUBJECT)
                .globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder().delete(d -> d.indexName("ghost1")).build(),
                        GlobalSecondaryIndexUpdate.builder().delete(d -> d.indexName("ghost2")).build())));
        // one entry names one action
        refusedOnSubject("ValidationException", "One or more parameter values were invalid: "
                + "Only one of GlobalSecondaryIndexUpdate.Update, Create, Delete can be specified", () -> ddb.updateTable(b -> b
                .tableName(SUBJECT).attributeDefinitions(attribute("a")).globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder()
                        .create(createA.create()).delete(d -> d.indexName("byOwner")).build())));
        refusedOnSubject("ValidationException", "One or more parameter values were invalid: "
                + "One of GlobalSecondaryIndexUpdate.Update, Create, Delete must not be null", () -> ddb.updateTable(b -> b
                .tableName(SUBJECT).globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder().build())));
    }

    @Test
    void updateTableRefusesAnIndexThatExistsOrDoesNot() {
        refusedOnSubject("ValidationException", "One or more parameter values were invalid: Index with name: byOwner already exists",
                () -> ddb.updateTable(b -> b.tableName(SUBJECT).attributeDefinitions(attribute("leaseOwner"))
                        .globalSecondaryIndexUpdates(u -> u.create(c -> c.indexName("byOwner").keySchema(key("leaseOwner", KeyType.HASH))
                                .projection(p -> p.projectionType(ProjectionType.ALL))))));
        refusedOnSubject("ResourceNotFoundException", "Requested resource not found: Index ghost for table " + SUBJECT,
                () -> ddb.updateTable(b -> b.tableName(SUBJECT).globalSecondaryIndexUpdates(u -> u.delete(d -> d.indexName("ghost")))));
        refusedOnSubject("ValidationException", "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                        + "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
                () -> ddb.updateTable(b -> b.tableName(SUBJECT)));
        refusedOnSubject("ValidationException", "One or more parameter values were invalid: "
                        + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
                () -> ddb.updateTable(b -> b.tableName(SUBJECT).billingMode(BillingMode.PROVISIONED)));
    }

    @Test
    void consistentReadsOfAGlobalSecondaryIndexAreRefused() {
        String refusal = "Consistent reads are not supported on global secondary indexes";
        refusedOnSubject("ValidationException", refusal, () -> ddb.query(b -> b.tableName(SUBJECT).indexName("byOwner")
                .consistentRead(true).keyConditionExpression("leaseOwner = :o").expressionAttributeValues(Map.of(":o", s("worker-a")))));
        refusedOnSubject("ValidationException", refusal, () -> ddb.scan(b -> b.tableName(SUBJECT).indexName("byOwner").consistentRead(true)));
        // the same reads, eventually consistent, are served
        assertEquals(1, ddb.query(b -> b.tableName(SUBJECT).indexName("byOwner").keyConditionExpression("leaseOwner = :o")
                .expressionAttributeValues(Map.of(":o", s("worker-a")))).count());
        assertEquals(1, ddb.scan(b -> b.tableName(SUBJECT).indexName("byOwner")).count());
    }

    @Test
    void createTableRefusesWhatItCannotMake() {
        String name = unique("refused");
        refusedCreate(name, "ValidationException", "Sluice does not support LocalSecondaryIndexes; use a GlobalSecondaryIndex.",
                () -> ddb.createTable(b -> b.tableName(name)
                        .keySchema(key("leaseKey", KeyType.HASH), key("checkpoint", KeyType.RANGE))
                        .attributeDefinitions(attribute("leaseKey"), attribute("checkpoint"), attribute("leaseOwner"))
                        .localSecondaryIndexes(LocalSecondaryIndex.builder().indexName("byOwner")
                                .keySchema(key("leaseKey", KeyType.HASH), key("leaseOwner", KeyType.RANGE))
                                .projection(p -> p.projectionType(ProjectionType.ALL)).build())
                        .billingMode(BillingMode.PAY_PER_REQUEST)));
        refusedCreate(name, "ValidationException", "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH), key("j", KeyType.HASH))
                        .attributeDefinitions(attribute("k"), attribute("j")).billingMode(BillingMode.PAY_PER_REQUEST)));
        refusedCreate(name, "ValidationException", "Both the Hash Key and the Range Key element in the KeySchema have the same name",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH), key("k", KeyType.RANGE))
                        .attributeDefinitions(attribute("k")).billingMode(BillingMode.PAY_PER_REQUEST)));
        refusedCreate(name, "ValidationException", "One or more parameter values were invalid: Some index key attributes are not "
                        + "defined in AttributeDefinitions. Keys: [k], AttributeDefinitions: [j]",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH))
                        .attributeDefinitions(attribute("j")).billingMode(BillingMode.PAY_PER_REQUEST)));
        refusedCreate(name, "ValidationException", "Cannot have two attributes with the same name",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH))
                        .attributeDefinitions(attribute("k"), attribute("k")).billingMode(BillingMode.PAY_PER_REQUEST)));
        refusedCreate(name, "ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                        + "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH)).attributeDefinitions(attribute("k"))
                        .billingMode(BillingMode.PAY_PER_REQUEST).provisionedThroughput(t -> t.readCapacityUnits(5L).writeCapacityUnits(5L))));
        GlobalSecondaryIndex owner = GlobalSecondaryIndex.builder().indexName("byOwner").keySchema(key("leaseOwner", KeyType.HASH))
                .projection(p -> p.projectionType(ProjectionType.KEYS_ONLY)).build();
        refusedCreate(name, "ValidationException", "One or more parameter values were invalid: Duplicate index name: byOwner",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH))
                        .attributeDefinitions(attribute("k"), attribute("leaseOwner")).globalSecondaryIndexes(owner, owner)
                        .billingMode(BillingMode.PAY_PER_REQUEST)));
        refusedCreate(name, "ValidationException", "One or more parameter values were invalid: "
                        + "ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified",
                () -> ddb.createTable(b -> b.tableName(name).keySchema(key("k", KeyType.HASH))
                        .attributeDefinitions(attribute("k"), attribute("leaseOwner"))
                        .globalSecondaryIndexes(owner.toBuilder().projection(p -> p.projectionType(ProjectionType.KEYS_ONLY)
                                .nonKeyAttributes("checkpoint")).build())
                        .billingMode(BillingMode.PAY_PER_REQUEST)));
    }

    @Test
    void tagsAreKeptUpToFiftyAndMissingTablesAreNamedInAwssWords() {
        // CreateTable's Tags, as ListTagsOfResource lists them
        assertEquals(List.of(Tag.builder().key("team").value("streams").build()),
                ddb.listTagsOfResource(b -> b.resourceArn(arn(SUBJECT))).tags());
        List<Tag> more = new ArrayList<>();
        List<String> moreKeys = new ArrayList<>();
        for (int i = 0; i < 49; i++) {
            more.add(Tag.builder().key("k" + i).value("v" + i).build());
            moreKeys.add("k" + i);
        }
        ddb.tagResource(b -> b.resourceArn(arn(SUBJECT)).tags(more));
        try {
            assertEquals(50, ddb.listTagsOfResource(b -> b.resourceArn(arn(SUBJECT))).tags().size());
            refusedOnSubject("LimitExceededException", "The number of tags on the resource exceeds the limit of 50.",
                    () -> ddb.tagResource(b -> b.resourceArn(arn(SUBJECT)).tags(Tag.builder().key("fifty-first").value("x").build())));
            // a key already there is given its new value: still 50
            ddb.tagResource(b -> b.resourceArn(arn(SUBJECT)).tags(Tag.builder().key("k0").value("changed").build()));
            List<Tag> now = ddb.listTagsOfResource(b -> b.resourceArn(arn(SUBJECT))).tags();
            assertEquals(50, now.size());
            assertTrue(now.contains(Tag.builder().key("k0").value("changed").build()), now::toString);
        } finally {
            ddb.untagResource(b -> b.resourceArn(arn(SUBJECT)).tagKeys(moreKeys));
        }
        assertEquals(List.of(Tag.builder().key("team").value("streams").build()),
                ddb.listTagsOfResource(b -> b.resourceArn(arn(SUBJECT))).tags());

        refusedOnSubject("ValidationException", "Atleast one Tag needs to be provided as Input.",
                () -> ddb.tagResource(b -> b.resourceArn(arn(SUBJECT)).tags(List.of())));
        refusedOnSubject("ValidationException", "Atleast one Tag Key needs to be provided as Input.",
                () -> ddb.untagResource(b -> b.resourceArn(arn(SUBJECT)).tagKeys(List.of())));
        String notATable = "arn:aws:dynamodb:us-east-1:000000000000:stream/" + SUBJECT;
        refusedOnSubject("ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input " + notATable,
                () -> ddb.tagResource(b -> b.resourceArn(notATable).tags(Tag.builder().key("a").value("b").build())));
        String missing = arn(unique("missing"));
        refusedOnSubject("ResourceNotFoundException", "Requested resource not found: ResourcArn: " + missing + " not found",
                () -> ddb.tagResource(b -> b.resourceArn(missing).tags(Tag.builder().key("a").value("b").build())));
        refusedOnSubject("ResourceNotFoundException", "Requested resource not found: ResourcArn: " + missing + " not found",
                () -> ddb.listTagsOfResource(b -> b.resourceArn(missing)));
        refusedOnSubject("ResourceNotFoundException", "Requested resource not found",
                () -> ddb.untagResource(b -> b.resourceArn(missing).tagKeys("a")));

        // more than 50 at CreateTable is a shape error, before any table is made
        List<Tag> fiftyOne = new ArrayList<>(more);
        fiftyOne.add(Tag.builder().key("team").value("streams").build());
        fiftyOne.add(Tag.builder().key("extra").value("x").build());
        String name = unique("tagged");
        refusedCreate(name, "ValidationException", "1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                + "Member must have length less than or equal to 50", () -> ddb.createTable(b -> b.tableName(name)
                .keySchema(key("leaseKey", KeyType.HASH)).attributeDefinitions(attribute("leaseKey"))
                .billingMode(BillingMode.PAY_PER_REQUEST).tags(fiftyOne)));
    }

    @Test
    void itemRequestsTheSchemaRefusesChangeNothing() {
        refusedOnSubject("ValidationException", "One or more parameter values were invalid: Missing the key leaseKey in the item",
                () -> ddb.putItem(b -> b.tableName(SUBJECT).item(Map.of("leaseOwner", s("worker-b")))));
        refusedOnSubject("ValidationException", "One or more parameter values were invalid: Type mismatch for Index Key leaseOwner "
                        + "Expected: S Actual: N IndexName: byOwner",
                () -> ddb.putItem(b -> b.tableName(SUBJECT).item(Map.of("leaseKey", s("shard-0"),
                        "leaseOwner", AttributeValue.builder().n("1").build()))));
        refusedOnSubject("ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute "
                + "cannot contain an empty string value. Key: leaseKey", () -> ddb.putItem(b -> b.tableName(SUBJECT)
                .item(Map.of("leaseKey", s("")))));
        refusedOnSubject("ValidationException", "Item size to update has exceeded the maximum allowed size",
                () -> ddb.updateItem(b -> b.tableName(SUBJECT).key(Map.of("leaseKey", s("shard-0")))
                        .updateExpression("SET #d = :d").expressionAttributeNames(Map.of("#d", "data"))
                        .expressionAttributeValues(Map.of(":d", s("x".repeat(410 * 1024))))));
        refusedOnSubject("ValidationException", "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                + "in the request.", () -> ddb.query(b -> b.tableName(SUBJECT)));
        refusedOnSubject("ValidationException", "The TotalSegments parameter is required but was not present in the request "
                + "when Segment parameter is present", () -> ddb.scan(b -> b.tableName(SUBJECT).segment(0)));
        refusedOnSubject("ValidationException", "The Segment parameter is required but was not present in the request "
                + "when parameter TotalSegments is present", () -> ddb.scan(b -> b.tableName(SUBJECT).totalSegments(2)));
        refusedOnSubject("ValidationException", "The provided starting key is invalid: The provided key element does not match "
                + "the schema", () -> ddb.scan(b -> b.tableName(SUBJECT).exclusiveStartKey(Map.of("other", s("x")))));
        // the key falls in one of two segments; started from it, the other segment refuses
        Map<String, AttributeValue> start = Map.of("leaseKey", s("shard-0"));
        int refusedSegments = 0;
        for (int segment = 0; segment < 2; segment++) {
            int seg = segment;
            try {
                ddb.scan(b -> b.tableName(SUBJECT).segment(seg).totalSegments(2).exclusiveStartKey(start));
            } catch (DynamoDbException e) {
                assertEquals("The provided Exclusive start key does not map to the provided Segment and TotalSegments values.",
                        e.awsErrorDetails().errorMessage());
                refusedSegments++;
            }
        }
        assertEquals(1, refusedSegments);
    }

    /** A deleted table stays DELETING here for the whole run (delete-delay): what it answers meanwhile. */
    @Test
    void aTableBeingDeletedAnswersAsAwsDoes() {
        String name = unique("leaving");
        createTable(name);
        ddb.putItem(b -> b.tableName(name).item(Map.of("leaseKey", s("shard-0"))));
        assertEquals(TableStatus.DELETING, ddb.deleteTable(b -> b.tableName(name)).tableDescription().tableStatus());
        assertFalse(tableNames().contains(name));
        String inUse = "Attempt to change a resource which is still in use: Table is being deleted: " + name;
        refused("ResourceInUseException", inUse, () -> createTable(name));
        refused("ResourceInUseException", inUse, () -> ddb.updateTable(b -> b.tableName(name).deletionProtectionEnabled(true)));
        // "If table is already in the DELETING state, no error is returned"
        assertEquals(TableStatus.DELETING, ddb.deleteTable(b -> b.tableName(name)).tableDescription().tableStatus());
        Map<String, AttributeValue> key = Map.of("leaseKey", s("shard-0"));
        String notFound = "Requested resource not found";
        refused("ResourceNotFoundException", notFound, () -> ddb.getItem(b -> b.tableName(name).key(key)));
        refused("ResourceNotFoundException", notFound, () -> ddb.putItem(b -> b.tableName(name).item(key)));
        refused("ResourceNotFoundException", notFound, () -> ddb.updateItem(b -> b.tableName(name).key(key)
                .updateExpression("SET leaseOwner = :o").expressionAttributeValues(Map.of(":o", s("worker-a")))));
        refused("ResourceNotFoundException", notFound, () -> ddb.deleteItem(b -> b.tableName(name).key(key)));
        refused("ResourceNotFoundException", notFound, () -> ddb.scan(b -> b.tableName(name)));
        refused("ResourceNotFoundException", notFound, () -> ddb.query(b -> b.tableName(name).keyConditionExpression("leaseKey = :k")
                .expressionAttributeValues(Map.of(":k", s("shard-0")))));
        refused("ResourceNotFoundException", "Requested resource not found: ResourcArn: " + arn(name) + " not found",
                () -> ddb.tagResource(b -> b.resourceArn(arn(name)).tags(Tag.builder().key("a").value("b").build())));
        refused("ResourceNotFoundException", "Requested resource not found: Table: " + name + " not found",
                () -> ddb.updateContinuousBackups(b -> b.tableName(name).pointInTimeRecoverySpecification(p -> p.pointInTimeRecoveryEnabled(true))));
        TableDescription still = ddb.describeTable(b -> b.tableName(name)).table();
        assertEquals(TableStatus.DELETING, still.tableStatus());
        assertEquals(0L, still.itemCount());
        assertFalse(tableNames().contains(name));
    }
}
