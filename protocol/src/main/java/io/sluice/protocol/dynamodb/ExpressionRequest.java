package io.sluice.protocol.dynamodb;

import java.util.List;
import java.util.Map;

/**
 * Everything in one item request that decides which items it touches and how: the expressions, their
 * placeholders, and the legacy parameters that predate expressions. A request may use either style,
 * never both ({@code ValidationException}: "Can not use both expression and non-expression parameters
 * in the same request: ..."). Travels as is inside entity commands; {@link Expressions#compile}
 * turns it into executable parts.
 */
public record ExpressionRequest(String conditionExpression, String updateExpression, String projectionExpression,
                                String keyConditionExpression, String filterExpression,
                                Map<String, String> expressionAttributeNames,
                                Map<String, AttributeValue> expressionAttributeValues,
                                Map<String, ExpectedAttributeValue> expected,
                                Map<String, AttributeValueUpdate> attributeUpdates,
                                Map<String, Condition> keyConditions,
                                Map<String, Condition> filter,
                                String conditionalOperator,
                                List<String> attributesToGet) {

    /**
     * Legacy {@code Expected} entry: {@code Exists}/{@code Value}, or {@code ComparisonOperator} + {@code AttributeValueList}.
     * An absent Value is left out when the entry crosses the cluster: a JSON null where a value belongs is refused.
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record ExpectedAttributeValue(AttributeValue value, Boolean exists, String comparisonOperator,
                                         List<AttributeValue> attributeValueList) {}

    /** Legacy {@code AttributeUpdates} entry: {@code Action} PUT (default), ADD or DELETE; an absent Value is left out. */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record AttributeValueUpdate(AttributeValue value, String action) {}

    /** Legacy {@code KeyConditions}, {@code ScanFilter} and {@code QueryFilter} entry. */
    public record Condition(List<AttributeValue> attributeValueList, String comparisonOperator) {}

    public static ExpressionRequest none() {
        return new ExpressionRequest(null, null, null, null, null, null, null, null, null, null, null, null, null);
    }
}
