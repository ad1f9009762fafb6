package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A compiled update: the actions of an {@code UpdateExpression} (SET, REMOVE, ADD, DELETE) or of legacy
 * {@code AttributeUpdates} (PUT, ADD, DELETE). Every operand is read from the item as it was before the
 * update, as DynamoDB does, so {@code SET a = b, b = a} swaps.
 */
record UpdatePlan(List<Action> actions) implements Expressions.ItemUpdate {
    static final String INCORRECT_OPERAND = "An operand in the update expression has an incorrect data type";
    static final String MISSING_OPERAND = "The provided expression refers to an attribute that does not exist in the item";
    static final String TYPE_MISMATCH = "Type mismatch for attribute to update";

    sealed interface Action {
        DocumentPath path();
    }

    record Assign(DocumentPath path, ValueExpr value) implements Action {}

    record Remove(DocumentPath path) implements Action {}

    /** ADD of an update expression: numbers add, sets unite; a missing attribute becomes the value. */
    record Add(DocumentPath path, AttributeValue value) implements Action {}

    /** DELETE of an update expression: removes set members; an emptied set goes. */
    record Delete(DocumentPath path, AttributeValue value) implements Action {}

    /** Legacy ADD: as {@link Add}, and lists append; a type mismatch has the legacy wording. */
    record LegacyAdd(DocumentPath path, AttributeValue value) implements Action {}

    /** Legacy DELETE: without a value removes the attribute, with a set removes its members. */
    record LegacyDelete(DocumentPath path, AttributeValue value) implements Action {}

    /** The right-hand side of a SET action. */
    sealed interface ValueExpr {
        AttributeValue eval(Map<String, AttributeValue> item);
    }

    record Read(io.sluice.protocol.dynamodb.Operand operand) implements ValueExpr {
        @Override
        public AttributeValue eval(Map<String, AttributeValue> item) {
            AttributeValue v = operand.value(item);
            if (v == null) throw invalid(MISSING_OPERAND);
            return v;
        }
    }

    record Arithmetic(boolean plus, ValueExpr left, ValueExpr right) implements ValueExpr {
        @Override
        public AttributeValue eval(Map<String, AttributeValue> item) {
            AttributeValue a = left.eval(item);
            AttributeValue b = right.eval(item);
            if (!(a instanceof AttributeValue.N x) || !(b instanceof AttributeValue.N y)) {
                throw invalid(INCORRECT_OPERAND);
            }
            BigDecimal result = plus ? x.value().add(y.value()) : x.value().subtract(y.value());
            return new AttributeValue.N(Numbers.check(result));
        }
    }

    record IfNotExists(DocumentPath path, ValueExpr otherwise) implements ValueExpr {
        @Override
        public AttributeValue eval(Map<String, AttributeValue> item) {
            AttributeValue v = path.get(item);
            return v != null ? v : otherwise.eval(item);
        }
    }

    record ListAppend(ValueExpr left, ValueExpr right) implements ValueExpr {
        @Override
        public AttributeValue eval(Map<String, AttributeValue> item) {
            AttributeValue a = left.eval(item);
            AttributeValue b = right.eval(item);
            if (!(a instanceof AttributeValue.L x) || !(b instanceof AttributeValue.L y)) {
                throw invalid(INCORRECT_OPERAND);
            }
            List<AttributeValue> joined = new ArrayList<>(x.value());
            joined.addAll(y.value());
            return new AttributeValue.L(joined);
        }
    }

    @Override
    public Expressions.Updated apply(Map<String, AttributeValue> item) {
        Map<String, AttributeValue> original = item;
        // every new value from the item as it was, then the writes
        List<Runnable> writes = new ArrayList<>();
        Map<String, AttributeValue> result = new LinkedHashMap<>(item);
        Set<String> changed = new LinkedHashSet<>();
        List<DocumentPath> removals = new ArrayList<>();
        for (Action action : actions) {
            changed.add(action.path().top());
            if (action instanceof Assign set) {
                AttributeValue value = set.value().eval(original);
                writes.add(() -> set.path().set(result, value));
            } else if (action instanceof Remove remove) {
                removals.add(remove.path());
            } else if (action instanceof Add add) {
                AttributeValue value = add(add.path().get(original), add.value(), false);
                writes.add(() -> add.path().set(result, value));
            } else if (action instanceof LegacyAdd add) {
                AttributeValue value = add(add.path().get(original), add.value(), true);
                writes.add(() -> add.path().set(result, value));
            } else if (action instanceof Delete delete) {
                AttributeValue current = delete.path().get(original);
                if (current != null) {
                    AttributeValue value = minus(current, delete.value(), INCORRECT_OPERAND);
                    writes.add(() -> write(result, delete.path(), value));
                } else if (delete.path().nested()) {
                    // the container must still be there, as for any other nested write
                    writes.add(() -> delete.path().remove(result));
                }
            } else if (action instanceof LegacyDelete delete) {
                AttributeValue current = delete.path().get(original);
                if (delete.value() == null) {
                    removals.add(delete.path());
                } else if (current != null) {
                    AttributeValue value = minus(current, delete.value(), TYPE_MISMATCH);
                    writes.add(() -> write(result, delete.path(), value));
                }
            }
        }
        writes.forEach(Runnable::run);
        // removing from a list shifts what follows: the highest index goes first
        removals.sort(UpdatePlan::comparePathsDescending);
        for (DocumentPath path : removals) path.remove(result);
        return new Expressions.Updated(result, Set.copyOf(changed), new Projector(actions.stream().map(Action::path).toList()));
    }

    private static int comparePathsDescending(DocumentPath a, DocumentPath b) {
        List<Object> x = a.elements();
        List<Object> y = b.elements();
        for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
            Object p = x.get(i);
            Object q = y.get(i);
            if (p.equals(q)) continue;
            if (p instanceof Integer i1 && q instanceof Integer i2) return Integer.compare(i2, i1);
            if (p instanceof String s1 && q instanceof String s2) return s1.compareTo(s2);
            return p instanceof String ? -1 : 1;
        }
        return Integer.compare(x.size(), y.size());
    }

    /** Writes a value, or removes the attribute when it is null (a set emptied by DELETE). */
    private static void write(Map<String, AttributeValue> item, DocumentPath path, AttributeValue value) {
        if (value == null) path.remove(item);
        else path.set(item, value);
    }

    private static AttributeValue add(AttributeValue current, AttributeValue value, boolean legacy) {
        if (current == null) {
            return value;
        }
        String mismatch = legacy ? TYPE_MISMATCH : INCORRECT_OPERAND;
        if (current instanceof AttributeValue.N a && value instanceof AttributeValue.N b) {
            return new AttributeValue.N(Numbers.check(a.value().add(b.value())));
        }
        if (current instanceof AttributeValue.SS a && value instanceof AttributeValue.SS b) {
            Set<String> union = new LinkedHashSet<>(a.value());
            union.addAll(b.value());
            return new AttributeValue.SS(List.copyOf(union));
        }
        if (current instanceof AttributeValue.NS a && value instanceof AttributeValue.NS b) {
            List<BigDecimal> union = new ArrayList<>(a.value());
            Set<BigDecimal> seen = a.members();
            for (BigDecimal n : b.value()) {
                if (seen.add(Numbers.normalize(n))) union.add(n);
            }
            return new AttributeValue.NS(union);
        }
        if (current instanceof AttributeValue.BS a && value instanceof AttributeValue.BS b) {
            List<byte[]> union = new ArrayList<>(a.shared());
            Set<ByteBuffer> seen = a.members();
            for (byte[] x : b.shared()) {
                if (seen.add(ByteBuffer.wrap(x))) union.add(x);
            }
            return new AttributeValue.BS(union);
        }
        if (legacy && current instanceof AttributeValue.L a && value instanceof AttributeValue.L b) {
            List<AttributeValue> joined = new ArrayList<>(a.value());
            joined.addAll(b.value());
            return new AttributeValue.L(joined);
        }
        throw invalid(mismatch);
    }

    /** The set without the given members, or null when nothing is left. */
    private static AttributeValue minus(AttributeValue current, AttributeValue value, String mismatch) {
        if (current instanceof AttributeValue.SS a && value instanceof AttributeValue.SS b) {
            List<String> left = a.value().stream().filter(s -> !b.value().contains(s)).toList();
            return left.isEmpty() ? null : new AttributeValue.SS(left);
        }
        if (current instanceof AttributeValue.NS a && value instanceof AttributeValue.NS b) {
            Set<BigDecimal> gone = b.members();
            List<BigDecimal> left = a.value().stream().filter(n -> !gone.contains(Numbers.normalize(n))).toList();
            return left.isEmpty() ? null : new AttributeValue.NS(left);
        }
        if (current instanceof AttributeValue.BS a && value instanceof AttributeValue.BS b) {
            Set<ByteBuffer> gone = b.members();
            List<byte[]> left = a.shared().stream().filter(x -> !gone.contains(ByteBuffer.wrap(x))).toList();
            return left.isEmpty() ? null : new AttributeValue.BS(left);
        }
        throw invalid(mismatch);
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
