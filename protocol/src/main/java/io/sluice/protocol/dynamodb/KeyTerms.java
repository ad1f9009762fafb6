package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.ExpressionRequest.Condition;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Query's key condition as one term per attribute, from {@code KeyConditionExpression} or legacy
 * {@code KeyConditions}, and its check against the key schema of the table or index queried.
 */
record KeyTerms(Map<String, Term> terms) {
    /** @param op EQ, LT, LE, GT, GE, BETWEEN or BEGINS_WITH (legacy ones may carry others, refused at {@link #against}) */
    record Term(String op, List<AttributeValue> values) {}

    static KeyTerms fromLegacy(Map<String, Condition> conditions) {
        Map<String, Term> terms = new LinkedHashMap<>();
        conditions.forEach((name, c) -> terms.put(name,
                new Term(c.comparisonOperator(), c.attributeValueList() == null ? List.of() : c.attributeValueList())));
        return new KeyTerms(terms);
    }

    /** The terms of a parsed KeyConditionExpression: key attributes compared to values, joined by AND. */
    static KeyTerms fromExpression(Predicate condition) {
        Map<String, Term> terms = new LinkedHashMap<>();
        collect(condition, terms);
        return new KeyTerms(terms);
    }

    private static void collect(Predicate p, Map<String, Term> terms) {
        if (p instanceof Predicate.And and) {
            collect(and.left(), terms);
            collect(and.right(), terms);
            return;
        }
        if (p instanceof Predicate.Or) throw invalid("Invalid operator used in KeyConditionExpression: OR");
        if (p instanceof Predicate.Not) throw invalid("Invalid operator used in KeyConditionExpression: NOT");
        if (p instanceof Predicate.In) throw invalid("Invalid operator used in KeyConditionExpression: IN");
        if (p instanceof Predicate.Exists e) {
            throw invalid("Invalid operator used in KeyConditionExpression: " + (e.exists() ? "attribute_exists" : "attribute_not_exists"));
        }
        if (p instanceof Predicate.TypeIs) throw invalid("Invalid operator used in KeyConditionExpression: attribute_type");
        if (p instanceof Predicate.Contains) throw invalid("Invalid operator used in KeyConditionExpression: contains");
        if (p instanceof Predicate.Compare c) {
            if (c.op() == Predicate.Comparator.NE) throw invalid("Invalid operator used in KeyConditionExpression: <>");
            boolean flipped = !(c.left() instanceof Operand.Path) && c.right() instanceof Operand.Path;
            Operand key = flipped ? c.right() : c.left();
            Operand value = flipped ? c.left() : c.right();
            checkOperands(key, value);
            String op = switch (c.op()) {
                case EQ -> "EQ";
                case LT -> flipped ? "GT" : "LT";
                case LE -> flipped ? "GE" : "LE";
                case GT -> flipped ? "LT" : "GT";
                case GE -> flipped ? "LE" : "GE";
                default -> throw new IllegalStateException();
            };
            add(terms, key, new Term(op, List.of(((Operand.Value) value).value())));
            return;
        }
        if (p instanceof Predicate.Between b) {
            checkNoSize(b.subject(), b.low(), b.high());
            if (!(b.subject() instanceof Operand.Path)) {
                throw invalid("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand");
            }
            checkOperands(b.subject(), b.low());
            checkOperands(b.subject(), b.high());
            add(terms, b.subject(), new Term("BETWEEN", List.of(((Operand.Value) b.low()).value(), ((Operand.Value) b.high()).value())));
            return;
        }
        if (p instanceof Predicate.BeginsWith b) {
            checkNoSize(b.subject(), b.prefix());
            if (!(b.subject() instanceof Operand.Path)) {
                throw invalid("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand");
            }
            checkOperands(b.subject(), b.prefix());
            add(terms, b.subject(), new Term("BEGINS_WITH", List.of(((Operand.Value) b.prefix()).value())));
            return;
        }
        throw new IllegalStateException("unexpected condition " + p);
    }

    private static void checkNoSize(Operand... operands) {
        for (Operand o : operands) {
            if (o instanceof Operand.Size) throw invalid("KeyConditionExpressions cannot contain nested operations");
        }
    }

    private static void checkOperands(Operand key, Operand value) {
        checkNoSize(key, value);
        if (key instanceof Operand.Path && value instanceof Operand.Path) {
            throw invalid("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition");
        }
        if (!(key instanceof Operand.Path)) {
            throw invalid("Invalid condition in KeyConditionExpression: No key attribute specified");
        }
    }

    private static void add(Map<String, Term> terms, Operand key, Term term) {
        DocumentPath path = ((Operand.Path) key).path();
        if (path.nested()) {
            throw invalid("KeyConditionExpressions cannot have conditions on nested attributes");
        }
        if (terms.putIfAbsent(path.top(), term) != null) {
            throw invalid("KeyConditionExpressions must only contain one condition per key");
        }
    }

    /**
     * The key condition for a key schema, with AWS's refusals.
     *
     * @param hashType, rangeType the schema's attribute types (S, N or B), or null to leave types unchecked
     */
    Expressions.KeyCondition against(String hashKey, String hashType, String rangeKey, String rangeType) {
        if (terms.isEmpty() || terms.size() > 2) {
            throw invalid("Conditions can be of length 1 or 2 only");
        }
        if (rangeKey == null && terms.size() > 1) {
            throw invalid("Query key condition not supported");
        }
        Term hash = terms.get(hashKey);
        if (hash == null) {
            throw invalid("Query condition missed key schema element: " + hashKey);
        }
        check(hash, hashType);
        if (!hash.op().equals("EQ")) {
            throw invalid("Query key condition not supported");
        }
        Term range = rangeKey == null ? null : terms.get(rangeKey);
        if (range == null && terms.size() > 1) {
            throw invalid("Query condition missed key schema element: " + rangeKey);
        }
        if (range != null) {
            check(range, rangeType);
        }
        return new Bound(hash.values().get(0), range);
    }

    private static void check(Term term, String type) {
        if (List.of("NULL", "NOT_NULL", "NE", "CONTAINS", "NOT_CONTAINS", "IN").contains(term.op())) {
            throw invalid("Attempted conditional constraint is not an indexable operation");
        }
        if (type != null && term.values().stream().anyMatch(v -> !v.type().equals(type))) {
            throw invalid("One or more parameter values were invalid: Condition parameter type does not match schema type");
        }
    }

    private record Bound(AttributeValue hashValue, Term range) implements Expressions.KeyCondition {
        @Override
        public boolean rangeMatches(AttributeValue v) {
            if (range == null) return true;
            List<AttributeValue> values = range.values();
            return switch (range.op()) {
                case "EQ" -> Predicate.compare(Predicate.Comparator.EQ, v, values.get(0));
                case "LT" -> Predicate.compare(Predicate.Comparator.LT, v, values.get(0));
                case "LE" -> Predicate.compare(Predicate.Comparator.LE, v, values.get(0));
                case "GT" -> Predicate.compare(Predicate.Comparator.GT, v, values.get(0));
                case "GE" -> Predicate.compare(Predicate.Comparator.GE, v, values.get(0));
                case "BETWEEN" -> Predicate.compare(Predicate.Comparator.GE, v, values.get(0))
                        && Predicate.compare(Predicate.Comparator.LE, v, values.get(1));
                case "BEGINS_WITH" -> Predicate.beginsWith(v, values.get(0));
                default -> throw new IllegalStateException(range.op());
            };
        }

        @Override
        public String rangeOperator() {
            return range == null ? null : range.op();
        }

        @Override
        public List<AttributeValue> rangeValues() {
            return range == null ? List.of() : range.values();
        }
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
