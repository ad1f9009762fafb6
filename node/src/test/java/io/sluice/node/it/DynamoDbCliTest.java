package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.net.URI;
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
 * The {@code aws dynamodb} commands, CLI v1 and v2, against a real node: tables (create, wait, describe,
 * a global secondary index added, list page by page, tags, continuous backups, delete), items in both
 * condition styles with the values a write returns, scans and queries page by page, and the refusals
 * as the CLI prints them. The CLIs are found as {@link AwsCliTest} finds them.
 *
 * <p>With {@value #ENDPOINT_VARIABLE} set (e.g. {@code http://127.0.0.1:4612}, dynalite started by
 * {@code load-tests/emulator.sh start dynalite}) the same sessions run against that endpoint instead of a
 * node, with any credentials: that is how the expectations here were checked to be DynamoDB's and not
 * only Sluice's. Continuous backups, which dynalite does not serve, are then left out.
 */
class DynamoDbCliTest {
    static final String ENDPOINT_VARIABLE = "SLUICE_TEST_DYNAMODB_ENDPOINT";
    /**
     * The tests run two at a time (each on tables of its own), except the one that lists tables page by page:
     * it holds this lock alone.
     */
    static final String TABLE_LIST = "DynamoDbCliTest.tables";
    static final ObjectMapper json = new ObjectMapper();
    static TestNode node;
    static URI endpoint;
    static String accessKeyId = "any";
    static String secretKey = "any";

    @BeforeAll
    static void start() throws Exception {
        String other = System.getenv().getOrDefault(ENDPOINT_VARIABLE, "");
        if (other.isBlank()) {
            node = new TestNode(Clock.systemUTC(), "").start();
            endpoint = node.endpoint();
            accessKeyId = node.accessKeyId;
            secretKey = node.secretKey;
        } else {
            endpoint = URI.create(other.trim());
        }
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    public static List<String> clis() {
        return AwsCliTest.clis();
    }

    static boolean onSluice() {
        return node != null;
    }

    /** Runs a command that must succeed and returns its JSON output (an empty object when it printed nothing). */
    static JsonNode ok(String cli, String... args) throws Exception {
        AwsCliTest.Result r = AwsCliTest.aws(endpoint, accessKeyId, secretKey, cli, args);
        assertEquals(0, r.exit(), () -> "aws " + String.join(" ", args) + " failed: " + r.err());
        return r.out().isBlank() ? json.createObjectNode() : json.readTree(r.out());
    }

    /**
     * Runs a command the service must refuse with {@code error}: checks the exit code (v1 exits 255 on every
     * error, v2 254 on a service's) and the line the CLI prints, and returns the service's message from it.
     */
    static String refused(String version, String error, String operation, String... args) throws Exception {
        AwsCliTest.Result r = AwsCliTest.aws(endpoint, accessKeyId, secretKey, AwsCliTest.cli(version), args);
        String printed = r.err().strip() + " ";   // the CLI ends the line after the message, or after the colon
        String prefix = "An error occurred (" + error + ") when calling the " + operation + " operation: ";
        assertTrue(printed.startsWith(prefix), () -> "aws " + String.join(" ", args) + " should have printed " + prefix
                + "...; exit " + r.exit() + ", stdout " + r.out() + ", stderr " + r.err());
        assertEquals(version.equals("v1") ? 255 : 254, r.exit(), () -> "exit code of aws " + String.join(" ", args));
        assertTrue(r.out().isBlank(), r.out());
        return printed.substring(prefix.length()).strip();
    }

    static String unique(String prefix, String version) {
        return prefix + "-" + version + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static JsonNode createLeaseTable(String cli, String table) throws Exception {
        JsonNode created = ok(cli, "dynamodb", "create-table", "--table-name", table,
                "--attribute-definitions", "AttributeName=leaseKey,AttributeType=S",
                "--key-schema", "AttributeName=leaseKey,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
                .get("TableDescription");
        ok(cli, "dynamodb", "wait", "table-exists", "--table-name", table);
        return created;
    }

    static List<String> strings(JsonNode items, String attribute, String type) {
        List<String> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get(attribute).get(type).asText()));
        return out;
    }

    @ParameterizedTest
    @MethodSource("clis")
    @ResourceLock(TABLE_LIST) // alone: its pages of ListTables must not see other tests' tables come and go
    void createsDescribesListsTagsAndDeletesTables(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        String table = unique("cli-leases", version);
        JsonNode created = createLeaseTable(cli, table);
        assertEquals(table, created.get("TableName").asText());
        assertTrue(Set.of("CREATING", "ACTIVE").contains(created.get("TableStatus").asText()), created.toString());
        assertEquals("PAY_PER_REQUEST", created.get("BillingModeSummary").get("BillingMode").asText());

        JsonNode described = ok(cli, "dynamodb", "describe-table", "--table-name", table).get("Table");
        assertEquals("ACTIVE", described.get("TableStatus").asText());
        assertEquals(json.readTree("[{\"AttributeName\":\"leaseKey\",\"KeyType\":\"HASH\"}]"), described.get("KeySchema"));
        assertEquals(json.readTree("[{\"AttributeName\":\"leaseKey\",\"AttributeType\":\"S\"}]"), described.get("AttributeDefinitions"));
        assertEquals(0, described.get("ItemCount").asLong());
        assertEquals(0, described.get("TableSizeBytes").asLong());
        String arn = described.get("TableArn").asText();
        assertTrue(arn.matches("arn:aws:dynamodb:us-east-1:\\d{12}:table/" + table), arn);
        // v1 prints a time as it came (epoch seconds), v2 as ISO 8601
        JsonNode createdAt = described.get("CreationDateTime");
        assertTrue(version.equals("v1") ? createdAt.isNumber() : createdAt.asText().matches("\\d{4}-\\d\\d-\\d\\dT.*"), createdAt.toString());

        String inUse = refused(version, "ResourceInUseException", "CreateTable", "dynamodb", "create-table", "--table-name", table,
                "--attribute-definitions", "AttributeName=leaseKey,AttributeType=S",
                "--key-schema", "AttributeName=leaseKey,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST");
        // DynamoDB: "Attempt to change a resource which is still in use: Table already exists: <name>"; dynalite says nothing
        assertTrue(inUse.endsWith("Table already exists: " + table) || !onSluice() && inUse.isEmpty(), inUse);

        // one name a page: the CLI's own token takes the next call on from the first name
        String second = unique("cli-leases", version);
        createLeaseTable(cli, second);
        JsonNode first = ok(cli, "dynamodb", "list-tables", "--max-items", "1");
        assertEquals(1, first.get("TableNames").size(), first.toString());
        String token = first.get("NextToken").asText();
        JsonNode next = ok(cli, "dynamodb", "list-tables", "--max-items", "1", "--starting-token", token);
        assertEquals(1, next.get("TableNames").size(), next.toString());
        JsonNode all = ok(cli, "dynamodb", "list-tables", "--page-size", "1");
        List<String> names = strings(all.get("TableNames"));
        assertEquals(new ArrayList<>(new TreeSet<>(names)), names, "every name once, in order, across pages of one");
        assertTrue(names.containsAll(List.of(table, second)), names.toString());
        assertEquals(List.of(names.get(0), names.get(1)),
                List.of(first.get("TableNames").get(0).asText(), next.get("TableNames").get(0).asText()));
        assertFalse(all.has("NextToken"), all.toString());

        ok(cli, "dynamodb", "tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=streams", "Key=env,Value=test");
        ok(cli, "dynamodb", "untag-resource", "--resource-arn", arn, "--tag-keys", "env");
        assertEquals(json.readTree("{\"Tags\":[{\"Key\":\"team\",\"Value\":\"streams\"}]}"),
                ok(cli, "dynamodb", "list-tags-of-resource", "--resource-arn", arn));

        if (onSluice()) {
            JsonNode backups = ok(cli, "dynamodb", "describe-continuous-backups", "--table-name", table)
                    .get("ContinuousBackupsDescription");
            assertEquals("ENABLED", backups.get("ContinuousBackupsStatus").asText());
            assertEquals("DISABLED", backups.get("PointInTimeRecoveryDescription").get("PointInTimeRecoveryStatus").asText());
            JsonNode enabled = ok(cli, "dynamodb", "update-continuous-backups", "--table-name", table,
                    "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true")
                    .get("ContinuousBackupsDescription").get("PointInTimeRecoveryDescription");
            assertEquals("ENABLED", enabled.get("PointInTimeRecoveryStatus").asText());
            assertTrue(enabled.has("EarliestRestorableDateTime"), enabled.toString());
            assertTrue(enabled.has("LatestRestorableDateTime"), enabled.toString());
        }

        JsonNode deleting = ok(cli, "dynamodb", "delete-table", "--table-name", table).get("TableDescription");
        assertEquals("DELETING", deleting.get("TableStatus").asText());
        // not `wait table-not-exists`: it sleeps 20 s after each DELETING
        long deadline = System.nanoTime() + 30_000_000_000L;
        String gone;
        while (true) {
            AwsCliTest.Result r = AwsCliTest.aws(endpoint, accessKeyId, secretKey, cli, "dynamodb", "describe-table", "--table-name", table);
            if (r.exit() != 0) {
                gone = r.err().strip();
                break;
            }
            assertTrue(System.nanoTime() < deadline, "the table never went away: " + r.out());
            Thread.sleep(300);
        }
        assertEquals("An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: "
                + "Requested resource not found: Table: " + table + " not found", gone);
        String notFound = refused(version, "ResourceNotFoundException", "DeleteTable", "dynamodb", "delete-table", "--table-name", table);
        assertTrue(notFound.startsWith("Requested resource not found"), notFound);
        ok(cli, "dynamodb", "delete-table", "--table-name", second);
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @ParameterizedTest
    @MethodSource("clis")
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = TABLE_LIST, mode = ResourceAccessMode.READ)
    void writesItemsUnderBothConditionStylesAndReturnsWhatChanged(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        String table = unique("cli-items", version);
        createLeaseTable(cli, table);
        String lease = "{\"leaseKey\":{\"S\":\"shardId-000000000000\"},\"leaseCounter\":{\"N\":\"0\"},"
                + "\"checkpoint\":{\"S\":\"TRIM_HORIZON\"},\"ownerSwitchesSinceCheckpoint\":{\"N\":\"0\"}}";
        String key = "{\"leaseKey\":{\"S\":\"shardId-000000000000\"}}";
        String absent = "{\"leaseKey\":{\"Exists\":false}}";

        // legacy Expected, as the KCL creates a lease
        assertEquals(json.createObjectNode(), ok(cli, "dynamodb", "put-item", "--table-name", table, "--item", lease, "--expected", absent));
        assertEquals("The conditional request failed", refused(version, "ConditionalCheckFailedException", "PutItem",
                "dynamodb", "put-item", "--table-name", table, "--item", lease, "--expected", absent));
        // ConditionExpression, as the lock client takes a lock
        String lock = "{\"leaseKey\":{\"S\":\"lock\"},\"owner\":{\"S\":\"w1\"}}";
        ok(cli, "dynamodb", "put-item", "--table-name", table, "--item", lock, "--condition-expression", "attribute_not_exists(leaseKey)");
        assertEquals("The conditional request failed", refused(version, "ConditionalCheckFailedException", "PutItem",
                "dynamodb", "put-item", "--table-name", table, "--item", lock, "--condition-expression", "attribute_not_exists(leaseKey)"));
        JsonNode replaced = ok(cli, "dynamodb", "put-item", "--table-name", table, "--return-values", "ALL_OLD",
                "--item", "{\"leaseKey\":{\"S\":\"lock\"},\"owner\":{\"S\":\"w2\"}}");
        assertEquals(json.readTree(lock), replaced.get("Attributes"));

        JsonNode projected = ok(cli, "dynamodb", "get-item", "--table-name", table, "--key", key, "--consistent-read",
                "--projection-expression", "leaseCounter, #cp", "--expression-attribute-names", "{\"#cp\":\"checkpoint\"}");
        assertEquals(json.readTree("{\"leaseCounter\":{\"N\":\"0\"},\"checkpoint\":{\"S\":\"TRIM_HORIZON\"}}"), projected.get("Item"));

        // take the lease: legacy Expected + AttributeUpdates
        JsonNode taken = ok(cli, "dynamodb", "update-item", "--table-name", table, "--key", key,
                "--expected", "{\"leaseCounter\":{\"Value\":{\"N\":\"0\"}}}",
                "--attribute-updates", "{\"leaseCounter\":{\"Value\":{\"N\":\"1\"},\"Action\":\"PUT\"},"
                        + "\"leaseOwner\":{\"Value\":{\"S\":\"worker-a\"},\"Action\":\"PUT\"},"
                        + "\"ownerSwitchesSinceCheckpoint\":{\"Value\":{\"N\":\"1\"},\"Action\":\"ADD\"}}",
                "--return-values", "ALL_NEW");
        assertEquals(json.readTree("{\"leaseKey\":{\"S\":\"shardId-000000000000\"},\"leaseCounter\":{\"N\":\"1\"},"
                + "\"checkpoint\":{\"S\":\"TRIM_HORIZON\"},\"ownerSwitchesSinceCheckpoint\":{\"N\":\"1\"},"
                + "\"leaseOwner\":{\"S\":\"worker-a\"}}"), taken.get("Attributes"));
        assertEquals("The conditional request failed", refused(version, "ConditionalCheckFailedException", "UpdateItem",
                "dynamodb", "update-item", "--table-name", table, "--key", key,
                "--expected", "{\"leaseCounter\":{\"Value\":{\"N\":\"0\"}}}",
                "--attribute-updates", "{\"leaseOwner\":{\"Value\":{\"S\":\"worker-b\"},\"Action\":\"PUT\"}}"));

        // checkpoint: an update expression under a condition expression
        String values = "{\":c\":{\"N\":\"1\"},\":o\":{\"S\":\"worker-a\"},\":one\":{\"N\":\"1\"},"
                + "\":cp\":{\"S\":\"49590338271490256608559692538361571095921575989136588898\"}}";
        JsonNode checkpointed = ok(cli, "dynamodb", "update-item", "--table-name", table, "--key", key,
                "--condition-expression", "leaseCounter = :c AND leaseOwner = :o",
                "--update-expression", "SET leaseCounter = leaseCounter + :one, checkpoint = :cp REMOVE ownerSwitchesSinceCheckpoint",
                "--expression-attribute-values", values, "--return-values", "UPDATED_OLD");
        assertEquals(json.readTree("{\"leaseCounter\":{\"N\":\"1\"},\"checkpoint\":{\"S\":\"TRIM_HORIZON\"},"
                + "\"ownerSwitchesSinceCheckpoint\":{\"N\":\"1\"}}"), checkpointed.get("Attributes"));
        assertEquals("The conditional request failed", refused(version, "ConditionalCheckFailedException", "UpdateItem",
                "dynamodb", "update-item", "--table-name", table, "--key", key,
                "--condition-expression", "leaseCounter = :c AND leaseOwner = :o",
                "--update-expression", "SET leaseCounter = leaseCounter + :one, checkpoint = :cp",
                "--expression-attribute-values", values, "--return-values", "UPDATED_NEW"));

        String syntax = refused(version, "ValidationException", "UpdateItem", "dynamodb", "update-item", "--table-name", table,
                "--key", key, "--update-expression", "SET leaseCounter =", "--return-values", "UPDATED_NEW");
        assertTrue(syntax.startsWith("Invalid UpdateExpression: Syntax error; "), syntax);
        String undefined = refused(version, "ValidationException", "PutItem", "dynamodb", "put-item", "--table-name", table,
                "--item", lease, "--condition-expression", "attribute_not_exists(#k)");
        assertEquals("Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
                + "attribute name: #k", undefined);

        assertEquals("The conditional request failed", refused(version, "ConditionalCheckFailedException", "DeleteItem",
                "dynamodb", "delete-item", "--table-name", table, "--key", key,
                "--condition-expression", "leaseOwner = :o", "--expression-attribute-values", "{\":o\":{\"S\":\"worker-b\"}}"));
        JsonNode deleted = ok(cli, "dynamodb", "delete-item", "--table-name", table, "--key", key,
                "--expected", "{\"leaseCounter\":{\"Value\":{\"N\":\"2\"}}}", "--return-values", "ALL_OLD");
        assertEquals(json.readTree("{\"leaseKey\":{\"S\":\"shardId-000000000000\"},\"leaseCounter\":{\"N\":\"2\"},"
                + "\"checkpoint\":{\"S\":\"49590338271490256608559692538361571095921575989136588898\"},"
                + "\"leaseOwner\":{\"S\":\"worker-a\"}}"), deleted.get("Attributes"));
        assertFalse(ok(cli, "dynamodb", "get-item", "--table-name", table, "--key", key, "--consistent-read").has("Item"));

        // every type as the CLI writes it: v2 reads a B given in JSON as base64, v1 as text (which it then encodes);
        // numbers come back in DynamoDB's canonical form
        JsonNode consumed = ok(cli, "dynamodb", "put-item", "--table-name", table, "--return-consumed-capacity", "TOTAL",
                "--item", "{\"leaseKey\":{\"S\":\"types\"},\"b\":{\"B\":\"AAH/\"},\"bs\":{\"BS\":[\"AQ==\"]},"
                        + "\"n\":{\"N\":\"01.50\"},\"ns\":{\"NS\":[\"-0.0100\"]},\"m\":{\"M\":{\"x\":{\"L\":[{\"NULL\":true},"
                        + "{\"BOOL\":false},{\"SS\":[\"a\"]}]}}}}");
        assertEquals(table, consumed.get("ConsumedCapacity").get("TableName").asText());
        assertEquals(1.0, consumed.get("ConsumedCapacity").get("CapacityUnits").asDouble(), consumed.toString());
        boolean v1 = version.equals("v1");
        assertEquals(json.readTree("{\"leaseKey\":{\"S\":\"types\"},\"b\":{\"B\":\"" + (v1 ? "QUFILw==" : "AAH/") + "\"},"
                        + "\"bs\":{\"BS\":[\"" + (v1 ? "QVE9PQ==" : "AQ==") + "\"]},\"n\":{\"N\":\"1.5\"},\"ns\":{\"NS\":[\"-0.01\"]},"
                        + "\"m\":{\"M\":{\"x\":{\"L\":[{\"NULL\":true},{\"BOOL\":false},{\"SS\":[\"a\"]}]}}}}"),
                ok(cli, "dynamodb", "get-item", "--table-name", table, "--key", "{\"leaseKey\":{\"S\":\"types\"}}").get("Item"));

        if (onSluice()) {   // dynalite takes any ReturnValues here
            assertEquals("Return values set to invalid value", refused(version, "ValidationException", "DeleteItem",
                    "dynamodb", "delete-item", "--table-name", table, "--key", key, "--return-values", "ALL_NEW"));
        }
        String missing = refused(version, "ResourceNotFoundException", "GetItem", "dynamodb", "get-item",
                "--table-name", table + "-missing", "--key", key);
        assertTrue(missing.startsWith("Requested resource not found"), missing);
        ok(cli, "dynamodb", "delete-table", "--table-name", table);
    }

    @ParameterizedTest
    @MethodSource("clis")
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = TABLE_LIST, mode = ResourceAccessMode.READ)
    void scansAndQueriesATableAndItsIndexPageByPage(String version) throws Exception {
        String cli = AwsCliTest.cli(version);
        String table = unique("cli-ranged", version);
        String ownerIndex = "{\"IndexName\":\"owner-index\","
                + "\"KeySchema\":[{\"AttributeName\":\"owner\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"r\",\"KeyType\":\"RANGE\"}],"
                + "\"Projection\":{\"ProjectionType\":\"ALL\"},\"ProvisionedThroughput\":{\"ReadCapacityUnits\":1,\"WriteCapacityUnits\":1}}";
        List<String> create = new ArrayList<>(List.of("dynamodb", "create-table", "--table-name", table,
                "--key-schema", "AttributeName=h,KeyType=HASH", "AttributeName=r,KeyType=RANGE",
                "--billing-mode", "PROVISIONED", "--provisioned-throughput", "ReadCapacityUnits=5,WriteCapacityUnits=5",
                "--attribute-definitions", "AttributeName=h,AttributeType=S", "AttributeName=r,AttributeType=N"));
        if (!onSluice()) {
            // dynalite ignores an index created by UpdateTable: there the index comes with the table
            create.addAll(List.of("AttributeName=owner,AttributeType=S", "--global-secondary-indexes", "[" + ownerIndex + "]"));
        }
        JsonNode created = ok(cli, create.toArray(String[]::new)).get("TableDescription");
        assertEquals(5, created.get("ProvisionedThroughput").get("ReadCapacityUnits").asInt());
        assertEquals(5, created.get("ProvisionedThroughput").get("WriteCapacityUnits").asInt());
        ok(cli, "dynamodb", "wait", "table-exists", "--table-name", table);

        if (onSluice()) {
            JsonNode updated = ok(cli, "dynamodb", "update-table", "--table-name", table,
                    "--attribute-definitions", "AttributeName=owner,AttributeType=S", "AttributeName=r,AttributeType=N",
                    "--global-secondary-index-updates", "[{\"Create\":" + ownerIndex + "}]").get("TableDescription");
            assertEquals("owner-index", updated.get("GlobalSecondaryIndexes").get(0).get("IndexName").asText());
            ok(cli, "dynamodb", "wait", "table-exists", "--table-name", table);
        }
        JsonNode index = ok(cli, "dynamodb", "describe-table", "--table-name", table).get("Table").get("GlobalSecondaryIndexes").get(0);
        assertEquals("ACTIVE", index.get("IndexStatus").asText(), index.toString());
        assertEquals(json.readTree("[{\"AttributeName\":\"owner\",\"KeyType\":\"HASH\"},{\"AttributeName\":\"r\",\"KeyType\":\"RANGE\"}]"),
                index.get("KeySchema"));
        assertEquals(table, index.get("IndexArn").asText().replaceAll(".*:table/(.*)/index/owner-index$", "$1"));

        // items through the SDK: ten CLI start-ups would only slow the test down
        try (DynamoDbClient sdk = sdk()) {
            for (int i = 0; i < 10; i++) {
                int r = i;
                sdk.putItem(b -> b.tableName(table).item(Map.of(
                        "h", AttributeValue.builder().s(r % 2 == 0 ? "even" : "odd").build(),
                        "r", AttributeValue.builder().n(Integer.toString(r * 10)).build(),
                        "owner", AttributeValue.builder().s(r % 3 == 0 ? "worker-a" : "worker-b").build())));
            }
        }
        Set<String> every = new TreeSet<>();
        for (int i = 0; i < 10; i++) every.add((i % 2 == 0 ? "even/" : "odd/") + i * 10);

        JsonNode firstFive = ok(cli, "dynamodb", "scan", "--table-name", table, "--page-size", "3", "--max-items", "5");
        assertEquals(5, firstFive.get("Items").size(), firstFive.toString());
        JsonNode rest = ok(cli, "dynamodb", "scan", "--table-name", table, "--page-size", "3",
                "--starting-token", firstFive.get("NextToken").asText());
        assertFalse(rest.has("NextToken"), rest.toString());
        List<String> scanned = keys(firstFive.get("Items"));
        scanned.addAll(keys(rest.get("Items")));
        assertEquals(10, scanned.size(), scanned.toString());
        assertEquals(every, new TreeSet<>(scanned));

        JsonNode segment0 = ok(cli, "dynamodb", "scan", "--table-name", table, "--segment", "0", "--total-segments", "2",
                "--projection-expression", "h, r");
        for (JsonNode item : segment0.get("Items")) {
            Set<String> attributes = new HashSet<>();
            item.fieldNames().forEachRemaining(attributes::add);
            assertEquals(Set.of("h", "r"), attributes, "projected: " + item);
        }
        List<String> segmented = keys(segment0.get("Items"));
        segmented.addAll(keys(ok(cli, "dynamodb", "scan", "--table-name", table, "--segment", "1", "--total-segments", "2",
                "--page-size", "2").get("Items")));
        assertEquals(10, segmented.size(), segmented.toString());
        assertEquals(every, new TreeSet<>(segmented));

        JsonNode filtered = ok(cli, "dynamodb", "scan", "--table-name", table, "--filter-expression", "r >= :min",
                "--expression-attribute-values", "{\":min\":{\"N\":\"50\"}}");
        assertEquals(5, filtered.get("Count").asInt(), filtered.toString());
        assertEquals(10, filtered.get("ScannedCount").asInt(), filtered.toString());
        JsonNode legacyFilter = ok(cli, "dynamodb", "scan", "--table-name", table,
                "--scan-filter", "{\"owner\":{\"AttributeValueList\":[{\"S\":\"worker-a\"}],\"ComparisonOperator\":\"EQ\"}}");
        assertEquals(Set.of("even/0", "odd/30", "even/60", "odd/90"), new HashSet<>(keys(legacyFilter.get("Items"))));

        JsonNode between = ok(cli, "dynamodb", "query", "--table-name", table, "--no-scan-index-forward",
                "--key-condition-expression", "h = :h AND r BETWEEN :lo AND :hi",
                "--expression-attribute-values", "{\":h\":{\"S\":\"even\"},\":lo\":{\"N\":\"20\"},\":hi\":{\"N\":\"60\"}}");
        assertEquals(List.of("60", "40", "20"), strings(between.get("Items"), "r", "N"));
        JsonNode legacy = ok(cli, "dynamodb", "query", "--table-name", table, "--key-conditions",
                "{\"h\":{\"AttributeValueList\":[{\"S\":\"odd\"}],\"ComparisonOperator\":\"EQ\"},"
                        + "\"r\":{\"AttributeValueList\":[{\"N\":\"50\"}],\"ComparisonOperator\":\"LT\"}}");
        assertEquals(List.of("10", "30"), strings(legacy.get("Items"), "r", "N"));
        // OWNER is a reserved word: the index's hash key needs a name placeholder
        JsonNode owned = ok(cli, "dynamodb", "query", "--table-name", table, "--index-name", "owner-index", "--page-size", "3",
                "--key-condition-expression", "#o = :o", "--expression-attribute-names", "{\"#o\":\"owner\"}",
                "--expression-attribute-values", "{\":o\":{\"S\":\"worker-a\"}}");
        assertEquals(List.of("0", "30", "60", "90"), strings(owned.get("Items"), "r", "N"));
        assertEquals(4, owned.get("Count").asInt(), owned.toString());
        JsonNode counted = ok(cli, "dynamodb", "query", "--table-name", table, "--index-name", "owner-index", "--select", "COUNT",
                "--key-condition-expression", "#o = :o", "--expression-attribute-names", "{\"#o\":\"owner\"}",
                "--expression-attribute-values", "{\":o\":{\"S\":\"worker-b\"}}");
        assertEquals(6, counted.get("Count").asInt(), counted.toString());
        assertFalse(counted.has("Items"), counted.toString());

        String missedKey = refused(version, "ValidationException", "Query", "dynamodb", "query", "--table-name", table,
                "--key-condition-expression", "r = :r", "--expression-attribute-values", "{\":r\":{\"N\":\"10\"}}");
        assertEquals("Query condition missed key schema element: h", missedKey);
        String syntax = refused(version, "ValidationException", "Query", "dynamodb", "query", "--table-name", table,
                "--key-condition-expression", "h = :h AND", "--expression-attribute-values", "{\":h\":{\"S\":\"even\"}}");
        assertTrue(syntax.startsWith("Invalid KeyConditionExpression: Syntax error; "), syntax);
        String noIndex = refused(version, "ValidationException", "Scan", "dynamodb", "scan", "--table-name", table,
                "--index-name", "no-such-index");
        assertEquals("The table does not have the specified index: no-such-index", noIndex);
        ok(cli, "dynamodb", "delete-table", "--table-name", table);
    }

    /**
     * UPDATED_OLD and UPDATED_NEW return what the update expression's paths reach, not the whole top-level
     * attributes holding them (as dynalite does too): the update of {@code m.y} comes back without {@code m.x}.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = TABLE_LIST, mode = ResourceAccessMode.READ)
    void returnsOnlyTheUpdatedPathsOfANestedUpdate() throws Exception {
        String cli = AwsCliTest.anyCli();
        String table = unique("cli-paths", "any");
        createLeaseTable(cli, table);
        String key = "{\"leaseKey\":{\"S\":\"p\"}}";
        ok(cli, "dynamodb", "put-item", "--table-name", table,
                "--item", "{\"leaseKey\":{\"S\":\"p\"},\"m\":{\"M\":{\"x\":{\"N\":\"1\"},\"y\":{\"N\":\"2\"}}},\"o\":{\"S\":\"o\"}}");
        JsonNode updatedNew = ok(cli, "dynamodb", "update-item", "--table-name", table, "--key", key,
                "--update-expression", "SET m.y = :v", "--expression-attribute-values", "{\":v\":{\"N\":\"3\"}}",
                "--return-values", "UPDATED_NEW");
        assertEquals(json.readTree("{\"m\":{\"M\":{\"y\":{\"N\":\"3\"}}}}"), updatedNew.get("Attributes"));
        JsonNode updatedOld = ok(cli, "dynamodb", "update-item", "--table-name", table, "--key", key,
                "--update-expression", "SET m.y = :v", "--expression-attribute-values", "{\":v\":{\"N\":\"4\"}}",
                "--return-values", "UPDATED_OLD");
        assertEquals(json.readTree("{\"m\":{\"M\":{\"y\":{\"N\":\"3\"}}}}"), updatedOld.get("Attributes"));
        ok(cli, "dynamodb", "delete-table", "--table-name", table);
    }

    static List<String> keys(JsonNode items) {
        List<String> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get("h").get("S").asText() + "/" + i.get("r").get("N").asText()));
        return out;
    }

    static DynamoDbClient sdk() {
        return onSluice() ? node.dynamoDbClient() : DynamoDbClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretKey)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }
}
