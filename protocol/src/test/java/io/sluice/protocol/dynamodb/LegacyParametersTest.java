package io.sluice.protocol.dynamodb;

import io.sluice.protocol.dynamodb.ExpressionRequest.ExpectedAttributeValue;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static io.sluice.protocol.dynamodb.Expressions.Kind.*;
import static io.sluice.protocol.dynamodb.Req.req;
import static org.junit.jupiter.api.Assertions.*;

/** The refusals of legacy parameters, with AWS's exact words. */
class LegacyParametersTest {
    static final String INVALID = "One or more parameter values were invalid: ";

    static ExpectedAttributeValue exists(Boolean exists, AttributeValue value) {
        return new ExpectedAttributeValue(value, exists, null, null);
    }

    static ExpectedAttributeValue compare(String op, AttributeValue... list) {
        return new ExpectedAttributeValue(null, null, op, List.of(list));
    }

    @Test
    void refusesInconsistentExpectations() {
        req().expected("leaseCounter", exists(true, null))
                .refused(UPDATE, INVALID + "Value must be provided when Exists is true for Attribute: leaseCounter");
        req().expected("a", exists(null, null)).refused(PUT, INVALID + "Value must be provided when Exists is null for Attribute: a");
        req().expected("a", exists(false, s("x"))).refused(PUT, INVALID + "Value cannot be used when Exists is false for Attribute: a");
        req().expected("a", new ExpectedAttributeValue(s("x"), null, null, List.of(s("y"))))
                .refused(PUT, INVALID + "Value and AttributeValueList cannot be used together for Attribute: a");
        req().expected("a", new ExpectedAttributeValue(null, true, "EQ", List.of(s("y"))))
                .refused(PUT, INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: a");
        req().expected("a", new ExpectedAttributeValue(null, null, "EQ", null))
                .refused(PUT, INVALID + "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a");
        req().expected("a", new ExpectedAttributeValue(null, null, null, List.of(s("y"))))
                .refused(PUT, INVALID + "AttributeValueList can only be used with a ComparisonOperator for Attribute: a");
        req().expected("a", compare("EQ", s("x"), s("y"))).refused(PUT, INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator");
        req().expected("a", compare("NULL", s("x"))).refused(PUT, INVALID + "Invalid number of argument(s) for the NULL ComparisonOperator");
        req().expected("a", compare("BETWEEN", s("x"))).refused(PUT, INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator");
        req().expected("a", compare("IN")).refused(PUT, INVALID + "Invalid number of argument(s) for the IN ComparisonOperator");
        req().expected("a", compare("IN", s("x"), n(1))).refused(PUT, INVALID + "AttributeValues inside AttributeValueList must be of same type");
        req().expected("a", compare("BETWEEN", n(2), n(1)))
                .refused(PUT, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound");
        req().expected("a", compare("LIKE", s("x"))).refused(PUT, "1 validation error detected: Value 'LIKE' at 'expected.a.member.comparisonOperator' "
                + "failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]");
        req().expected("a", exists(false, null)).conditionalOperator("XOR").refused(PUT,
                "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]");
    }

    @Test
    void acceptsAValueWithAComparisonOperator() {
        var c = req().expected("a", new ExpectedAttributeValue(n(3), null, "GT", null)).compile(PUT).condition().orElseThrow();
        assertTrue(c.test(java.util.Map.of("a", n(4))));
        assertFalse(c.test(java.util.Map.of("a", n(3))));
    }

    @Test
    void refusesBadFilterConditions() {
        req().filter("a", "GT", ss("x")).refused(SCAN, INVALID + "ComparisonOperator GT is not valid for SS AttributeValue type");
        req().filter("a", "BEGINS_WITH", n(1)).refused(SCAN, INVALID + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type");
        req().filter("a", "NOT_NULL", n(1)).refused(SCAN, INVALID + "Invalid number of argument(s) for the NOT_NULL ComparisonOperator");
        req().keyCondition("pk", "EQ").refused(QUERY, INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator");
    }

    @Test
    void refusesBadAttributeUpdates() {
        req().attributeUpdate("a", "PUT", null).refused(UPDATE, INVALID + "Only DELETE action is allowed when no attribute value is specified");
        req().attributeUpdate("a", "DELETE", s("x")).refused(UPDATE, INVALID + "DELETE action with value is not supported for the type S");
        req().attributeUpdate("a", "ADD", s("x")).refused(UPDATE, INVALID + "ADD action is not supported for the type S");
        req().attributeUpdate("pk", "PUT", s("x")).refused(UPDATE, INVALID + "Cannot update attribute pk. This attribute is part of the key");
        req().attributeUpdate("a", "REPLACE", s("x")).refused(UPDATE, "1 validation error detected: Value 'REPLACE' at 'attributeUpdates.a.member.action' "
                + "failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]");
    }

    @Test
    void compilesNothingWhenNothingIsAsked() {
        Expressions.Compiled c = req().compile(PUT);
        assertTrue(c.condition().isEmpty());
        assertTrue(c.update().isEmpty());
        assertTrue(c.projection().isEmpty());
        assertTrue(c.filter().isEmpty());
        assertThrows(IllegalStateException.class, () -> c.keyCondition("pk", null));
    }
}
