package io.sluice.protocol.dynamodb;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A compiled condition: what condition and filter expressions and the legacy {@code Expected},
 * {@code ScanFilter} and {@code QueryFilter} become. Comparisons with a missing operand or across
 * types are false ({@code <>} is then true, as {@code NOT =}).
 */
sealed interface Predicate extends Expressions.ItemCondition {

    enum Comparator {
        EQ("="), NE("<>"), LT("<"), LE("<="), GT(">"), GE(">=");

        final String symbol;

        Comparator(String symbol) {
            this.symbol = symbol;
        }

        static Comparator ofSymbol(String symbol) {
            for (Comparator c : values()) if (c.symbol.equals(symbol)) return c;
            throw new IllegalArgumentException(symbol);
        }
    }

    record Compare(Comparator op, Operand left, Operand right) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return compare(op, left.value(item), right.value(item));
        }
    }

    record Between(Operand subject, Operand low, Operand high) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            AttributeValue v = subject.value(item);
            return compare(Comparator.GE, v, low.value(item)) && compare(Comparator.LE, v, high.value(item));
        }
    }

    record In(Operand subject, List<Operand> options) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            AttributeValue v = subject.value(item);
            if (v == null) return false;
            for (Operand o : options) {
                if (v.equals(o.value(item))) return true;
            }
            return false;
        }
    }

    record And(Predicate left, Predicate right) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return left.test(item) && right.test(item);
        }
    }

    record Or(Predicate left, Predicate right) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return left.test(item) || right.test(item);
        }
    }

    record Not(Predicate inner) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return !inner.test(item);
        }
    }

    record Exists(DocumentPath path, boolean exists) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return (path.get(item) != null) == exists;
        }
    }

    record TypeIs(DocumentPath path, Operand type) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            AttributeValue v = path.get(item);
            return v != null && type.value(item) instanceof AttributeValue.S s && v.type().equals(s.value());
        }
    }

    record BeginsWith(Operand subject, Operand prefix) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return beginsWith(subject.value(item), prefix.value(item));
        }
    }

    record Contains(Operand subject, Operand member) implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return contains(subject.value(item), member.value(item));
        }
    }

    /** What an empty legacy {@code Expected} or filter map asks: nothing. */
    record Always() implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return true;
        }
    }

    /** Stands in for a condition the parser already reported as wrong. */
    record Invalid() implements Predicate {
        @Override
        public boolean test(Map<String, AttributeValue> item) {
            return false;
        }
    }

    // ---- DynamoDB's semantics, shared by expressions and legacy conditions ----

    static boolean compare(Comparator op, AttributeValue a, AttributeValue b) {
        if (op == Comparator.NE) {
            return !compare(Comparator.EQ, a, b);
        }
        if (a == null || b == null) {
            return false;
        }
        if (op == Comparator.EQ) {
            return a.equals(b);
        }
        if (!AttributeValue.comparable(a, b)) {
            return false;
        }
        int c = AttributeValue.compare(a, b);
        return switch (op) {
            case LT -> c < 0;
            case LE -> c <= 0;
            case GT -> c > 0;
            case GE -> c >= 0;
            default -> throw new IllegalStateException(op.name());
        };
    }

    static boolean beginsWith(AttributeValue value, AttributeValue prefix) {
        if (value instanceof AttributeValue.S s && prefix instanceof AttributeValue.S p) {
            return s.value().startsWith(p.value());
        }
        if (value instanceof AttributeValue.B b && prefix instanceof AttributeValue.B p) {
            byte[] v = b.shared();
            byte[] x = p.shared();
            return v.length >= x.length && Arrays.equals(v, 0, x.length, x, 0, x.length);
        }
        return false;
    }

    /** A substring of a string, a sub-sequence of a binary, a member of a set, an element of a list. */
    static boolean contains(AttributeValue value, AttributeValue member) {
        if (value == null || member == null) {
            return false;
        }
        if (value instanceof AttributeValue.S s && member instanceof AttributeValue.S m) {
            return s.value().contains(m.value());
        }
        if (value instanceof AttributeValue.B b && member instanceof AttributeValue.B m) {
            return indexOf(b.shared(), m.shared()) >= 0;
        }
        if (value instanceof AttributeValue.SS ss && member instanceof AttributeValue.S m) {
            return ss.value().contains(m.value());
        }
        if (value instanceof AttributeValue.NS ns && member instanceof AttributeValue.N m) {
            return ns.value().stream().anyMatch(n -> n.compareTo(m.value()) == 0);
        }
        if (value instanceof AttributeValue.BS bs && member instanceof AttributeValue.B m) {
            return bs.members().contains(ByteBuffer.wrap(m.shared()));
        }
        if (value instanceof AttributeValue.L l) {
            return l.value().contains(member);
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
