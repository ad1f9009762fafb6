package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.ExpressionRequest.AttributeValueUpdate;
import io.sluice.protocol.dynamodb.ExpressionRequest.Condition;
import io.sluice.protocol.dynamodb.ExpressionRequest.ExpectedAttributeValue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A test's way to write an {@link ExpressionRequest} one parameter at a time. */
final class Req {
    String condition, update, projection, keyCondition, filterExpression, conditionalOperator;
    Map<String, String> names;
    Map<String, AttributeValue> values;
    Map<String, ExpectedAttributeValue> expected;
    Map<String, AttributeValueUpdate> attributeUpdates;
    Map<String, Condition> keyConditions, filter;
    List<String> attributesToGet;

    static Req req() {
        return new Req();
    }

    Req condition(String e) { condition = e; return this; }
    Req update(String e) { update = e; return this; }
    Req projection(String e) { projection = e; return this; }
    Req keyCondition(String e) { keyCondition = e; return this; }
    Req filter(String e) { filterExpression = e; return this; }
    Req conditionalOperator(String o) { conditionalOperator = o; return this; }
    Req attributesToGet(String... a) { attributesToGet = List.of(a); return this; }

    Req name(String ref, String name) {
        if (names == null) names = new LinkedHashMap<>();
        names.put(ref, name);
        return this;
    }

    Req names(Map<String, String> n) { names = n; return this; }
    Req values(Map<String, AttributeValue> v) { values = v; return this; }

    Req value(String ref, AttributeValue v) {
        if (values == null) values = new LinkedHashMap<>();
        values.put(ref, v);
        return this;
    }

    Req expected(String name, ExpectedAttributeValue e) {
        if (expected == null) expected = new LinkedHashMap<>();
        expected.put(name, e);
        return this;
    }

    Req attributeUpdate(String name, String action, AttributeValue v) {
        if (attributeUpdates == null) attributeUpdates = new LinkedHashMap<>();
        attributeUpdates.put(name, new AttributeValueUpdate(v, action));
        return this;
    }

    Req keyCondition(String name, String op, AttributeValue... list) {
        if (keyConditions == null) keyConditions = new LinkedHashMap<>();
        keyConditions.put(name, new Condition(List.of(list), op));
        return this;
    }

    Req filter(String name, String op, AttributeValue... list) {
        if (filter == null) filter = new LinkedHashMap<>();
        filter.put(name, new Condition(List.of(list), op));
        return this;
    }

    ExpressionRequest build() {
        return new ExpressionRequest(condition, update, projection, keyCondition, filterExpression, names, values, expected,
                attributeUpdates, keyConditions, filter, conditionalOperator, attributesToGet);
    }

    Expressions.Compiled compile(Expressions.Kind kind) {
        return Expressions.compile(kind, build(), Set.of("pk", "sk"));
    }

    /** Compiling fails with a ValidationException of exactly this message. */
    void refused(Expressions.Kind kind, String message) {
        ApiException e = assertThrows(ApiException.class, () -> compile(kind));
        assertEquals(AwsError.ValidationException, e.error());
        assertEquals(message, e.getMessage());
    }
}
