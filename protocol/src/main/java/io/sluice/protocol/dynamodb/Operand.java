package io.sluice.protocol.dynamodb;

import java.math.BigDecimal;
import java.util.Map;

/** What a condition compares: an attribute at a path, a {@code :value}, or {@code size(path)}. */
sealed interface Operand {
    /** The operand's value against an item, or null when it has none (a missing attribute, a size of nothing). */
    AttributeValue value(Map<String, AttributeValue> item);

    record Path(DocumentPath path) implements Operand {
        @Override
        public AttributeValue value(Map<String, AttributeValue> item) {
            return path.get(item);
        }
    }

    record Value(AttributeValue value) implements Operand {
        @Override
        public AttributeValue value(Map<String, AttributeValue> item) {
            return value;
        }
    }

    record Size(DocumentPath path) implements Operand {
        @Override
        public AttributeValue value(Map<String, AttributeValue> item) {
            AttributeValue v = path.get(item);
            long size;
            if (v instanceof AttributeValue.S s) size = s.value().codePointCount(0, s.value().length());
            else if (v instanceof AttributeValue.B b) size = b.shared().length;
            else if (v instanceof AttributeValue.SS ss) size = ss.value().size();
            else if (v instanceof AttributeValue.NS ns) size = ns.value().size();
            else if (v instanceof AttributeValue.BS bs) size = bs.shared().size();
            else if (v instanceof AttributeValue.L l) size = l.value().size();
            else if (v instanceof AttributeValue.M m) size = m.value().size();
            else return null;
            return new AttributeValue.N(BigDecimal.valueOf(size));
        }
    }

    /** Stands in for an operand the parser already reported as wrong, so parsing can go on to find the first error. */
    record Invalid() implements Operand {
        @Override
        public AttributeValue value(Map<String, AttributeValue> item) {
            return null;
        }
    }
}
