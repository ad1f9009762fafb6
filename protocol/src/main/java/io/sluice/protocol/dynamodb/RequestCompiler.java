package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.Expressions.Kind;
import io.sluice.protocol.dynamodb.ExpressionParser.Source;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks one request's expression and legacy parameters in the order AWS does (mixed styles first,
 * then legacy parameters, then placeholders and each expression, then unused placeholders) and
 * compiles them. Parameters the request's kind does not take are ignored, as AWS ignores members an
 * operation does not have.
 */
final class RequestCompiler {
    private RequestCompiler() {}

    static Expressions.Compiled compile(Kind kind, ExpressionRequest r, Set<String> keyAttributes) {
        Map<String, Boolean> expressionParams = expressionParameters(kind, r);
        Map<String, Boolean> legacyParams = legacyParameters(kind, r);
        checkStyles(kind, r, expressionParams, legacyParams);

        boolean takesCondition = kind == Kind.PUT || kind == Kind.UPDATE || kind == Kind.DELETE;
        boolean takesFilter = kind == Kind.QUERY || kind == Kind.SCAN;
        boolean takesProjection = kind == Kind.GET || takesFilter;

        // legacy parameters
        LegacyParameters.checkConditionalOperator(takesCondition || takesFilter ? r.conditionalOperator() : null);
        Expressions.ItemCondition condition = null;
        Expressions.ItemCondition filter = null;
        Expressions.ItemUpdate update = null;
        Expressions.Projection projection = null;
        KeyTerms keyTerms = null;
        String filterMember = kind == Kind.QUERY ? "queryFilter" : "scanFilter";
        if (takesFilter && r.filter() != null) {
            LegacyParameters.checkConditions(r.filter(), filterMember);
        }
        if (takesProjection && r.attributesToGet() != null) {
            projection = LegacyParameters.attributesToGet(r.attributesToGet());
        }
        if (kind == Kind.UPDATE && r.attributeUpdates() != null) {
            update = LegacyParameters.attributeUpdates(r.attributeUpdates(), keyAttributes);
        }
        if (takesCondition && r.expected() != null) {
            condition = LegacyParameters.expected(r.expected(), r.conditionalOperator());
        }
        if (takesFilter && r.filter() != null) {
            filter = LegacyParameters.filter(r.filter(), r.conditionalOperator());
        }
        if (kind == Kind.QUERY && r.keyConditions() != null && r.keyConditionExpression() == null) {
            LegacyParameters.checkConditions(r.keyConditions(), "keyConditions");
            keyTerms = KeyTerms.fromLegacy(r.keyConditions());
        }
        if (kind == Kind.QUERY && r.keyConditions() == null && r.keyConditionExpression() == null) {
            throw invalid("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
        }

        // expressions
        Placeholders.checkKeys(r.expressionAttributeNames(), r.expressionAttributeValues());
        Placeholders placeholders = new Placeholders(r.expressionAttributeNames(), r.expressionAttributeValues());
        if (kind == Kind.UPDATE && r.updateExpression() != null) {
            UpdatePlan plan = ExpressionParser.update(r.updateExpression(), placeholders);
            for (UpdatePlan.Action action : plan.actions()) {
                if (keyAttributes.contains(action.path().top())) {
                    throw invalid("One or more parameter values were invalid: Cannot update attribute " + action.path().top()
                            + ". This attribute is part of the key");
                }
            }
            update = plan;
        }
        if (takesCondition && r.conditionExpression() != null) {
            condition = ExpressionParser.condition(Source.CONDITION, r.conditionExpression(), placeholders);
        }
        if (kind == Kind.QUERY && r.keyConditionExpression() != null) {
            Predicate parsed = ExpressionParser.condition(Source.KEY_CONDITION, r.keyConditionExpression(), placeholders);
            keyTerms = KeyTerms.fromExpression(parsed);
        }
        if (takesFilter && r.filterExpression() != null) {
            filter = ExpressionParser.condition(Source.FILTER, r.filterExpression(), placeholders);
        }
        if (takesProjection && r.projectionExpression() != null) {
            projection = new Projector(ExpressionParser.projection(r.projectionExpression(), placeholders));
        }
        placeholders.checkAllUsed();
        return new Compiled(Optional.ofNullable(condition), Optional.ofNullable(update), Optional.ofNullable(projection),
                Optional.ofNullable(filter), keyTerms);
    }

    private static Map<String, Boolean> expressionParameters(Kind kind, ExpressionRequest r) {
        Map<String, Boolean> p = new LinkedHashMap<>();
        switch (kind) {
            case GET -> p.put("ProjectionExpression", r.projectionExpression() != null);
            case PUT, DELETE -> p.put("ConditionExpression", r.conditionExpression() != null);
            case UPDATE -> {
                p.put("UpdateExpression", r.updateExpression() != null);
                p.put("ConditionExpression", r.conditionExpression() != null);
            }
            case QUERY -> {
                p.put("ProjectionExpression", r.projectionExpression() != null);
                p.put("FilterExpression", r.filterExpression() != null);
                p.put("KeyConditionExpression", r.keyConditionExpression() != null);
            }
            case SCAN -> {
                p.put("ProjectionExpression", r.projectionExpression() != null);
                p.put("FilterExpression", r.filterExpression() != null);
            }
        }
        return p;
    }

    private static Map<String, Boolean> legacyParameters(Kind kind, ExpressionRequest r) {
        Map<String, Boolean> p = new LinkedHashMap<>();
        switch (kind) {
            case GET -> p.put("AttributesToGet", r.attributesToGet() != null);
            case PUT, DELETE -> {
                p.put("Expected", r.expected() != null);
                p.put("ConditionalOperator", r.conditionalOperator() != null);
            }
            case UPDATE -> {
                p.put("AttributeUpdates", r.attributeUpdates() != null);
                p.put("Expected", r.expected() != null);
                p.put("ConditionalOperator", r.conditionalOperator() != null);
            }
            case QUERY -> {
                p.put("AttributesToGet", r.attributesToGet() != null);
                p.put("QueryFilter", r.filter() != null);
                p.put("ConditionalOperator", r.conditionalOperator() != null);
                // KeyConditions may go with the other expressions when there is no KeyConditionExpression
                p.put("KeyConditions", r.keyConditions() != null && r.keyConditionExpression() != null);
            }
            case SCAN -> {
                p.put("AttributesToGet", r.attributesToGet() != null);
                p.put("ScanFilter", r.filter() != null);
                p.put("ConditionalOperator", r.conditionalOperator() != null);
            }
        }
        return p;
    }

    private static void checkStyles(Kind kind, ExpressionRequest r, Map<String, Boolean> expressions, Map<String, Boolean> legacy) {
        List<String> usedExpressions = present(expressions);
        List<String> usedLegacy = present(legacy);
        if (!usedExpressions.isEmpty() && !usedLegacy.isEmpty()) {
            throw invalid("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {"
                    + String.join(", ", usedLegacy) + "} Expression parameters: {" + String.join(", ", usedExpressions) + "}");
        }
        if (r.expressionAttributeNames() != null && usedExpressions.isEmpty()) {
            throw invalid("ExpressionAttributeNames can only be specified when using expressions");
        }
        List<String> valueExpressions = new ArrayList<>(expressions.keySet());
        valueExpressions.remove("ProjectionExpression");
        if (r.expressionAttributeValues() != null && !valueExpressions.isEmpty()
                && valueExpressions.stream().noneMatch(expressions::get)) {
            throw invalid("ExpressionAttributeValues can only be specified when using expressions: " + String.join(" and ", valueExpressions)
                    + (valueExpressions.size() > 1 ? " are" : " is") + " null");
        }
    }

    private static List<String> present(Map<String, Boolean> params) {
        return params.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
    }

    private record Compiled(Optional<Expressions.ItemCondition> condition, Optional<Expressions.ItemUpdate> update,
                            Optional<Expressions.Projection> projection, Optional<Expressions.ItemCondition> filter,
                            KeyTerms keyTerms) implements Expressions.Compiled {
        @Override
        public Expressions.KeyCondition keyCondition(String hashKey, String rangeKey) {
            return keyCondition(hashKey, null, rangeKey, null);
        }

        @Override
        public Expressions.KeyCondition keyCondition(String hashKey, String hashType, String rangeKey, String rangeType) {
            if (keyTerms == null) {
                throw new IllegalStateException("only a Query has a key condition");
            }
            return keyTerms.against(hashKey, hashType, rangeKey, rangeType);
        }
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
