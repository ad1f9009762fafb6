package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.dynamodb.Expressions.Updated;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static io.sluice.protocol.dynamodb.Expressions.Kind.UPDATE;
import static io.sluice.protocol.dynamodb.Req.req;
import static org.junit.jupiter.api.Assertions.*;

class UpdateEvaluationTest {

    static Updated apply(Req r, Map<String, AttributeValue> item) {
        return r.compile(UPDATE).update().orElseThrow().apply(item);
    }

    static void assertRefused(Req r, Map<String, AttributeValue> item, String message) {
        ApiException e = assertThrows(ApiException.class, () -> apply(r, item));
        assertEquals(message, e.getMessage());
    }

    @Test
    void setsRemovesAddsAndDeletesInOneExpression() {
        Map<String, AttributeValue> item = Map.of("pk", s("k"), "b", n(1), "c", s("gone"), "tags", ss("x", "y"), "n", n("1.5"));
        Updated u = apply(req().update("SET a = :a, b = b + :one REMOVE c ADD n :one, tags :z DELETE tags2 :x")
                .value(":a", s("new")).value(":one", n(1)).value(":z", ss("z")).value(":x", ss("x")), item);
        assertEquals(s("new"), u.item().get("a"));
        assertEquals(n(2), u.item().get("b"));
        assertFalse(u.item().containsKey("c"));
        assertEquals(n("2.5"), u.item().get("n"));
        assertEquals(ss("x", "y", "z"), u.item().get("tags"));
        assertFalse(u.item().containsKey("tags2"));
        assertEquals(s("k"), u.item().get("pk"));
        assertEquals(Set.of("a", "b", "c", "n", "tags", "tags2"), u.changed());
    }

    @Test
    void runsTheLockClientUpdate() {
        Updated u = apply(req().update("SET #a = :a, #b = :b REMOVE #c").name("#a", "owner").name("#b", "rvn").name("#c", "data")
                .value(":a", s("me")).value(":b", s("v2")), Map.of("key", s("k"), "data", s("d"), "rvn", s("v1")));
        assertEquals(Map.of("key", s("k"), "owner", s("me"), "rvn", s("v2")), u.item());
        assertEquals(Set.of("owner", "rvn", "data"), u.changed());
    }

    @Test
    void readsEveryOperandFromTheItemBeforeTheUpdate() {
        Updated u = apply(req().update("SET a = b, b = a"), Map.of("a", n(1), "b", n(2)));
        assertEquals(Map.of("a", n(2), "b", n(1)), u.item());
    }

    @Test
    void evaluatesFunctionsAndArithmetic() {
        Map<String, AttributeValue> item = Map.of("l", l(List.of(n(1))), "x", n(10));
        Updated u = apply(req().update("SET c = if_not_exists(c, :z), x = if_not_exists(x, :z), l = list_append(l, :l), "
                + "p = list_append(:l, l), d = :a - :b, e = x - :a").value(":z", n(0)).value(":l", l(List.of(s("t"))))
                .value(":a", n("0.3")).value(":b", n("0.1")), item);
        assertEquals(n(0), u.item().get("c"));
        assertEquals(n(10), u.item().get("x"));
        assertEquals(l(List.of(n(1), s("t"))), u.item().get("l"));
        assertEquals(l(List.of(s("t"), n(1))), u.item().get("p"));
        assertEquals("0.2", ((N) u.item().get("d")).canonical(), "exact decimals");
        assertEquals(n("9.7"), u.item().get("e"));
    }

    @Test
    void writesAndRemovesNestedPaths() {
        Map<String, AttributeValue> item = Map.of("m", m(Map.of("k", s("v"), "l", l(List.of(n(0), n(1), n(2), n(3))))));
        Updated u = apply(req().update("SET m.k = :x, m.fresh = :x, m.l[1] = :x, m.l[10] = :y REMOVE m.l[0], m.l[2]")
                .value(":x", s("X")).value(":y", s("Y")), item);
        assertEquals(m(Map.of("k", s("X"), "fresh", s("X"), "l", l(List.of(s("X"), n(3), s("Y"))))), u.item().get("m"));
        assertEquals(Set.of("m"), u.changed());
    }

    @Test
    void refusesWrongOperandsAtRunTime() {
        assertRefused(req().update("SET a = a + :n").value(":n", n(1)), Map.of("a", s("x")),
                "An operand in the update expression has an incorrect data type");
        assertRefused(req().update("SET a = list_append(a, :l)").value(":l", l(List.of())), Map.of("a", s("x")),
                "An operand in the update expression has an incorrect data type");
        assertRefused(req().update("ADD a :n").value(":n", n(1)), Map.of("a", s("x")),
                "An operand in the update expression has an incorrect data type");
        assertRefused(req().update("ADD a :s").value(":s", ss("x")), Map.of("a", ns("1")),
                "An operand in the update expression has an incorrect data type");
        assertRefused(req().update("DELETE a :s").value(":s", ss("x")), Map.of("a", s("x")),
                "An operand in the update expression has an incorrect data type");
        assertRefused(req().update("SET a = b + :n").value(":n", n(1)), Map.of(),
                "The provided expression refers to an attribute that does not exist in the item");
        assertRefused(req().update("SET a.b = :n").value(":n", n(1)), Map.of(),
                "The document path provided in the update expression is invalid for update");
        assertRefused(req().update("SET a.b.c = :n").value(":n", n(1)), Map.of("a", m(Map.of())),
                "The document path provided in the update expression is invalid for update");
        assertRefused(req().update("SET a[0] = :n").value(":n", n(1)), Map.of("a", m(Map.of())),
                "The document path provided in the update expression is invalid for update");
        assertRefused(req().update("SET a = a + :n").value(":n", n("9E+125")), Map.of("a", n("9E+125")),
                "Number overflow. Attempting to store a number with magnitude larger than supported range");
    }

    @Test
    void addsNumbersExactly() {
        Items gen = new Items(5);
        for (int i = 0; i < 300; i++) {
            BigDecimal a = gen.number().movePointLeft(gen.random().nextInt(10));
            BigDecimal b = gen.number().movePointRight(gen.random().nextInt(10));
            Updated u = apply(req().update("ADD x :b").value(":b", new N(b)), Map.of("x", new N(a)));
            assertEquals(0, a.add(b).compareTo(((N) u.item().get("x")).value()), a + " + " + b);
            Updated v = apply(req().update("SET x = x - :b").value(":b", new N(b)), Map.of("x", new N(a)));
            assertEquals(0, a.subtract(b).compareTo(((N) v.item().get("x")).value()), a + " - " + b);
        }
    }

    @Test
    void refusesASumOfMoreThan38Digits() {
        ApiException e = assertThrows(ApiException.class, () -> apply(req().update("ADD x :b").value(":b", n("1E+30")),
                Map.of("x", n("0.000000001"))));
        assertEquals("Attempting to store more than 38 significant digits in a Number", e.getMessage());
    }

    @Test
    void addAndDeleteAreSetAlgebra() {
        Items gen = new Items(6);
        for (int i = 0; i < 300; i++) {
            SS a = gen.stringSet();
            SS b = gen.stringSet();
            Updated added = apply(req().update("ADD s :b").value(":b", b), Map.of("s", a));
            Set<String> union = new HashSet<>(a.value());
            union.addAll(b.value());
            assertEquals(union, new HashSet<>(((SS) added.item().get("s")).value()));
            assertEquals(union.size(), ((SS) added.item().get("s")).value().size(), "no duplicates");

            Updated deleted = apply(req().update("DELETE s :b").value(":b", b), Map.of("s", a));
            Set<String> difference = new HashSet<>(a.value());
            difference.removeAll(b.value());
            if (difference.isEmpty()) {
                assertFalse(deleted.item().containsKey("s"), "an emptied set goes");
            } else {
                assertEquals(difference, new HashSet<>(((SS) deleted.item().get("s")).value()));
            }

            NS x = gen.numberSet();
            NS y = gen.numberSet();
            NS sum = (NS) apply(req().update("ADD s :y").value(":y", y), Map.of("s", x)).item().get("s");
            Set<BigDecimal> expected = new HashSet<>(x.members());
            expected.addAll(y.members());
            assertEquals(expected, sum.members());
            assertEquals(expected.size(), sum.value().size());
        }
    }

    @Test
    void addOrDeleteOnAMissingAttribute() {
        assertEquals(n(5), apply(req().update("ADD c :n").value(":n", n(5)), Map.of()).item().get("c"));
        assertEquals(ss("a"), apply(req().update("ADD c :s").value(":s", ss("a")), Map.of()).item().get("c"));
        assertEquals(Map.of(), apply(req().update("DELETE c :s").value(":s", ss("a")), Map.of()).item());
    }

    @Test
    void legacyAttributeUpdatesPutAddAndDelete() {
        Map<String, AttributeValue> item = new LinkedHashMap<>();
        item.put("leaseKey", s("shard-1"));
        item.put("leaseCounter", n(3));
        item.put("ownerSwitchesSinceCheckpoint", n(0));
        item.put("checkpoint", s("TRIM_HORIZON"));
        item.put("parents", ss("p1", "p2"));
        item.put("pendingCheckpoint", s("x"));
        item.put("list", l(List.of(n(1))));
        Updated u = apply(req().attributeUpdate("leaseOwner", "PUT", s("worker-1")).attributeUpdate("leaseCounter", "ADD", n(1))
                .attributeUpdate("checkpoint", null, s("42")).attributeUpdate("pendingCheckpoint", "DELETE", null)
                .attributeUpdate("parents", "DELETE", ss("p1")).attributeUpdate("children", "ADD", ss("c1"))
                .attributeUpdate("list", "ADD", l(List.of(n(2)))).attributeUpdate("ownerSwitchesSinceCheckpoint", "ADD", n("-1")), item);
        assertEquals(s("worker-1"), u.item().get("leaseOwner"));
        assertEquals(n(4), u.item().get("leaseCounter"));
        assertEquals(s("42"), u.item().get("checkpoint"));
        assertFalse(u.item().containsKey("pendingCheckpoint"));
        assertEquals(ss("p2"), u.item().get("parents"));
        assertEquals(ss("c1"), u.item().get("children"));
        assertEquals(l(List.of(n(1), n(2))), u.item().get("list"));
        assertEquals(n(-1), u.item().get("ownerSwitchesSinceCheckpoint"));
        assertEquals(Set.of("leaseOwner", "leaseCounter", "checkpoint", "pendingCheckpoint", "parents", "children", "list",
                "ownerSwitchesSinceCheckpoint"), u.changed());
        Updated emptied = apply(req().attributeUpdate("parents", "DELETE", ss("p1", "p2")), item);
        assertFalse(emptied.item().containsKey("parents"));
        ApiException e = assertThrows(ApiException.class,
                () -> apply(req().attributeUpdate("checkpoint", "ADD", n(1)), item));
        assertEquals("Type mismatch for attribute to update", e.getMessage());
    }

    @Test
    void leavesTheInputItemAlone() {
        Map<String, AttributeValue> item = Map.of("a", n(1));
        apply(req().update("SET a = :v").value(":v", n(2)), item);
        assertEquals(Map.of("a", n(1)), item);
    }
}
