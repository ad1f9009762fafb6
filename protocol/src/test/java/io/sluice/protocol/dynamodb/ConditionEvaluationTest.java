package io.sluice.protocol.dynamodb;

import io.sluice.protocol.dynamodb.Expressions.ItemCondition;
import io.sluice.protocol.dynamodb.ExpressionRequest.ExpectedAttributeValue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static io.sluice.protocol.dynamodb.Expressions.Kind.*;
import static io.sluice.protocol.dynamodb.Req.req;
import static org.junit.jupiter.api.Assertions.*;

class ConditionEvaluationTest {
    static final int CASES = 400;

    static ItemCondition condition(String expression, Map<String, AttributeValue> values) {
        Req r = req().condition(expression);
        values.forEach(r::value);
        return r.compile(PUT).condition().orElseThrow();
    }

    static ItemCondition filter(String expression, Map<String, AttributeValue> values) {
        Req r = req().filter(expression);
        values.forEach(r::value);
        return r.compile(SCAN).filter().orElseThrow();
    }

    @Test
    void evaluatesComparisonsByDynamoDbSemantics() {
        Map<String, AttributeValue> item = Map.of("n", n("10"), "s", s("abc"), "b", b(new byte[] {1, 2}), "ss", ss("x", "y"),
                "m", m(Map.of("k", l(List.of(n(1), s("two"))))));
        assertTrue(condition("n = :v", Map.of(":v", n("10.00"))).test(item));
        assertTrue(condition("n > :v", Map.of(":v", n("9.5"))).test(item));
        assertFalse(condition("n > :v", Map.of(":v", s("9"))).test(item), "types never compare");
        assertTrue(condition("n <> :v", Map.of(":v", s("10"))).test(item));
        assertTrue(condition("nothere <> :v", Map.of(":v", s("10"))).test(item), "<> is NOT =");
        assertFalse(condition("nothere = :v", Map.of(":v", s("10"))).test(item));
        assertFalse(condition("nothere < :v", Map.of(":v", s("10"))).test(item));
        assertTrue(condition("s < :v", Map.of(":v", s("abd"))).test(item));
        assertTrue(condition("ss = :v", Map.of(":v", ss("y", "x"))).test(item));
        assertFalse(condition("ss < :v", Map.of(":v", ss("z"))).test(item), "sets do not order");
        assertTrue(condition("m.k[1] = :v", Map.of(":v", s("two"))).test(item));
        assertTrue(condition("m.k[0] BETWEEN :lo AND :hi", Map.of(":lo", n(0), ":hi", n(1))).test(item));
        assertTrue(condition("s IN (:a, :b)", Map.of(":a", n(1), ":b", s("abc"))).test(item));
        assertTrue(condition("begins_with(s, :p)", Map.of(":p", s("ab"))).test(item));
        assertTrue(condition("begins_with(b, :p)", Map.of(":p", b(new byte[] {1}))).test(item));
        assertTrue(condition("contains(s, :p)", Map.of(":p", s("bc"))).test(item));
        assertTrue(condition("contains(ss, :p)", Map.of(":p", s("x"))).test(item));
        assertTrue(condition("contains(m.k, :p)", Map.of(":p", n("1.0"))).test(item));
        assertTrue(condition("size(ss) = :two AND size(s) = :three AND size(m.k) = :two",
                Map.of(":two", n(2), ":three", n(3))).test(item));
        assertFalse(condition("size(n) = :v", Map.of(":v", n(2))).test(item));
        assertTrue(condition("attribute_type(ss, :t)", Map.of(":t", s("SS"))).test(item));
        assertTrue(condition("attribute_exists(m.k[1]) AND attribute_not_exists(m.k[2])", Map.of()).test(item));
        assertTrue(condition("(n) = :v", Map.of(":v", n(10))).test(item), "a parenthesized operand");
        assertTrue(condition(":v = n", Map.of(":v", n(10))).test(item), "values on either side");
    }

    @Test
    void bindsNotTighterThanAndTighterThanOr() {
        ItemCondition c = condition("a = :t OR a = :f AND b = :t", Map.of(":t", bool(true), ":f", bool(false)));
        // OR binds loosest: a = t OR (a = f AND b = t)
        assertTrue(c.test(Map.of("a", bool(true), "b", bool(false))));
        ItemCondition n = condition("NOT a = :t AND b = :t", Map.of(":t", bool(true)));
        // NOT binds tighter than AND: (NOT a = t) AND b = t
        assertTrue(n.test(Map.of("a", bool(false), "b", bool(true))));
        assertFalse(n.test(Map.of("a", bool(false), "b", bool(false))));
        ItemCondition p = condition("(a = :t OR a = :f) AND b = :t", Map.of(":t", bool(true), ":f", bool(false)));
        assertFalse(p.test(Map.of("a", bool(true), "b", bool(false))));
    }

    @Test
    void keywordsAreCaseInsensitive() {
        ItemCondition c = condition("a between :x and :y or not attribute_exists(a)", Map.of(":x", n(1), ":y", n(3)));
        assertTrue(c.test(Map.of("a", n(2))));
        assertTrue(c.test(Map.of()));
        assertFalse(c.test(Map.of("a", n(4))));
    }

    @Test
    void runsTheLockClientCondition() {
        ItemCondition c = req().condition("attribute_not_exists(#k) OR (attribute_exists(#k) AND #rvn = :rvn)")
                .name("#k", "key").name("#rvn", "recordVersionNumber").value(":rvn", s("v1"))
                .compile(PUT).condition().orElseThrow();
        assertTrue(c.test(Map.of()));
        assertTrue(c.test(Map.of("key", s("k"), "recordVersionNumber", s("v1"))));
        assertFalse(c.test(Map.of("key", s("k"), "recordVersionNumber", s("v2"))));
    }

    @Test
    void notIsTheNegationOfItsCondition() {
        Items gen = new Items(1);
        String[] shapes = {"a = :v", "a < :v", "a >= :v", "begins_with(a, :v)", "contains(a, :v)", "a IN (:v, :w)",
                "attribute_exists(a.b)", "size(a) > :n", "a = :v OR b <> :w", "a BETWEEN :v AND :w"};
        for (int i = 0; i < CASES; i++) {
            String shape = shapes[i % shapes.length];
            AttributeValue v = gen.scalar();
            AttributeValue w = gen.scalar();
            if (shape.contains("BETWEEN") && (!AttributeValue.comparable(v, w) || AttributeValue.compare(v, w) > 0)) {
                w = v;
            }
            if (shape.startsWith("begins_with") && v instanceof N) v = s(gen.string());
            Map<String, AttributeValue> values = new java.util.HashMap<>();
            if (shape.contains(":v")) values.put(":v", v);
            if (shape.contains(":w")) values.put(":w", w);
            if (shape.contains(":n")) values.put(":n", n(1));
            ItemCondition c = condition(shape, values);
            ItemCondition not = condition("NOT (" + shape + ")", values);
            Map<String, AttributeValue> item = gen.item();
            assertEquals(!c.test(item), not.test(item), shape + " on " + item);
        }
    }

    @Test
    void betweenIsBothBounds() {
        Items gen = new Items(2);
        for (int i = 0; i < CASES; i++) {
            AttributeValue x = gen.scalar();
            AttributeValue y = gen.random().nextInt(4) == 0 ? gen.scalar() : sameType(gen, x);
            if (AttributeValue.comparable(x, y) && AttributeValue.compare(x, y) > 0) {
                AttributeValue t = x;
                x = y;
                y = t;
            }
            if (!x.type().equals(y.type())) continue;
            Map<String, AttributeValue> values = Map.of(":x", x, ":y", y);
            ItemCondition between = condition("a BETWEEN :x AND :y", values);
            ItemCondition bounds = condition("a >= :x AND a <= :y", values);
            Map<String, AttributeValue> item = gen.item();
            if (gen.random().nextBoolean()) item.put("a", sameType(gen, x));
            assertEquals(bounds.test(item), between.test(item), x + " " + y + " " + item);
        }
    }

    @Test
    void comparisonsAgreeWithTheValueOrder() {
        Items gen = new Items(3);
        for (int i = 0; i < CASES; i++) {
            AttributeValue a = gen.scalar();
            AttributeValue v = gen.random().nextBoolean() ? sameType(gen, a) : gen.scalar();
            Map<String, AttributeValue> item = Map.of("a", a);
            boolean comparable = AttributeValue.comparable(a, v);
            int c = comparable ? AttributeValue.compare(a, v) : 0;
            assertEquals(comparable && c < 0, condition("a < :v", Map.of(":v", v)).test(item));
            assertEquals(comparable && c <= 0, condition("a <= :v", Map.of(":v", v)).test(item));
            assertEquals(comparable && c > 0, condition("a > :v", Map.of(":v", v)).test(item));
            assertEquals(comparable && c >= 0, condition("a >= :v", Map.of(":v", v)).test(item));
            assertEquals(a.equals(v), condition("a = :v", Map.of(":v", v)).test(item));
            // a < v is v > a
            assertEquals(condition("a < :v", Map.of(":v", v)).test(item), condition(":v > a", Map.of(":v", v)).test(item));
        }
    }

    @Test
    void legacyExpectedAgreesWithTheEquivalentExpression() {
        Items gen = new Items(4);
        String[][] pairs = {
                {"EQ", "a = :v"}, {"NE", "a <> :v"}, {"LT", "a < :v"}, {"LE", "a <= :v"}, {"GT", "a > :v"}, {"GE", "a >= :v"},
                {"NOT_NULL", "attribute_exists(a)"}, {"NULL", "attribute_not_exists(a)"}, {"CONTAINS", "contains(a, :v)"},
                {"NOT_CONTAINS", "NOT contains(a, :v)"}, {"BEGINS_WITH", "begins_with(a, :v)"}, {"IN", "a IN (:v, :w)"},
                {"BETWEEN", "a BETWEEN :v AND :w"}};
        for (int i = 0; i < CASES; i++) {
            String[] pair = pairs[i % pairs.length];
            String op = pair[0];
            AttributeValue v = op.equals("BEGINS_WITH") ? s(gen.string()) : gen.scalar();
            AttributeValue w = sameType(gen, v);
            if (op.equals("BETWEEN") && AttributeValue.compare(v, w) > 0) {
                AttributeValue t = v;
                v = w;
                w = t;
            }
            List<AttributeValue> list = switch (op) {
                case "NULL", "NOT_NULL" -> List.of();
                case "IN", "BETWEEN" -> List.of(v, w);
                default -> List.of(v);
            };
            ItemCondition legacy = req().expected("a", new ExpectedAttributeValue(null, null, op, list)).compile(PUT).condition().orElseThrow();
            Map<String, AttributeValue> values = new java.util.HashMap<>();
            if (pair[1].contains(":v")) values.put(":v", v);
            if (pair[1].contains(":w")) values.put(":w", w);
            ItemCondition expression = condition(pair[1], values);
            Map<String, AttributeValue> item = gen.item();
            if (gen.random().nextBoolean()) item.put("a", gen.random().nextBoolean() ? v : sameType(gen, v));
            assertEquals(expression.test(item), legacy.test(item), op + " " + list + " on " + item);
        }
    }

    @Test
    void legacyExistsAndValueAreEqualityAndPresence() {
        ItemCondition counter = req().expected("leaseCounter", new ExpectedAttributeValue(n("3"), null, null, null)).compile(UPDATE)
                .condition().orElseThrow();
        assertTrue(counter.test(Map.of("leaseCounter", n("3.0"))));
        assertFalse(counter.test(Map.of("leaseCounter", n("4"))));
        assertFalse(counter.test(Map.of()));
        ItemCondition absent = req().expected("leaseKey", new ExpectedAttributeValue(null, false, null, null)).compile(PUT)
                .condition().orElseThrow();
        assertTrue(absent.test(Map.of()));
        assertFalse(absent.test(Map.of("leaseKey", s("k"))));
        ItemCondition both = req().expected("a", new ExpectedAttributeValue(s("x"), true, null, null))
                .expected("b", new ExpectedAttributeValue(null, false, null, null)).compile(DELETE).condition().orElseThrow();
        assertTrue(both.test(Map.of("a", s("x"))));
        assertFalse(both.test(Map.of("a", s("x"), "b", s("y"))));
        ItemCondition either = req().expected("a", new ExpectedAttributeValue(s("x"), true, null, null))
                .expected("b", new ExpectedAttributeValue(null, false, null, null)).conditionalOperator("OR")
                .compile(DELETE).condition().orElseThrow();
        assertTrue(either.test(Map.of("a", s("x"), "b", s("y"))));
        assertTrue(either.test(Map.of("a", s("z"))));
        assertFalse(either.test(Map.of("a", s("z"), "b", s("y"))));
    }

    @Test
    void legacyFiltersMatchLikeExpressions() {
        ItemCondition f = req().filter("n", "GT", n(5)).filter("s", "BEGINS_WITH", s("ab")).compile(SCAN).filter().orElseThrow();
        assertTrue(f.test(Map.of("n", n(6), "s", s("abc"))));
        assertFalse(f.test(Map.of("n", n(5), "s", s("abc"))));
        ItemCondition q = req().keyCondition("pk", "EQ", s("h")).filter("n", "BETWEEN", n(1), n(3)).compile(QUERY).filter().orElseThrow();
        assertTrue(q.test(Map.of("n", n(3))));
        assertFalse(q.test(Map.of("n", n(4))));
    }

    private static AttributeValue sameType(Items gen, AttributeValue like) {
        if (like instanceof S) return s(gen.string());
        if (like instanceof N) return new N(gen.number());
        return b(gen.bytes());
    }
}
