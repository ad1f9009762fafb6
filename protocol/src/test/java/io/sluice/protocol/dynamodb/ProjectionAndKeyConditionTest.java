package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.dynamodb.Expressions.KeyCondition;
import io.sluice.protocol.dynamodb.Expressions.Projection;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static io.sluice.protocol.dynamodb.Expressions.Kind.*;
import static io.sluice.protocol.dynamodb.Req.req;
import static org.junit.jupiter.api.Assertions.*;

class ProjectionAndKeyConditionTest {

    static Projection projection(String expression) {
        return req().projection(expression).compile(GET).projection().orElseThrow();
    }

    @Test
    void projectsTopLevelAndNestedPaths() {
        Map<String, AttributeValue> item = Map.of("a", s("x"), "b", n(1),
                "m", m(Map.of("k", s("v"), "o", s("w"), "deep", m(Map.of("z", n(9), "y", n(8))))),
                "l", l(List.of(s("l0"), m(Map.of("q", s("q1"), "r", s("r1"))), s("l2"))));
        assertEquals(Map.of("a", s("x")), projection("a, nothere").apply(item));
        assertEquals(Map.of("m", m(Map.of("k", s("v"), "deep", m(Map.of("z", n(9)))))), projection("m.k, m.deep.z").apply(item));
        assertEquals(Map.of("l", l(List.of(s("l0"), s("l2")))), projection("l[2], l[0], l[7]").apply(item));
        assertEquals(Map.of("l", l(List.of(m(Map.of("q", s("q1")))))), projection("l[1].q").apply(item));
        assertEquals(Map.of(), projection("a.b, l.x").apply(item), "paths into scalars or the wrong container keep nothing");
        assertEquals(Map.of("b", n(1)), req().projection("#b").name("#b", "b").compile(SCAN).projection().orElseThrow().apply(item));
        assertEquals(Map.of("a", s("x"), "b", n(1)), req().attributesToGet("a", "b").compile(SCAN).projection().orElseThrow().apply(item));
    }

    @Test
    void projectionKeepsExactlyTheNamedPaths() {
        Items gen = new Items(7);
        for (int i = 0; i < 300; i++) {
            Map<String, AttributeValue> item = gen.item();
            List<String> names = new ArrayList<>();
            for (String name : Items.NAMES) if (gen.random().nextBoolean()) names.add(name);
            if (names.isEmpty()) names.add("a");
            Map<String, AttributeValue> projected = projection(String.join(", ", names)).apply(item);
            for (String name : Items.NAMES) {
                assertEquals(names.contains(name) ? item.get(name) : null, projected.get(name), name + " of " + item);
            }
            // a nested path keeps only its part: its value there is the item's value there
            Map<String, AttributeValue> nested = projection("a.b").apply(item);
            AttributeValue expected = new DocumentPath(List.of("a", "b")).get(item);
            assertEquals(expected == null ? Map.of() : Map.of("a", m(Map.of("b", expected))), nested);
        }
    }

    @Test
    void refusesDuplicateAttributesToGet() {
        req().attributesToGet("a", "a").refused(GET, "One or more parameter values were invalid: Duplicate value in attribute name: a");
    }

    static KeyCondition key(Req r, String hash, String range) {
        return r.compile(QUERY).keyCondition(hash, range);
    }

    @Test
    void compilesKeyConditionExpressions() {
        KeyCondition k = key(req().keyCondition("#h = :h AND sk BETWEEN :a AND :b").name("#h", "pk")
                .value(":h", s("H")).value(":a", n(1)).value(":b", n(5)), "pk", "sk");
        assertEquals(s("H"), k.hashValue());
        assertEquals("BETWEEN", k.rangeOperator());
        assertTrue(k.rangeMatches(n(1)));
        assertTrue(k.rangeMatches(n(5)));
        assertFalse(k.rangeMatches(n("5.01")));
        assertFalse(k.rangeMatches(s("3")));

        KeyCondition begins = key(req().keyCondition("begins_with(sk, :p) AND pk = :h").value(":h", s("H")).value(":p", s("ab")), "pk", "sk");
        assertTrue(begins.rangeMatches(s("abc")));
        assertFalse(begins.rangeMatches(s("b")));

        KeyCondition flipped = key(req().keyCondition(":h = pk AND :v < sk").value(":h", s("H")).value(":v", n(3)), "pk", "sk");
        assertEquals("GT", flipped.rangeOperator());
        assertTrue(flipped.rangeMatches(n(4)));
        assertFalse(flipped.rangeMatches(n(3)));

        KeyCondition hashOnly = key(req().keyCondition("pk = :h").value(":h", n(7)), "pk", "sk");
        assertTrue(hashOnly.rangeMatches(s("anything")));
        assertNull(hashOnly.rangeOperator());
        assertEquals(List.of(), hashOnly.rangeValues());
    }

    @Test
    void compilesLegacyKeyConditions() {
        KeyCondition k = key(req().keyCondition("pk", "EQ", s("H")).keyCondition("sk", "GE", s("m")), "pk", "sk");
        assertEquals(s("H"), k.hashValue());
        assertTrue(k.rangeMatches(s("m")));
        assertTrue(k.rangeMatches(s("n")));
        assertFalse(k.rangeMatches(s("l")));
    }

    static void refusedKey(Req r, String hash, String range, String message) {
        ApiException e = assertThrows(ApiException.class, () -> key(r, hash, range));
        assertEquals(message, e.getMessage());
    }

    @Test
    void refusesKeyConditionsTheSchemaCannotServe() {
        refusedKey(req().keyCondition("sk = :v").value(":v", s("x")), "pk", "sk", "Query condition missed key schema element: pk");
        refusedKey(req().keyCondition("pk = :v AND zz = :v").value(":v", s("x")), "pk", "sk",
                "Query condition missed key schema element: sk");
        refusedKey(req().keyCondition("pk = :v AND sk = :v").value(":v", s("x")), "pk", null, "Query key condition not supported");
        refusedKey(req().keyCondition("pk > :v").value(":v", s("x")), "pk", "sk", "Query key condition not supported");
        refusedKey(req().keyCondition("pk", "EQ", s("h")).keyCondition("sk", "NE", s("x")), "pk", "sk",
                "Attempted conditional constraint is not an indexable operation");
        refusedKey(req().keyCondition("pk", "EQ", s("h")).keyCondition("sk", "EQ", s("x")).keyCondition("z", "EQ", s("x")), "pk", "sk",
                "Conditions can be of length 1 or 2 only");
        ApiException e = assertThrows(ApiException.class, () -> req().keyCondition("pk = :v").value(":v", s("x")).compile(QUERY)
                .keyCondition("pk", "N", null, null));
        assertEquals("One or more parameter values were invalid: Condition parameter type does not match schema type", e.getMessage());
    }

    @Test
    void refusesKeyConditionExpressionsWithOtherOperators() {
        req().keyCondition("pk = :v OR sk = :v").value(":v", s("x")).refused(QUERY, "Invalid operator used in KeyConditionExpression: OR");
        req().keyCondition("pk = :v AND NOT sk = :v").value(":v", s("x")).refused(QUERY, "Invalid operator used in KeyConditionExpression: NOT");
        req().keyCondition("pk = :v AND sk <> :v").value(":v", s("x")).refused(QUERY, "Invalid operator used in KeyConditionExpression: <>");
        req().keyCondition("pk IN (:v)").value(":v", s("x")).refused(QUERY, "Invalid operator used in KeyConditionExpression: IN");
        req().keyCondition("attribute_exists(pk)").refused(QUERY, "Invalid operator used in KeyConditionExpression: attribute_exists");
        req().keyCondition("contains(pk, :v)").value(":v", s("x")).refused(QUERY, "Invalid operator used in KeyConditionExpression: contains");
        req().keyCondition("size(pk) = :v").value(":v", n(1)).refused(QUERY, "KeyConditionExpressions cannot contain nested operations");
        req().keyCondition("pk.a = :v").value(":v", s("x")).refused(QUERY, "KeyConditionExpressions cannot have conditions on nested attributes");
        req().keyCondition("pk = sk").refused(QUERY, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition");
        req().keyCondition(":v = :v").value(":v", s("x")).refused(QUERY, "Invalid condition in KeyConditionExpression: No key attribute specified");
        req().keyCondition("pk = :v AND pk = :v").value(":v", s("x")).refused(QUERY, "KeyConditionExpressions must only contain one condition per key");
        req().refused(QUERY, "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
    }
}
