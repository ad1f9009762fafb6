package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static io.sluice.protocol.dynamodb.Expressions.Kind.*;
import static io.sluice.protocol.dynamodb.Req.req;
import static org.junit.jupiter.api.Assertions.*;

/** The accepted shapes of paths, placeholders and clauses. */
class ExpressionSyntaxTest {

    @Test
    void parsesNestedPathsWithPlaceholdersAndIndexes() {
        Map<String, AttributeValue> item = Map.of("my-attr", m(Map.of("x.y", l(List.of(n(0), m(Map.of("c", s("hit"))))))));
        var c = req().condition("#a.#b[1].c = :v AND #a.#b [ 0 ] = :z").name("#a", "my-attr").name("#b", "x.y")
                .value(":v", s("hit")).value(":z", n(0)).compile(PUT).condition().orElseThrow();
        assertTrue(c.test(item), "a dot inside a placeholder's name is part of the name");
    }

    @Test
    void refusesNamesWithOtherCharactersUnlessPlaceholders() {
        req().condition("my-attr = :v").value(":v", n(1))
                .refused(PUT, "Invalid ConditionExpression: Syntax error; token: \"-\", near: \"my-attr\"");
        req().condition("a$ = :v").value(":v", n(1)).refused(PUT, "Invalid ConditionExpression: Syntax error; token: \"$\", near: \"a$ =\"");
    }

    @Test
    void takesUpdateClausesInAnyOrderAndCase() {
        var u = req().update("remove c  add n :one set a = :v delete s :s").value(":one", n(1)).value(":v", s("x")).value(":s", ss("q"))
                .compile(UPDATE).update().orElseThrow()
                .apply(Map.of("c", s("gone"), "s", ss("q", "r")));
        assertEquals(Map.of("n", n(1), "a", s("x"), "s", ss("r")), u.item());
    }

    @Test
    void refusesNestingBeyondAnyRealExpression() {
        String deep = "(".repeat(5000) + "a = :v" + ")".repeat(5000);
        ApiException e = assertThrows(ApiException.class, () -> req().condition(deep).value(":v", n(1)).compile(PUT));
        assertTrue(e.getMessage().startsWith("Invalid ConditionExpression: Syntax error; "), e.getMessage());
        String nots = "NOT ".repeat(5000) + "a = :v";
        assertThrows(ApiException.class, () -> req().condition(nots).value(":v", n(1)).compile(PUT));
    }

    @Test
    void allowsModestNesting() {
        String nested = "(".repeat(20) + "a = :v" + ")".repeat(20);
        ApiException e = assertThrows(ApiException.class, () -> req().condition(nested).value(":v", n(1)).compile(PUT));
        assertEquals("Invalid ConditionExpression: The expression has redundant parentheses;", e.getMessage());
        var c = req().condition("NOT NOT (a = :v)").value(":v", n(1)).compile(PUT).condition().orElseThrow();
        assertTrue(c.test(Map.of("a", n(1))));
    }
}
