package io.sluice.protocol.dynamodb;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static io.sluice.protocol.dynamodb.Expressions.Kind.*;
import static io.sluice.protocol.dynamodb.Req.req;

/** Every refusal of expression parameters, with AWS's exact words. */
class ExpressionErrorsTest {

    @Test
    void refusesSyntaxErrorsNamingTheTokenAndItsNeighbours() {
        req().update("INVALID SYNTAX HERE").value(":v", s("x"))
                .refused(UPDATE, "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"");
        req().projection("!!! INVALID !!!")
                .refused(GET, "Invalid ProjectionExpression: Syntax error; token: \"!\", near: \"!!\"");
        req().update("ADD hits : incr").value(":incr", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Syntax error; token: \":\", near: \"hits : incr\"");
        req().condition("a = ").refused(PUT, "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"= \"");
        req().condition("a = 5").refused(PUT, "Invalid ConditionExpression: Syntax error; token: \"5\", near: \"= 5\"");
        req().condition("a = :v AND").value(":v", s("x"))
                .refused(PUT, "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"");
        req().condition("a BETWEEN :x OR :y").value(":x", n(1)).value(":y", n(2))
                .refused(PUT, "Invalid ConditionExpression: Syntax error; token: \"OR\", near: \":x OR :y\"");
        req().filter("(a = :v").value(":v", n(1)).refused(SCAN, "Invalid FilterExpression: Syntax error; token: \"<EOF>\", near: \":v\"");
        req().keyCondition("pk == :v").value(":v", n(1))
                .refused(QUERY, "Invalid KeyConditionExpression: Syntax error; token: \"=\", near: \"== :v\"");
        req().update("SET a = :v,").value(":v", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \",\"");
        req().update("SET a[x] = :v").value(":v", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Syntax error; token: \"x\", near: \"[x]\"");
    }

    @Test
    void refusesEmptyExpressions() {
        req().update("").refused(UPDATE, "Invalid UpdateExpression: The expression can not be empty;");
        req().keyCondition("").refused(QUERY, "Invalid KeyConditionExpression: The expression can not be empty;");
        req().condition("").refused(DELETE, "Invalid ConditionExpression: The expression can not be empty;");
    }

    @Test
    void refusesReservedWordsAsBareNames() {
        req().condition("attribute_exists(status)")
                .refused(PUT, "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status");
        req().update("SET a.Name = :v").value(":v", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Name");
        req().projection("id, ttl").refused(GET, "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: ttl");
        req().filter("#s = :v AND data = :v").name("#s", "status").value(":v", s("x"))
                .refused(SCAN, "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: data");
        // placeholders make them fine
        req().condition("attribute_exists(#s)").name("#s", "status").compile(PUT);
    }

    @Test
    void refusesUndefinedPlaceholders() {
        req().update("SET attr1 = :v")
                .refused(UPDATE, "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v");
        req().filter("#missing = :v").value(":v", n(1))
                .refused(SCAN, "Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #missing");
        req().condition("a = :v").value(":w", n(1))
                .refused(PUT, "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v");
        req().projection("#a.#b").name("#a", "x")
                .refused(GET, "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #b");
    }

    @Test
    void refusesUnusedPlaceholders() {
        req().update("SET attr1 = :v").value(":v", s("val")).name("#unused", "someattr")
                .refused(UPDATE, "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}");
        req().update("SET attr1 = :v").value(":v", s("val")).value(":unused", s("extra"))
                .refused(UPDATE, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}");
        req().update("SET attr1 = :v").value(":v", s("val")).value(":x", s("extra")).value(":y", s("extra"))
                .refused(UPDATE, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x, :y}");
        // used by another expression of the same request counts
        req().update("SET #a = :v").condition("#a <> :w").name("#a", "x").value(":v", n(1)).value(":w", n(2)).compile(UPDATE);
    }

    @Test
    void refusesEmptyOrMisplacedPlaceholderMaps() {
        req().condition("a = :v").values(Map.of()).refused(PUT, "ExpressionAttributeValues must not be empty");
        req().condition("a = :v").names(Map.of()).value(":v", n(1)).refused(PUT, "ExpressionAttributeNames must not be empty");
        req().name("#a", "a").refused(PUT, "ExpressionAttributeNames can only be specified when using expressions");
        req().value(":v", n(1)).refused(PUT, "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null");
        req().value(":v", n(1)).refused(UPDATE,
                "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null");
        req().condition("a = :v").name("a", "b").value(":v", n(1))
                .refused(PUT, "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\"");
        req().condition("a = :v").value("v", n(1)).refused(PUT, "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\"");
    }

    @Test
    void refusesMixingExpressionAndLegacyParameters() {
        req().condition("attribute_exists(a)").expected("a", new ExpressionRequest.ExpectedAttributeValue(null, false, null, null))
                .refused(PUT, "Can not use both expression and non-expression parameters in the same request: "
                        + "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}");
        req().update("SET attr1 = :v").value(":v", s("val")).attributeUpdate("attr1", "PUT", s("val"))
                .refused(UPDATE, "Can not use both expression and non-expression parameters in the same request: "
                        + "Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}");
        req().projection("a").filter("b = :v").value(":v", n(1)).attributesToGet("a").filter("c", "NULL")
                .refused(SCAN, "Can not use both expression and non-expression parameters in the same request: "
                        + "Non-expression parameters: {AttributesToGet, ScanFilter} Expression parameters: {ProjectionExpression, FilterExpression}");
        // legacy KeyConditions may go with a FilterExpression
        req().keyCondition("pk", "EQ", s("h")).filter("b = :v").value(":v", n(1)).compile(QUERY).keyCondition("pk", null);
    }

    @Test
    void refusesMisusedFunctionsAndOperands() {
        req().condition("size(a)").refused(PUT, "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size");
        req().condition("attribute_exists(a) = :v").value(":v", bool(true))
                .refused(PUT, "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists");
        req().condition("nope(a)").refused(PUT, "Invalid ConditionExpression: Invalid function name; function: nope");
        req().condition("begins_with(a)")
                .refused(PUT, "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1");
        req().condition("attribute_exists(:v)").value(":v", s("a"))
                .refused(PUT, "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists");
        req().condition("begins_with(a, :n)").value(":n", n(1))
                .refused(PUT, "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N");
        req().condition("attribute_type(a, :t)").value(":t", s("STRING"))
                .refused(PUT, "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
        req().condition("a = a").refused(PUT,
                "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]");
        req().condition("a BETWEEN :hi AND :lo").value(":hi", n(5)).value(":lo", n(1)).refused(PUT,
                "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                        + "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}");
        req().condition("a BETWEEN :n AND :s").value(":n", n(5)).value(":s", s("x")).refused(PUT,
                "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
                        + "lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {S:x}");
        req().condition("((a = :v))").value(":v", n(1)).refused(PUT, "Invalid ConditionExpression: The expression has redundant parentheses;");
    }

    @Test
    void refusesBadUpdateExpressions() {
        req().update("SET a = :v SET b = :v").value(":v", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;");
        req().update("remove a REMOVE b").refused(UPDATE, "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;");
        req().update("SET a = :v, a = :w").value(":v", n(1)).value(":w", n(2)).refused(UPDATE,
                "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]");
        req().update("SET a.b = :v REMOVE a").value(":v", n(1)).refused(UPDATE,
                "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]");
        req().update("SET a.b = :v REMOVE a[1]").value(":v", n(1)).refused(UPDATE,
                "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]");
        req().update("SET pk = :v").value(":v", n(1))
                .refused(UPDATE, "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key");
        req().update("REMOVE sk").refused(UPDATE, "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key");
        req().update("ADD a :s").value(":s", s("x"))
                .refused(UPDATE, "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING");
        req().update("DELETE a :n").value(":n", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER");
        req().update("SET a = :s + :n").value(":s", s("x")).value(":n", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S");
        req().update("SET a = list_append(a, :n)").value(":n", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N");
        req().update("SET a = if_not_exists(:n, a)").value(":n", n(1))
                .refused(UPDATE, "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists");
        req().update("SET a = whatever(a, :n)").value(":n", n(1)).refused(UPDATE, "Invalid UpdateExpression: Invalid function name; function: whatever");
    }

    @Test
    void refusesOverlappingProjections() {
        req().projection("a, a.b").refused(GET,
                "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]");
    }

    @Test
    void ignoresParametersTheKindDoesNotTake() {
        // AWS ignores members an operation does not have; the node builds one record per operation anyway
        req().projection("a").compile(PUT);
    }
}
