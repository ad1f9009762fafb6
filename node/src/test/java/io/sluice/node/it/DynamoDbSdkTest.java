package io.sluice.node.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.*;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The DynamoDB API through the AWS SDK for Java v2 against a real node and Cassandra, as the KCL and
 * the DynamoDB lock client use it: tables with a global secondary index, both condition styles,
 * pagination, every attribute type, the refusals, and tables that outlive a node restart.
 */
class DynamoDbSdkTest {
    static TestNode node;
    static DynamoDbClient ddb;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        ddb = node.dynamoDbClient();
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static AttributeValue s(String v) {
        return AttributeValue.builder().s(v).build();
    }

    static AttributeValue n(String v) {
        return AttributeValue.builder().n(v).build();
    }

    /** A table shaped like the KCL's lease table: hash key leaseKey (S), on demand. */
    static String leaseTable() {
        String name = "leases-" + UUID.randomUUID().toString().substring(0, 8);
        CreateTableResponse created = ddb.createTable(b -> b.tableName(name)
                .keySchema(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST).deletionProtectionEnabled(false));
        assertEquals(TableStatus.ACTIVE, created.tableDescription().tableStatus());
        return name;
    }

    static Map<String, AttributeValue> key(String leaseKey) {
        return Map.of("leaseKey", s(leaseKey));
    }

    /** The account's table catalogue as a node that stopped between the entity and the catalogue left it. */
    static void catalogue(String name, boolean present) throws Exception {
        var system = node.running().system();
        var catalog = io.sluice.node.table.TableCatalog.ref(system, "000000000000");
        java.time.Duration timeout = java.time.Duration.ofSeconds(5);
        (present ? catalog.<org.apache.pekko.Done>askWithStatus(r -> new io.sluice.node.table.TableCatalog.Add(name, r), timeout)
                : catalog.<org.apache.pekko.Done>askWithStatus(r -> new io.sluice.node.table.TableCatalog.Remove(name, r), timeout))
                .toCompletableFuture().get();
    }

    static boolean listed(String name) {
        return ddb.listTablesPaginator(b -> b.limit(100)).tableNames().stream().anyMatch(name::equals);
    }

    /**
     * CreateTable and DeleteTable tell the table first and the account's catalogue (ListTables) after:
     * a node stopping in between leaves the catalogue behind. The client's retry is refused as DynamoDB
     * refuses it (the table exists, or is gone), and puts the catalogue right on the way.
     */
    @Test
    void aRetriedCreateOrDeleteRepairsACatalogueLeftBehind() throws Exception {
        String name = leaseTable();
        catalogue(name, false); // the Add was lost
        assertFalse(listed(name));
        ResourceInUseException exists = assertThrows(ResourceInUseException.class, () -> ddb.createTable(b -> b.tableName(name)
                .keySchema(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)));
        assertTrue(exists.getMessage().contains("Table already exists: " + name), exists.getMessage());
        assertTrue(listed(name), "the retried CreateTable put the table back in ListTables");

        ddb.deleteTable(b -> b.tableName(name));
        catalogue(name, true); // the Remove was lost
        assertTrue(listed(name));
        // the table is still being deleted (answered DELETING again, as AWS answers a DeleteTable of a DELETING
        // table) or already gone (ResourceNotFoundException): either way it is leaving
        try {
            assertEquals(TableStatus.DELETING, ddb.deleteTable(b -> b.tableName(name)).tableDescription().tableStatus());
        } catch (ResourceNotFoundException gone) {
            // erased already
        }
        assertFalse(listed(name), "the retried DeleteTable took the table out of ListTables");

        String never = "never-" + UUID.randomUUID().toString().substring(0, 8);
        catalogue(never, true); // a table whose CreateTable failed after the catalogue heard of it: none does, but
        assertThrows(ResourceNotFoundException.class, () -> ddb.deleteTable(b -> b.tableName(never)));
        assertFalse(listed(never));
    }

    @Test
    void createsAndDescribesATableAsTheKclReadsIt() {
        String name = leaseTable();
        TableDescription t = ddb.describeTable(b -> b.tableName(name)).table();
        assertEquals(TableStatus.ACTIVE, t.tableStatus());
        assertEquals(BillingMode.PAY_PER_REQUEST, t.billingModeSummary().billingMode());
        assertEquals("arn:aws:dynamodb:us-east-1:000000000000:table/" + name, t.tableArn());
        assertEquals(0L, t.tableSizeBytes());
        assertEquals(0L, t.itemCount());
        assertEquals(List.of(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build()), t.keySchema());
        assertFalse(t.deletionProtectionEnabled());

        ResourceInUseException again = assertThrows(ResourceInUseException.class, () -> ddb.createTable(b -> b.tableName(name)
                .keySchema(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)));
        assertTrue(again.getMessage().contains("Table already exists: " + name), again.getMessage());
        ResourceNotFoundException missing = assertThrows(ResourceNotFoundException.class,
                () -> ddb.describeTable(b -> b.tableName("no-such-table")));
        assertTrue(missing.getMessage().startsWith("Requested resource not found: Table: no-such-table not found"), missing.getMessage());
        assertThrows(ResourceNotFoundException.class, () -> ddb.getItem(b -> b.tableName("no-such-table").key(key("a"))));
    }

    @Test
    void refusesBadTableDefinitionsInDynamoDbsWords() {
        DynamoDbException provisionedWithout = assertThrows(DynamoDbException.class, () -> ddb.createTable(b -> b.tableName("bad-one")
                .keySchema(KeySchemaElement.builder().attributeName("k").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("k").attributeType(ScalarAttributeType.S).build())));
        assertEquals("ValidationException", provisionedWithout.awsErrorDetails().errorCode());
        assertTrue(provisionedWithout.getMessage().contains("ReadCapacityUnits and WriteCapacityUnits must both be specified"));
        DynamoDbException unused = assertThrows(DynamoDbException.class, () -> ddb.createTable(b -> b.tableName("bad-two")
                .keySchema(KeySchemaElement.builder().attributeName("k").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("k").attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName("x").attributeType(ScalarAttributeType.N).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)));
        assertTrue(unused.getMessage().contains("does not exactly match number of attributes defined in AttributeDefinitions"));
        DynamoDbException rangeFirst = assertThrows(DynamoDbException.class, () -> ddb.createTable(b -> b.tableName("bad-three")
                .keySchema(KeySchemaElement.builder().attributeName("k").keyType(KeyType.RANGE).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("k").attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)));
        assertTrue(rangeFirst.getMessage().contains("The first KeySchemaElement is not a HASH key type"));
        DynamoDbException shortName = assertThrows(DynamoDbException.class, () -> ddb.describeTable(b -> b.tableName("ab")));
        assertTrue(shortName.getMessage().contains("Member must have length greater than or equal to 3"), shortName.getMessage());
        assertThrows(ResourceNotFoundException.class, () -> ddb.describeTable(b -> b.tableName("bad-one")));
    }

    @Test
    void leaseProtocolWithLegacyExpectedAndAttributeUpdates() {
        String table = leaseTable();
        Map<String, AttributeValue> lease = Map.of("leaseKey", s("shardId-000000000000"), "leaseCounter", n("0"),
                "checkpoint", s("TRIM_HORIZON"), "ownerSwitchesSinceCheckpoint", n("0"));
        Map<String, ExpectedAttributeValue> absent = Map.of("leaseKey", ExpectedAttributeValue.builder().exists(false).build());
        ddb.putItem(b -> b.tableName(table).item(lease).expected(absent));
        assertThrows(ConditionalCheckFailedException.class, () -> ddb.putItem(b -> b.tableName(table).item(lease).expected(absent)));

        // take: counter 0 -> 1, owner set; a second taker expecting counter 0 loses and sees the current item
        UpdateItemResponse taken = ddb.updateItem(b -> b.tableName(table).key(key("shardId-000000000000"))
                .expected(Map.of("leaseCounter", ExpectedAttributeValue.builder().value(n("0")).build()))
                .attributeUpdates(Map.of(
                        "leaseCounter", AttributeValueUpdate.builder().action(AttributeAction.PUT).value(n("1")).build(),
                        "leaseOwner", AttributeValueUpdate.builder().action(AttributeAction.PUT).value(s("worker-a")).build(),
                        "ownerSwitchesSinceCheckpoint", AttributeValueUpdate.builder().action(AttributeAction.ADD).value(n("1")).build(),
                        "checkpointOwner", AttributeValueUpdate.builder().action(AttributeAction.DELETE).build()))
                .returnValues(ReturnValue.ALL_NEW));
        assertEquals("worker-a", taken.attributes().get("leaseOwner").s());
        assertEquals("1", taken.attributes().get("leaseCounter").n());
        assertEquals("1", taken.attributes().get("ownerSwitchesSinceCheckpoint").n());
        ConditionalCheckFailedException lost = assertThrows(ConditionalCheckFailedException.class, () -> ddb.updateItem(b -> b
                .tableName(table).key(key("shardId-000000000000"))
                .expected(Map.of("leaseCounter", ExpectedAttributeValue.builder().value(n("0")).build()))
                .attributeUpdates(Map.of("leaseOwner", AttributeValueUpdate.builder().action(AttributeAction.PUT).value(s("worker-b")).build()))
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)));
        assertEquals("worker-a", lost.item().get("leaseOwner").s(), "the failed write sees the item that beat it");
        assertEquals("The conditional request failed", lost.awsErrorDetails().errorMessage());

        // checkpoint, then ADD on a missing number counts from 0, DELETE without a value removes
        ddb.updateItem(b -> b.tableName(table).key(key("shardId-000000000000"))
                .expected(Map.of("leaseCounter", ExpectedAttributeValue.builder().value(n("1")).build(),
                        "checkpointOwner", ExpectedAttributeValue.builder().exists(false).build()))
                .attributeUpdates(Map.of(
                        "leaseCounter", AttributeValueUpdate.builder().action(AttributeAction.PUT).value(n("2")).build(),
                        "checkpoint", AttributeValueUpdate.builder().action(AttributeAction.PUT).value(s("49590338271490256608559692538361571095921575989136588898")).build(),
                        "throughputKBps", AttributeValueUpdate.builder().action(AttributeAction.PUT).value(n("1.0E-4")).build(),
                        "missing", AttributeValueUpdate.builder().action(AttributeAction.ADD).value(n("5")).build(),
                        "ownerSwitchesSinceCheckpoint", AttributeValueUpdate.builder().action(AttributeAction.DELETE).build())));
        Map<String, AttributeValue> now = ddb.getItem(b -> b.tableName(table).key(key("shardId-000000000000")).consistentRead(true)).item();
        assertEquals("2", now.get("leaseCounter").n());
        assertEquals("49590338271490256608559692538361571095921575989136588898", now.get("checkpoint").s());
        assertEquals("5", now.get("missing").n());
        assertEquals(0, new java.math.BigDecimal("0.0001").compareTo(new java.math.BigDecimal(now.get("throughputKBps").n())));
        assertFalse(now.containsKey("ownerSwitchesSinceCheckpoint"));

        ddb.deleteItem(b -> b.tableName(table).key(key("shardId-000000000000")));
        assertFalse(ddb.getItem(b -> b.tableName(table).key(key("shardId-000000000000"))).hasItem());
    }

    @Test
    void lockClientStyleExpressions() {
        String table = "coordinator-" + UUID.randomUUID().toString().substring(0, 8);
        ddb.createTable(b -> b.tableName(table)
                .keySchema(KeySchemaElement.builder().attributeName("key").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("key").attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST));
        Map<String, AttributeValue> lock = Map.of("key", s("Leader"), "ownerName", s("w1"), "leaseDuration", s("120000"),
                "recordVersionNumber", s("v1"));
        ddb.putItem(b -> b.tableName(table).item(lock).conditionExpression("attribute_not_exists(#pk)")
                .expressionAttributeNames(Map.of("#pk", "key")));
        assertThrows(ConditionalCheckFailedException.class, () -> ddb.putItem(b -> b.tableName(table).item(lock)
                .conditionExpression("attribute_not_exists(#pk)").expressionAttributeNames(Map.of("#pk", "key"))));
        // heartbeat: new record version only for the owner holding the current one
        ddb.updateItem(b -> b.tableName(table).key(Map.of("key", s("Leader")))
                .conditionExpression("attribute_exists(#pk) AND #rvn = :rvn AND #on = :on")
                .updateExpression("SET #ld = :ld, #rvn = :newRvn")
                .expressionAttributeNames(Map.of("#pk", "key", "#ld", "leaseDuration", "#rvn", "recordVersionNumber", "#on", "ownerName"))
                .expressionAttributeValues(Map.of(":rvn", s("v1"), ":on", s("w1"), ":newRvn", s("v2"), ":ld", s("120000"))));
        assertThrows(ConditionalCheckFailedException.class, () -> ddb.deleteItem(b -> b.tableName(table).key(Map.of("key", s("Leader")))
                .conditionExpression("attribute_exists(#pk) AND #rvn = :rvn AND #on = :on")
                .expressionAttributeNames(Map.of("#pk", "key", "#rvn", "recordVersionNumber", "#on", "ownerName"))
                .expressionAttributeValues(Map.of(":rvn", s("v1"), ":on", s("w1")))));
        ddb.deleteItem(b -> b.tableName(table).key(Map.of("key", s("Leader")))
                .conditionExpression("attribute_exists(#pk) AND #rvn = :rvn AND #on = :on")
                .expressionAttributeNames(Map.of("#pk", "key", "#rvn", "recordVersionNumber", "#on", "ownerName"))
                .expressionAttributeValues(Map.of(":rvn", s("v2"), ":on", s("w1"))));
        assertFalse(ddb.getItem(b -> b.tableName(table).key(Map.of("key", s("Leader"))).consistentRead(true)).hasItem());

        DynamoDbException undefined = assertThrows(DynamoDbException.class, () -> ddb.putItem(b -> b.tableName(table).item(lock)
                .conditionExpression("attribute_not_exists(#pk)")));
        assertEquals("ValidationException", undefined.awsErrorDetails().errorCode());
        DynamoDbException mixed = assertThrows(DynamoDbException.class, () -> ddb.putItem(b -> b.tableName(table).item(lock)
                .conditionExpression("attribute_not_exists(#pk)").expressionAttributeNames(Map.of("#pk", "key"))
                .expected(Map.of("key", ExpectedAttributeValue.builder().exists(false).build()))));
        assertTrue(mixed.getMessage().contains("Can not use both expression and non-expression parameters"), mixed.getMessage());
    }

    @Test
    void everyAttributeTypeRoundTripsExactly() {
        String table = leaseTable();
        Map<String, AttributeValue> item = new java.util.LinkedHashMap<>();
        item.put("leaseKey", s("all-types"));
        item.put("s", s("text ✓"));
        item.put("n", n("12345678901234567890.123456789012345678"));
        item.put("neg", n("-0.000000000000000000000000000000000001"));
        item.put("b", AttributeValue.builder().b(SdkBytes.fromByteArray(new byte[] {0, 1, (byte) 0xff})).build());
        item.put("bool", AttributeValue.builder().bool(true).build());
        item.put("null", AttributeValue.builder().nul(true).build());
        item.put("m", AttributeValue.builder().m(Map.of("inner", n("7"), "list", AttributeValue.builder().l(s("x"), n("1")).build())).build());
        item.put("l", AttributeValue.builder().l(s("a"), AttributeValue.builder().bool(false).build()).build());
        item.put("ss", AttributeValue.builder().ss("shardId-1", "shardId-2").build());
        item.put("ns", AttributeValue.builder().ns("1", "2.5").build());
        item.put("bs", AttributeValue.builder().bs(SdkBytes.fromByteArray(new byte[] {1}), SdkBytes.fromByteArray(new byte[] {2})).build());
        ddb.putItem(b -> b.tableName(table).item(item));
        Map<String, AttributeValue> back = ddb.getItem(b -> b.tableName(table).key(key("all-types"))).item();
        assertEquals(item.keySet(), back.keySet());
        assertEquals("text ✓", back.get("s").s());
        assertEquals(0, new java.math.BigDecimal("12345678901234567890.123456789012345678").compareTo(new java.math.BigDecimal(back.get("n").n())));
        assertEquals(0, new java.math.BigDecimal("-1E-36").compareTo(new java.math.BigDecimal(back.get("neg").n())));
        assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, back.get("b").b().asByteArray());
        assertTrue(back.get("bool").bool());
        assertTrue(back.get("null").nul());
        assertEquals("7", back.get("m").m().get("inner").n());
        assertEquals("x", back.get("m").m().get("list").l().get(0).s());
        assertEquals(Set.of("shardId-1", "shardId-2"), new HashSet<>(back.get("ss").ss()));
        assertEquals(2, back.get("ns").ns().size());
        assertEquals(2, back.get("bs").bs().size());

        Map<String, AttributeValue> projected = ddb.getItem(b -> b.tableName(table).key(key("all-types"))
                .projectionExpression("#m.#i, s").expressionAttributeNames(Map.of("#m", "m", "#i", "inner"))).item();
        assertEquals(Set.of("m", "s"), projected.keySet());
        assertEquals(Set.of("inner"), projected.get("m").m().keySet());

        DynamoDbException tooBig = assertThrows(DynamoDbException.class, () -> ddb.putItem(b -> b.tableName(table)
                .item(Map.of("leaseKey", s("big"), "data", s("x".repeat(410 * 1024))))));
        assertEquals("ValidationException", tooBig.awsErrorDetails().errorCode());
        assertTrue(tooBig.getMessage().contains("Item size has exceeded the maximum allowed size"), tooBig.getMessage());
        DynamoDbException wrongKeyType = assertThrows(DynamoDbException.class, () -> ddb.putItem(b -> b.tableName(table)
                .item(Map.of("leaseKey", n("1")))));
        assertTrue(wrongKeyType.getMessage().contains("Type mismatch for key leaseKey expected: S actual: N"), wrongKeyType.getMessage());
        DynamoDbException badKey = assertThrows(DynamoDbException.class, () -> ddb.getItem(b -> b.tableName(table)
                .key(Map.of("other", s("1")))));
        assertTrue(badKey.getMessage().contains("The provided key element does not match the schema"), badKey.getMessage());
        assertFalse(ddb.getItem(b -> b.tableName(table).key(key("big"))).hasItem(), "a refused write changes nothing");
    }

    @Test
    void scansPageAndSegmentsCoverEveryItemOnce() {
        String table = leaseTable();
        Set<String> all = new TreeSet<>();
        for (int i = 0; i < 57; i++) {
            String k = "shardId-" + String.format("%012d", i);
            all.add(k);
            String mod = Integer.toString(i % 5);
            ddb.putItem(b -> b.tableName(table).item(Map.of("leaseKey", s(k), "n", n(mod))));
        }
        List<String> paged = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        int pages = 0;
        do {
            Map<String, AttributeValue> from = start;
            ScanResponse page = ddb.scan(b -> b.tableName(table).limit(10).exclusiveStartKey(from));
            page.items().forEach(i -> paged.add(i.get("leaseKey").s()));
            start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
            pages++;
        } while (start != null);
        assertEquals(all, new TreeSet<>(paged));
        assertEquals(57, paged.size(), "no item twice");
        assertTrue(pages >= 6, "Limit 10 makes at least 6 pages: " + pages);

        List<String> segmented = new ArrayList<>();
        for (int segment = 0; segment < 4; segment++) {
            int seg = segment;
            ddb.scanPaginator(b -> b.tableName(table).segment(seg).totalSegments(4).limit(7))
                    .items().forEach(i -> segmented.add(i.get("leaseKey").s()));
        }
        assertEquals(57, segmented.size());
        assertEquals(all, new TreeSet<>(segmented));

        ScanResponse filtered = ddb.scan(b -> b.tableName(table).filterExpression("n = :zero")
                .expressionAttributeValues(Map.of(":zero", n("0"))));
        assertEquals(12, filtered.count());
        assertEquals(57, filtered.scannedCount());
        assertEquals(57L, ddb.describeTable(b -> b.tableName(table)).table().itemCount());

        DynamoDbException badSegment = assertThrows(DynamoDbException.class, () -> ddb.scan(b -> b.tableName(table).segment(4).totalSegments(4)));
        assertTrue(badSegment.getMessage().contains("Segment: 4 is not less than TotalSegments: 4"), badSegment.getMessage());
    }

    @Test
    void globalSecondaryIndexIsAddedActiveAndQueriedPageByPage() {
        String table = leaseTable();
        UpdateTableResponse updated = ddb.updateTable(b -> b.tableName(table)
                .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseOwner").attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build())
                .globalSecondaryIndexUpdates(GlobalSecondaryIndexUpdate.builder().create(CreateGlobalSecondaryIndexAction.builder()
                        .indexName("LeaseOwnerToLeaseKeyIndex")
                        .keySchema(KeySchemaElement.builder().attributeName("leaseOwner").keyType(KeyType.HASH).build(),
                                KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.RANGE).build())
                        .projection(Projection.builder().projectionType(ProjectionType.KEYS_ONLY).build()).build()).build()));
        assertEquals("LeaseOwnerToLeaseKeyIndex", updated.tableDescription().globalSecondaryIndexes().get(0).indexName());
        GlobalSecondaryIndexDescription index = ddb.describeTable(b -> b.tableName(table)).table().globalSecondaryIndexes().get(0);
        assertEquals(IndexStatus.ACTIVE, index.indexStatus());

        for (int i = 0; i < 23; i++) {
            String owner = i % 3 == 0 ? "worker-a" : "worker-b";
            int k = i;
            ddb.putItem(b -> b.tableName(table).item(Map.of("leaseKey", s(String.format("shardId-%012d", k)),
                    "leaseOwner", s(owner), "checkpoint", s("TRIM_HORIZON"))));
        }
        ddb.putItem(b -> b.tableName(table).item(Map.of("leaseKey", s("unowned"))));
        List<String> ownedByA = new ArrayList<>();
        ddb.queryPaginator(b -> b.tableName(table).indexName("LeaseOwnerToLeaseKeyIndex").limit(3)
                        .keyConditionExpression("leaseOwner = :o").expressionAttributeValues(Map.of(":o", s("worker-a"))))
                .items().forEach(item -> {
                    assertEquals(Set.of("leaseKey", "leaseOwner"), item.keySet(), "KEYS_ONLY projects the keys");
                    ownedByA.add(item.get("leaseKey").s());
                });
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 23; i += 3) expected.add(String.format("shardId-%012d", i));
        assertEquals(expected, ownedByA, "every item of the owner, in range key order, once");
        assertEquals(23, ddb.describeTable(b -> b.tableName(table)).table().globalSecondaryIndexes().get(0).itemCount(),
                "the index holds the items with an owner");
        DynamoDbException reserved = assertThrows(DynamoDbException.class, () -> ddb.getItem(b -> b.tableName(table)
                .key(key("unowned")).projectionExpression("name")));
        assertTrue(reserved.getMessage().contains("Attribute name is a reserved keyword; reserved keyword: name"), reserved.getMessage());

        DynamoDbException noIndex = assertThrows(DynamoDbException.class, () -> ddb.query(b -> b.tableName(table).indexName("nope")
                .keyConditionExpression("leaseOwner = :o").expressionAttributeValues(Map.of(":o", s("worker-a")))));
        assertTrue(noIndex.getMessage().contains("The table does not have the specified index: nope"), noIndex.getMessage());
    }

    @Test
    void queriesARangeKeyInBothDirections() {
        String table = "ranged-" + UUID.randomUUID().toString().substring(0, 8);
        ddb.createTable(b -> b.tableName(table)
                .keySchema(KeySchemaElement.builder().attributeName("h").keyType(KeyType.HASH).build(),
                        KeySchemaElement.builder().attributeName("r").keyType(KeyType.RANGE).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("h").attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName("r").attributeType(ScalarAttributeType.N).build())
                .billingMode(BillingMode.PROVISIONED)
                .provisionedThroughput(ProvisionedThroughput.builder().readCapacityUnits(5L).writeCapacityUnits(5L).build()));
        for (int i = 0; i < 20; i++) {
            int r = i;
            ddb.putItem(b -> b.tableName(table).item(Map.of("h", s(r % 2 == 0 ? "even" : "odd"), "r", n(Integer.toString(r * 10)))));
        }
        QueryResponse between = ddb.query(b -> b.tableName(table).keyConditionExpression("h = :h AND r BETWEEN :lo AND :hi")
                .expressionAttributeValues(Map.of(":h", s("even"), ":lo", n("40"), ":hi", n("100"))).scanIndexForward(false));
        assertEquals(List.of("100", "80", "60", "40"), between.items().stream().map(i -> i.get("r").n()).toList());
        QueryResponse legacy = ddb.query(b -> b.tableName(table).keyConditions(Map.of(
                "h", Condition.builder().comparisonOperator(ComparisonOperator.EQ).attributeValueList(s("odd")).build(),
                "r", Condition.builder().comparisonOperator(ComparisonOperator.LT).attributeValueList(n("50")).build())));
        assertEquals(List.of("10", "30"), legacy.items().stream().map(i -> i.get("r").n()).toList());
        assertEquals(5L, ddb.describeTable(b -> b.tableName(table)).table().provisionedThroughput().readCapacityUnits());
    }

    @Test
    void tagsBackupsListingAndDeletion() {
        String table = leaseTable();
        String arn = ddb.describeTable(b -> b.tableName(table)).table().tableArn();
        ddb.tagResource(b -> b.resourceArn(arn).tags(Tag.builder().key("team").value("streams").build(),
                Tag.builder().key("env").value("test").build()));
        ddb.untagResource(b -> b.resourceArn(arn).tagKeys("env"));
        assertEquals(List.of(Tag.builder().key("team").value("streams").build()),
                ddb.listTagsOfResource(b -> b.resourceArn(arn)).tags());

        assertEquals(PointInTimeRecoveryStatus.DISABLED, ddb.describeContinuousBackups(b -> b.tableName(table))
                .continuousBackupsDescription().pointInTimeRecoveryDescription().pointInTimeRecoveryStatus());
        ddb.updateContinuousBackups(b -> b.tableName(table)
                .pointInTimeRecoverySpecification(p -> p.pointInTimeRecoveryEnabled(true)));
        ContinuousBackupsDescription backups = ddb.describeContinuousBackups(b -> b.tableName(table)).continuousBackupsDescription();
        assertEquals(ContinuousBackupsStatus.ENABLED, backups.continuousBackupsStatus());
        assertEquals(PointInTimeRecoveryStatus.ENABLED, backups.pointInTimeRecoveryDescription().pointInTimeRecoveryStatus());

        assertTrue(ddb.listTablesPaginator(b -> b.limit(1)).tableNames().stream().anyMatch(table::equals));

        ddb.updateTable(b -> b.tableName(table).deletionProtectionEnabled(true));
        DynamoDbException protectedTable = assertThrows(DynamoDbException.class, () -> ddb.deleteTable(b -> b.tableName(table)));
        assertTrue(protectedTable.getMessage().contains("protected against deletion"), protectedTable.getMessage());
        ddb.updateTable(b -> b.tableName(table).deletionProtectionEnabled(false));
        ddb.putItem(b -> b.tableName(table).item(key("left-behind")));
        assertEquals(TableStatus.DELETING, ddb.deleteTable(b -> b.tableName(table)).tableDescription().tableStatus());
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            try {
                ddb.describeTable(b -> b.tableName(table));
            } catch (ResourceNotFoundException gone) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "the table never went away");
            sleep(200);
        }
        assertFalse(ddb.listTablesPaginator(b -> b.limit(100)).tableNames().stream().anyMatch(table::equals));
        leaseTableNamed(table);
        assertFalse(ddb.getItem(b -> b.tableName(table).key(key("left-behind"))).hasItem(), "a recreated table starts empty");
    }

    static void leaseTableNamed(String name) {
        ddb.createTable(b -> b.tableName(name)
                .keySchema(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build())
                .billingMode(BillingMode.PAY_PER_REQUEST));
    }

    @Test
    void tablesAndItemsOutliveANodeRestart() throws Exception {
        String table = leaseTable();
        for (int i = 0; i < 250; i++) {   // past a snapshot (every 100 writes) and its event deletion
            int c = i;
            ddb.putItem(b -> b.tableName(table).item(Map.of("leaseKey", s("shard-" + (c % 7)), "leaseCounter", n(Integer.toString(c)))));
        }
        node.stop();
        node.start();
        ddb = node.dynamoDbClient();
        assertEquals(7L, ddb.describeTable(b -> b.tableName(table)).table().itemCount());
        for (int shard = 0; shard < 7; shard++) {
            int last = 249 - ((249 - shard) % 7);
            int s = shard;
            assertEquals(Integer.toString(last), ddb.getItem(b -> b.tableName(table).key(key("shard-" + s)).consistentRead(true))
                    .item().get("leaseCounter").n());
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }
}
