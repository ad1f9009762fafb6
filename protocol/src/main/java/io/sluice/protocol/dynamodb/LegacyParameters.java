package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.ExpressionRequest.AttributeValueUpdate;
import io.sluice.protocol.dynamodb.ExpressionRequest.Condition;
import io.sluice.protocol.dynamodb.ExpressionRequest.ExpectedAttributeValue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parameters that predate expressions, checked with AWS's wording and compiled into the same
 * parts as expressions: {@code Expected} and {@code ScanFilter}/{@code QueryFilter} into a
 * {@link Predicate}, {@code AttributeUpdates} into an {@link UpdatePlan}, {@code KeyConditions} into
 * key terms, {@code AttributesToGet} into a {@link Projector}. Names here are top-level attribute
 * names, never paths.
 */
final class LegacyParameters {
    static final List<String> OPERATORS =
            List.of("IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS");
    private static final String INVALID = "One or more parameter values were invalid: ";

    private LegacyParameters() {}

    static void checkConditionalOperator(String conditionalOperator) {
        if (conditionalOperator != null && !conditionalOperator.equals("AND") && !conditionalOperator.equals("OR")) {
            throw invalid("1 validation error detected: Value '" + conditionalOperator
                    + "' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]");
        }
    }

    // ---- Expected ----

    static Predicate expected(Map<String, ExpectedAttributeValue> expected, String conditionalOperator) {
        List<Predicate> terms = new ArrayList<>();
        for (Map.Entry<String, ExpectedAttributeValue> e : expected.entrySet()) {
            terms.add(expectation(e.getKey(), e.getValue() == null ? new ExpectedAttributeValue(null, null, null, null) : e.getValue()));
        }
        return combine(terms, conditionalOperator);
    }

    private static Predicate expectation(String name, ExpectedAttributeValue c) {
        if (c.attributeValueList() != null && c.value() != null) {
            throw invalid(INVALID + "Value and AttributeValueList cannot be used together for Attribute: " + name);
        }
        if (c.comparisonOperator() != null) {
            String op = c.comparisonOperator();
            checkOperatorName(op, "expected." + name + ".member.comparisonOperator");
            if (c.exists() != null) {
                throw invalid(INVALID + "Exists and ComparisonOperator cannot be used together for Attribute: " + name);
            }
            if (!op.equals("NULL") && !op.equals("NOT_NULL") && c.attributeValueList() == null && c.value() == null) {
                throw invalid(INVALID + "Value or AttributeValueList must be used with ComparisonOperator: " + op + " for Attribute: " + name);
            }
            List<AttributeValue> values = c.attributeValueList() != null ? c.attributeValueList()
                    : c.value() != null ? List.of(c.value()) : List.of();
            checkArity(op, values);
            checkSameType(values);
            checkBetween(op, values);
            return comparison(name, op, values);
        }
        if (c.attributeValueList() != null) {
            throw invalid(INVALID + "AttributeValueList can only be used with a ComparisonOperator for Attribute: " + name);
        }
        boolean exists = c.exists() == null || c.exists();
        if (exists && c.value() == null) {
            throw invalid(INVALID + "Value must be provided when Exists is " + (c.exists() == null ? "null" : "true") + " for Attribute: " + name);
        }
        if (!exists && c.value() != null) {
            throw invalid(INVALID + "Value cannot be used when Exists is false for Attribute: " + name);
        }
        DocumentPath path = DocumentPath.of(name);
        return exists ? new Predicate.Compare(Predicate.Comparator.EQ, new Operand.Path(path), new Operand.Value(c.value()))
                : new Predicate.Exists(path, false);
    }

    // ---- ScanFilter, QueryFilter, KeyConditions ----

    /** @param member the request member for messages: scanFilter, queryFilter or keyConditions */
    static void checkConditions(Map<String, Condition> conditions, String member) {
        for (Map.Entry<String, Condition> e : conditions.entrySet()) {
            Condition c = e.getValue();
            String op = c == null ? null : c.comparisonOperator();
            if (op == null) {
                throw invalid("1 validation error detected: Value null at '" + member + "." + e.getKey()
                        + ".member.comparisonOperator' failed to satisfy constraint: Member must not be null");
            }
            checkOperatorName(op, member + "." + e.getKey() + ".member.comparisonOperator");
            List<AttributeValue> values = c.attributeValueList() == null ? List.of() : c.attributeValueList();
            checkArity(op, values);
            checkSameType(values);
            Set<String> allowed = switch (op) {
                case "EQ", "NE" -> Set.of("S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M");
                case "BEGINS_WITH" -> Set.of("S", "B");
                case "NULL", "NOT_NULL" -> Set.of();
                default -> Set.of("S", "N", "B");
            };
            for (AttributeValue v : values) {
                if (!allowed.contains(v.type())) {
                    throw invalid(INVALID + "ComparisonOperator " + op + " is not valid for " + v.type() + " AttributeValue type");
                }
            }
            checkBetween(op, values);
        }
    }

    static Predicate filter(Map<String, Condition> conditions, String conditionalOperator) {
        List<Predicate> terms = new ArrayList<>();
        for (Map.Entry<String, Condition> e : conditions.entrySet()) {
            Condition c = e.getValue();
            terms.add(comparison(e.getKey(), c.comparisonOperator(), c.attributeValueList() == null ? List.of() : c.attributeValueList()));
        }
        return combine(terms, conditionalOperator);
    }

    private static Predicate comparison(String name, String op, List<AttributeValue> values) {
        DocumentPath path = DocumentPath.of(name);
        Operand subject = new Operand.Path(path);
        Operand first = values.isEmpty() ? null : new Operand.Value(values.get(0));
        return switch (op) {
            case "EQ" -> new Predicate.Compare(Predicate.Comparator.EQ, subject, first);
            case "NE" -> new Predicate.Compare(Predicate.Comparator.NE, subject, first);
            case "LT" -> new Predicate.Compare(Predicate.Comparator.LT, subject, first);
            case "LE" -> new Predicate.Compare(Predicate.Comparator.LE, subject, first);
            case "GT" -> new Predicate.Compare(Predicate.Comparator.GT, subject, first);
            case "GE" -> new Predicate.Compare(Predicate.Comparator.GE, subject, first);
            case "NOT_NULL" -> new Predicate.Exists(path, true);
            case "NULL" -> new Predicate.Exists(path, false);
            case "CONTAINS" -> new Predicate.Contains(subject, first);
            case "NOT_CONTAINS" -> new Predicate.Not(new Predicate.Contains(subject, first));
            case "BEGINS_WITH" -> new Predicate.BeginsWith(subject, first);
            case "IN" -> new Predicate.In(subject, values.stream().<Operand>map(Operand.Value::new).toList());
            case "BETWEEN" -> new Predicate.Between(subject, first, new Operand.Value(values.get(1)));
            default -> throw new IllegalStateException(op);
        };
    }

    private static Predicate combine(List<Predicate> terms, String conditionalOperator) {
        boolean or = "OR".equals(conditionalOperator);
        Predicate result = null;
        for (Predicate t : terms) {
            result = result == null ? t : or ? new Predicate.Or(result, t) : new Predicate.And(result, t);
        }
        return result == null ? new Predicate.Always() : result;
    }

    private static void checkOperatorName(String op, String member) {
        if (!OPERATORS.contains(op)) {
            throw invalid("1 validation error detected: Value '" + op + "' at '" + member
                    + "' failed to satisfy constraint: Member must satisfy enum value set: " + OPERATORS);
        }
    }

    private static void checkArity(String op, List<AttributeValue> values) {
        int n = values.size();
        boolean ok = switch (op) {
            case "NULL", "NOT_NULL" -> n == 0;
            case "IN" -> n > 0;
            case "BETWEEN" -> n == 2;
            default -> n == 1;
        };
        if (!ok) {
            throw invalid(INVALID + "Invalid number of argument(s) for the " + op + " ComparisonOperator");
        }
    }

    private static void checkSameType(List<AttributeValue> values) {
        for (AttributeValue v : values) {
            if (!v.type().equals(values.get(0).type())) {
                throw invalid(INVALID + "AttributeValues inside AttributeValueList must be of same type");
            }
        }
    }

    private static void checkBetween(String op, List<AttributeValue> values) {
        if (op.equals("BETWEEN") && AttributeValue.comparable(values.get(0), values.get(1))
                && AttributeValue.compare(values.get(0), values.get(1)) > 0) {
            throw invalid("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound");
        }
    }

    // ---- AttributeUpdates ----

    static UpdatePlan attributeUpdates(Map<String, AttributeValueUpdate> updates, Set<String> keyAttributes) {
        List<UpdatePlan.Action> actions = new ArrayList<>();
        for (Map.Entry<String, AttributeValueUpdate> e : updates.entrySet()) {
            String name = e.getKey();
            AttributeValueUpdate u = e.getValue() == null ? new AttributeValueUpdate(null, null) : e.getValue();
            String action = u.action() == null ? "PUT" : u.action();
            if (!List.of("ADD", "PUT", "DELETE").contains(action)) {
                throw invalid("1 validation error detected: Value '" + action + "' at 'attributeUpdates." + name
                        + ".member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]");
            }
            AttributeValue value = u.value();
            if (value == null && !action.equals("DELETE")) {
                throw invalid(INVALID + "Only DELETE action is allowed when no attribute value is specified");
            }
            if (value != null && action.equals("DELETE") && !isSet(value)) {
                throw invalid(INVALID + "DELETE action with value is not supported for the type " + value.type());
            }
            if (value != null && action.equals("ADD") && !isSet(value) && !(value instanceof AttributeValue.N) && !(value instanceof AttributeValue.L)) {
                throw invalid(INVALID + "ADD action is not supported for the type " + value.type());
            }
            if (keyAttributes.contains(name)) {
                throw invalid(INVALID + "Cannot update attribute " + name + ". This attribute is part of the key");
            }
            DocumentPath path = DocumentPath.of(name);
            actions.add(switch (action) {
                case "PUT" -> new UpdatePlan.Assign(path, new UpdatePlan.Read(new Operand.Value(value)));
                case "ADD" -> new UpdatePlan.LegacyAdd(path, value);
                default -> new UpdatePlan.LegacyDelete(path, value);
            });
        }
        return new UpdatePlan(actions);
    }

    private static boolean isSet(AttributeValue v) {
        return v instanceof AttributeValue.SS || v instanceof AttributeValue.NS || v instanceof AttributeValue.BS;
    }

    // ---- AttributesToGet ----

    static Projector attributesToGet(List<String> names) {
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw invalid(INVALID + "Duplicate value in attribute name: " + name);
            }
        }
        return new Projector(names.stream().map(DocumentPath::of).toList());
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
