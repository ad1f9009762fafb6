package io.sluice.protocol.dynamodb;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * One DynamoDB attribute value, exactly one of its ten types, as the wire writes it:
 * {@code {"S": "x"}}, {@code {"N": "1.5"}}, {@code {"B": base64}}, {@code {"BOOL": true}},
 * {@code {"NULL": true}}, {@code {"M": {...}}}, {@code {"L": [...]}}, {@code {"SS": [...]}},
 * {@code {"NS": [...]}}, {@code {"BS": [...]}}. Numbers are exact decimals (38 significant digits).
 * The same Jackson form travels in requests, answers, entity commands, events and snapshots.
 *
 * <p>Contract (filled in by the expression work): records are immutable; {@code equals} is DynamoDB's
 * equality (numbers by value, sets regardless of order, binaries by content).
 */
public sealed interface AttributeValue {
    record S(String value) implements AttributeValue {}

    record N(BigDecimal value) implements AttributeValue {}

    record B(byte[] value) implements AttributeValue {}

    record Bool(boolean value) implements AttributeValue {}

    record Null() implements AttributeValue {}

    record M(Map<String, AttributeValue> value) implements AttributeValue {}

    record L(List<AttributeValue> value) implements AttributeValue {}

    record SS(List<String> value) implements AttributeValue {}

    record NS(List<BigDecimal> value) implements AttributeValue {}

    record BS(List<byte[]> value) implements AttributeValue {}

    /** The wire's type name: S, N, B, BOOL, NULL, M, L, SS, NS, BS. */
    default String type() {
        String name = getClass().getSimpleName();
        return name.equals("Bool") || name.equals("Null") ? name.toUpperCase(java.util.Locale.ROOT) : name;
    }

    /** DynamoDB's size of an item in bytes (attribute names plus values), which the 400 KB limit applies to. */
    static long itemSize(Map<String, AttributeValue> item) {
        throw new UnsupportedOperationException("expression work fills this in");
    }
}
