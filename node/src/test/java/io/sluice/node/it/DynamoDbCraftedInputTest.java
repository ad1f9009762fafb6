package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Generated hostile DynamoDB requests at a real node: expressions cut short, spliced and salted with
 * operators, placeholders and reserved words; attribute values of every wrong shape (two types, none,
 * wrong JSON kinds, numbers beyond DynamoDB's range, duplicate set members, deep nesting); keys of the
 * wrong type or attributes. Every answer must be a 2xx or a 4xx with a DynamoDB error type, never a
 * 5xx; a refused write must change nothing; and the node keeps serving. The seed is printed; rerun
 * one case with {@code -Dsluice.seed=<seed>}.
 */
class DynamoDbCraftedInputTest {
    static final long SEED = Long.getLong("sluice.seed", System.nanoTime());
    static final int CASES = Integer.getInteger("sluice.cases", 400);
    static final String JSON = "application/x-amz-json-1.0";
    static final ObjectMapper json = new ObjectMapper();
    static TestNode node;
    static SignedHttp http;

    static final List<String> EXPRESSIONS = List.of(
            "attribute_not_exists(#pk) OR (attribute_exists(#pk) AND #rvn = :rvn)",
            "SET #a = :a, #b = if_not_exists(#b, :z) + :one REMOVE #c",
            "leaseCounter = :c AND NOT contains(#b, :a)",
            "size(#a) BETWEEN :one AND :z",
            "#a IN (:a, :one, :z)",
            "ADD #n :one DELETE #s :set",
            "begins_with(#a, :a) OR attribute_type(#a, :t)",
            "SET #l = list_append(#l, :lst), #m.#a = :a",
            "#a.#b[2].c <> :a");
    static final List<String> UPDATES = List.of(EXPRESSIONS.get(1), EXPRESSIONS.get(5), EXPRESSIONS.get(7), "SET #a = :a", "REMOVE #b, #c");
    static final List<String> CONDITIONS = List.of(EXPRESSIONS.get(0), EXPRESSIONS.get(2), EXPRESSIONS.get(3), EXPRESSIONS.get(4),
            EXPRESSIONS.get(6), EXPRESSIONS.get(8), "attribute_exists(#a)", "#a = :a");
    static final List<String> SALT = List.of("(", ")", ",", "=", "<>", " AND ", " OR ", "NOT ", "#", ":", "[", "]",
            "[99999999999999999999]", ".", "size(", "SET ", "REMOVE ", "status", "name", "#undefined", ":undefined", "\u0000",
            "\u00e9", "'", "\"", " BETWEEN ", " IN (", "attribute_exists(", "if_not_exists(", "list_append(", "+", "-");
    static final List<String> VALUES = List.of(
            "{\"S\":\"x\"}", "{\"N\":\"1\"}", "{\"S\":\"x\",\"N\":\"1\"}", "{}", "{\"N\":\"abc\"}", "{\"N\":\"1e999\"}",
            "{\"N\":\"123456789012345678901234567890123456789\"}", "{\"N\":1}", "{\"S\":5}", "{\"B\":\"not base64!\"}",
            "{\"BOOL\":\"yes\"}", "{\"NULL\":false}", "{\"SS\":[]}", "{\"SS\":[\"a\",\"a\"]}", "{\"NS\":[\"1\",\"1.0\"]}",
            "{\"L\":[{\"M\":{\"x\":{\"L\":[]}}}]}", "{\"M\":{\"\":{\"S\":\"\"}}}", "{\"SS\":[\"a\"]}", "{\"L\":\"x\"}",
            "null", "[]", "\"S\"", "{\"X\":\"1\"}", "{\"S\":\"x\",\"extra\":1}", deep(200));

    static String deep(int levels) {
        return "{\"L\":[".repeat(levels) + "{\"S\":\"x\"}" + "]}".repeat(levels);
    }

    @BeforeAll
    static void start() throws Exception {
        System.out.println("DynamoDbCraftedInputTest seed " + SEED + " (-Dsluice.seed=" + SEED + " to repeat)");
        node = new TestNode(Clock.systemUTC(), "").start();
        http = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("dynamodb");
        call("CreateTable", "{\"TableName\":\"fuzz\",\"BillingMode\":\"PAY_PER_REQUEST\","
                + "\"KeySchema\":[{\"AttributeName\":\"leaseKey\",\"KeyType\":\"HASH\"}],"
                + "\"AttributeDefinitions\":[{\"AttributeName\":\"leaseKey\",\"AttributeType\":\"S\"}]}");
        call("PutItem", "{\"TableName\":\"fuzz\",\"Item\":{\"leaseKey\":{\"S\":\"k0\"},\"a\":{\"S\":\"x\"},\"leaseCounter\":{\"N\":\"1\"}}}");
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    static HttpResponse<byte[]> post(String operation, String body) throws Exception {
        return http.post("DynamoDB_20120810." + operation, JSON, body.getBytes(StandardCharsets.UTF_8));
    }

    static JsonNode call(String operation, String body) throws Exception {
        HttpResponse<byte[]> r = post(operation, body);
        assertEquals(200, r.statusCode(), () -> operation + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return json.readTree(r.body());
    }

    /** Every item of the table, as the node answers a consistent Scan. */
    static String table() throws Exception {
        return call("Scan", "{\"TableName\":\"fuzz\",\"ConsistentRead\":true}").get("Items").toString();
    }

    /** Set per case: a clean case keeps its expressions whole and its values well-formed, so that some input is served. */
    static boolean clean;

    static String mutate(String expression, Random rnd) {
        if (clean || rnd.nextBoolean()) return expression;
        StringBuilder out = new StringBuilder(expression);
        int edits = 1 + rnd.nextInt(3);
        for (int i = 0; i < edits; i++) {
            switch (rnd.nextInt(4)) {
                case 0 -> out.setLength(rnd.nextInt(out.length() + 1));
                case 1 -> out.insert(rnd.nextInt(out.length() + 1), SALT.get(rnd.nextInt(SALT.size())));
                case 2 -> {
                    if (out.length() > 0) out.deleteCharAt(rnd.nextInt(out.length()));
                }
                default -> out.append(' ').append(EXPRESSIONS.get(rnd.nextInt(EXPRESSIONS.size())));
            }
        }
        return out.toString();
    }

    static String quote(String s) throws Exception {
        return json.writeValueAsString(s);
    }

    /** The entries of {@code all} whose placeholder appears in {@code text} (or all of them), as a JSON object. */
    static String placeholders(java.util.Map<String, String> all, String text, boolean everyOne) {
        StringBuilder out = new StringBuilder("{");
        for (var e : new java.util.TreeMap<>(all).entrySet()) {
            if (everyOne || java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(e.getKey()) + "(?![A-Za-z0-9_])").matcher(text).find()) {
                if (out.length() > 1) out.append(',');
                out.append('"').append(e.getKey()).append("\":").append(e.getValue());
            }
        }
        return out.append('}').toString();
    }

    /** Mostly a well-formed value, else any of the list. */
    static String value(Random rnd) {
        return VALUES.get(clean || rnd.nextInt(4) != 0 ? rnd.nextInt(2) : rnd.nextInt(VALUES.size()));
    }

    @Test
    void hostileRequestsGetDynamoDbErrorsAndChangeNothing() throws Exception {
        Random rnd = new Random(SEED);
        String before = table();
        int served = 0, refused = 0;
        for (int i = 0; i < CASES; i++) {
            clean = rnd.nextInt(4) == 0;
            java.util.Map<String, String> allNames = java.util.Map.of("#pk", "\"leaseKey\"", "#rvn", "\"rvn\"", "#a", "\"a\"",
                    "#b", "\"b\"", "#c", "\"c\"", "#n", "\"n\"", "#s", "\"s\"", "#l", "\"l\"", "#m", "\"m\"");
            java.util.Map<String, String> allValues = java.util.Map.of(":rvn", value(rnd), ":a", rnd.nextBoolean() ? value(rnd) : "{\"S\":\"x\"}",
                    ":one", "{\"N\":\"1\"}", ":z", value(rnd), ":c", "{\"N\":\"1\"}", ":t", "{\"S\":\"S\"}",
                    ":set", "{\"SS\":[\"q\"]}", ":lst", "{\"L\":[]}");
            String key = rnd.nextInt(5) == 0 ? "{\"leaseKey\":" + value(rnd) + "}" : "{\"leaseKey\":{\"S\":\"k" + rnd.nextInt(4) + "\"}}";
            int shape = rnd.nextInt(6);
            // an update expression for UpdateItem, a condition for the others, sometimes the wrong kind
            List<String> pool = (shape == 0) == (rnd.nextInt(6) != 0) ? UPDATES : CONDITIONS;
            String raw = mutate(pool.get(rnd.nextInt(pool.size())), rnd);
            String other = mutate(List.of("#a = :a", "#a, #b.#c[1]").get(rnd.nextInt(2)), rnd);
            String expression = quote(raw);
            // mostly only the placeholders the request's expressions use (an unused one is refused before anything else)
            boolean all = !clean && rnd.nextInt(8) == 0;
            java.util.function.Function<String, String> params = texts -> {
                String names = placeholders(allNames, texts, all);
                String values = placeholders(allValues, texts, all);
                return (names.equals("{}") ? "" : ",\"ExpressionAttributeNames\":" + names)
                        + (values.equals("{}") ? "" : ",\"ExpressionAttributeValues\":" + values);
            };
            String operation;
            String body;
            switch (shape) {
                case 0 -> {
                    operation = "UpdateItem";
                    boolean conditional = rnd.nextBoolean();
                    body = "{\"TableName\":\"fuzz\",\"Key\":" + key + ",\"UpdateExpression\":" + expression
                            + (conditional ? ",\"ConditionExpression\":\"attribute_not_exists(#pk)\"" : "")
                            + params.apply(raw + (conditional ? " #pk" : "")) + "}";
                }
                case 1 -> {
                    operation = "PutItem";
                    body = "{\"TableName\":\"fuzz\",\"Item\":{\"leaseKey\":{\"S\":\"k" + rnd.nextInt(4) + "\"},\"a\":" + value(rnd) + "},"
                            + "\"ConditionExpression\":" + expression + params.apply(raw) + "}";
                }
                case 2 -> {
                    operation = "DeleteItem";
                    body = "{\"TableName\":\"fuzz\",\"Key\":" + key + ",\"Expected\":{\"a\":{\"ComparisonOperator\":\""
                            + List.of("EQ", "BETWEEN", "IN", "NULL", "BOGUS", "CONTAINS").get(rnd.nextInt(6))
                            + "\",\"AttributeValueList\":[" + value(rnd) + "]}}}";
                }
                case 3 -> {
                    operation = "Query";
                    String keyCondition = mutate("#pk = :a", rnd);
                    body = "{\"TableName\":\"fuzz\",\"KeyConditionExpression\":" + quote(keyCondition) + ",\"FilterExpression\":"
                            + quote(other) + params.apply(keyCondition + " " + other) + ",\"Limit\":" + (rnd.nextInt(8) - 1) + "}";
                }
                case 4 -> {
                    operation = "Scan";
                    body = "{\"TableName\":\"fuzz\",\"FilterExpression\":" + expression + ",\"ProjectionExpression\":"
                            + quote(other) + params.apply(raw + " " + other) + ",\"Segment\":" + (rnd.nextInt(5) - 1)
                            + ",\"TotalSegments\":" + rnd.nextInt(4) + ",\"ExclusiveStartKey\":" + key + "}";
                }
                default -> {
                    operation = "UpdateItem";
                    body = "{\"TableName\":\"fuzz\",\"Key\":" + key + ",\"Expected\":{\"leaseCounter\":{\"" + (rnd.nextBoolean() ? "Value\":" + value(rnd) : "Exists\":false")
                            + "}},\"AttributeUpdates\":{" + (rnd.nextInt(4) == 0 ? "\"leaseKey\":{\"Action\":\"PUT\",\"Value\":{\"S\":\"other\"}}," : "")
                            + "\"x\":{\"Action\":\""
                            + List.of("ADD", "DELETE", "PUT", "SHRED").get(rnd.nextInt(4)) + "\",\"Value\":" + value(rnd) + "}}}";
                }
            }
            HttpResponse<byte[]> r = post(operation, body);
            String text = new String(r.body(), StandardCharsets.UTF_8);
            String context = "seed " + SEED + " case " + i + ": " + operation + " " + body + " -> " + r.statusCode() + " " + text;
            assertTrue(r.statusCode() < 500, context);
            if (r.statusCode() >= 400) {
                String type = json.readTree(r.body()).path("__type").asText("");
                assertTrue(type.startsWith("com.amazonaws.dynamodb.v20120810#") || type.equals("SerializationException"), context);
                refused++;
            } else {
                served++;
            }
            if (r.statusCode() >= 400 && !operation.equals("Query") && !operation.equals("Scan")) {
                assertEquals(before, table(), "a refused write changed the table; " + context);
            } else if (r.statusCode() == 200 && !operation.equals("Query") && !operation.equals("Scan")) {
                before = table();
            }
        }
        System.out.printf("DynamoDbCraftedInputTest: %d cases, %d served, %d refused, 0 server errors%n", CASES, served, refused);
        assertTrue(refused > CASES / 4, "the generator produced hostile input: " + refused + " refused");
        assertTrue(served > CASES / 40, "and input that is served, so that refusals are told apart: " + served + " served");
        call("DescribeTable", "{\"TableName\":\"fuzz\"}");
    }
}
