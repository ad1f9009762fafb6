package io.sluice.protocol.dynamodb;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One DynamoDB attribute value, exactly one of its ten types, as the wire writes it:
 * {@code {"S": "x"}}, {@code {"N": "1.5"}}, {@code {"B": base64}}, {@code {"BOOL": true}},
 * {@code {"NULL": true}}, {@code {"M": {...}}}, {@code {"L": [...]}}, {@code {"SS": [...]}},
 * {@code {"NS": [...]}}, {@code {"BS": [...]}}. Numbers are exact decimals (38 significant digits).
 * The same Jackson form travels in requests, answers, entity commands, events and snapshots.
 *
 * <p>Records are immutable (collections and byte arrays are copied in); {@code equals} is DynamoDB's
 * equality: numbers by value ({@code 1.50 == 1.5}), binaries by content, sets regardless of order,
 * maps and lists deeply. Numbers are written in canonical plain form ({@code "1.50"} as {@code "1.5"},
 * {@code "1E+2"} as {@code "100"}).
 */
@JsonSerialize(using = AttributeValueJson.Writer.class)
@JsonDeserialize(using = AttributeValueJson.Reader.class)
public sealed interface AttributeValue {
    /** DynamoDB's item size limit, 400 KB. */
    long MAX_ITEM_SIZE = 409_600;

    record S(String value) implements AttributeValue {
        public S {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String type() {
            return "S";
        }

        @Override
        public String toString() {
            return "{S: " + value + "}";
        }
    }

    record N(BigDecimal value) implements AttributeValue {
        public N {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String type() {
            return "N";
        }

        /** The number as DynamoDB answers it: no trailing zeros, no exponent. */
        public String canonical() {
            return Numbers.canonical(value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof N n && value.compareTo(n.value) == 0;
        }

        @Override
        public int hashCode() {
            return value.signum() == 0 ? 0 : value.stripTrailingZeros().hashCode();
        }

        @Override
        public String toString() {
            return "{N: " + canonical() + "}";
        }
    }

    record B(byte[] value) implements AttributeValue {
        public B {
            value = value.clone();
        }

        /** A copy: the record stays immutable. */
        @Override
        public byte[] value() {
            return value.clone();
        }

        /** The array itself, for reading inside the package without a copy. */
        byte[] shared() {
            return value;
        }

        @Override
        public String type() {
            return "B";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof B b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "{B: " + Base64.getEncoder().encodeToString(value) + "}";
        }
    }

    record Bool(boolean value) implements AttributeValue {
        @Override
        public String type() {
            return "BOOL";
        }

        @Override
        public String toString() {
            return "{BOOL: " + value + "}";
        }
    }

    record Null() implements AttributeValue {
        @Override
        public String type() {
            return "NULL";
        }

        @Override
        public String toString() {
            return "{NULL: true}";
        }
    }

    record M(Map<String, AttributeValue> value) implements AttributeValue {
        public M {
            // insertion order kept so answers list attributes as they were written
            value = Collections.unmodifiableMap(new LinkedHashMap<>(value));
            value.forEach((k, v) -> {
                Objects.requireNonNull(k, "map key");
                Objects.requireNonNull(v, "map value");
            });
        }

        @Override
        public String type() {
            return "M";
        }

        @Override
        public String toString() {
            return "{M: " + value + "}";
        }
    }

    record L(List<AttributeValue> value) implements AttributeValue {
        public L {
            value = List.copyOf(value);
        }

        @Override
        public String type() {
            return "L";
        }

        @Override
        public String toString() {
            return "{L: " + value + "}";
        }
    }

    record SS(List<String> value) implements AttributeValue {
        public SS {
            value = List.copyOf(value);
        }

        @Override
        public String type() {
            return "SS";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SS s && value.size() == s.value.size() && new HashSet<>(value).equals(new HashSet<>(s.value));
        }

        @Override
        public int hashCode() {
            return new HashSet<>(value).hashCode();
        }

        @Override
        public String toString() {
            return "{SS: " + value + "}";
        }
    }

    record NS(List<BigDecimal> value) implements AttributeValue {
        public NS {
            value = List.copyOf(value);
        }

        @Override
        public String type() {
            return "NS";
        }

        Set<BigDecimal> members() {
            return value.stream().map(Numbers::normalize).collect(Collectors.toSet());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof NS n && value.size() == n.value.size() && members().equals(n.members());
        }

        @Override
        public int hashCode() {
            return members().hashCode();
        }

        @Override
        public String toString() {
            return "{NS: " + value.stream().map(Numbers::canonical).toList() + "}";
        }
    }

    record BS(List<byte[]> value) implements AttributeValue {
        public BS {
            List<byte[]> copies = new ArrayList<>(value.size());
            for (byte[] b : value) copies.add(b.clone());
            value = Collections.unmodifiableList(copies);
        }

        /** Copies: the record stays immutable. */
        @Override
        public List<byte[]> value() {
            return value.stream().map(byte[]::clone).toList();
        }

        List<byte[]> shared() {
            return value;
        }

        @Override
        public String type() {
            return "BS";
        }

        Set<ByteBuffer> members() {
            return value.stream().map(ByteBuffer::wrap).collect(Collectors.toSet());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BS b && value.size() == b.value.size() && members().equals(b.members());
        }

        @Override
        public int hashCode() {
            return members().hashCode();
        }

        @Override
        public String toString() {
            return "{BS: " + value.stream().map(b -> Base64.getEncoder().encodeToString(b)).toList() + "}";
        }
    }

    /** The wire's type name: S, N, B, BOOL, NULL, M, L, SS, NS, BS. */
    default String type() {
        String name = getClass().getSimpleName();
        return name.equals("Bool") || name.equals("Null") ? name.toUpperCase(java.util.Locale.ROOT) : name;
    }

    // ---- factories ----

    static S s(String value) {
        return new S(value);
    }

    /** A number from its wire text, checked as DynamoDB checks it (38 digits, magnitude 1E-130 to 1E+126). */
    static N n(String text) {
        return new N(Numbers.parse(text));
    }

    static N n(long value) {
        return new N(BigDecimal.valueOf(value));
    }

    static B b(byte[] value) {
        return new B(value);
    }

    static Bool bool(boolean value) {
        return new Bool(value);
    }

    static Null nul() {
        return new Null();
    }

    static M m(Map<String, AttributeValue> value) {
        return new M(value);
    }

    static L l(List<AttributeValue> value) {
        return new L(value);
    }

    static SS ss(String... members) {
        return new SS(List.of(members));
    }

    static NS ns(String... members) {
        return new NS(Arrays.stream(members).map(Numbers::parse).toList());
    }

    static BS bs(byte[]... members) {
        return new BS(List.of(members));
    }

    // ---- ordering ----

    /** Whether {@code <, <=, >, >=} and BETWEEN can compare the two: both S, both N or both B. */
    static boolean comparable(AttributeValue a, AttributeValue b) {
        return (a instanceof S && b instanceof S) || (a instanceof N && b instanceof N) || (a instanceof B && b instanceof B);
    }

    /**
     * DynamoDB's order within one scalar type: strings by their UTF-8 bytes, numbers by value, binaries
     * as unsigned bytes. The order of a table's range keys and of key conditions.
     *
     * @throws IllegalArgumentException when the two are not {@link #comparable}
     */
    static int compare(AttributeValue a, AttributeValue b) {
        if (a instanceof S x && b instanceof S y) return Utf8.compare(x.value(), y.value());
        if (a instanceof N x && b instanceof N y) return x.value().compareTo(y.value());
        if (a instanceof B x && b instanceof B y) return Arrays.compareUnsigned(x.value, y.value);
        throw new IllegalArgumentException("cannot compare " + a.type() + " with " + b.type());
    }

    /** {@link #compare} as a comparator, for sorting range keys of one type. */
    static Comparator<AttributeValue> keyOrder() {
        return AttributeValue::compare;
    }

    // ---- size ----

    /** DynamoDB's size of an item in bytes (attribute names plus values), which the 400 KB limit applies to. */
    static long itemSize(Map<String, AttributeValue> item) {
        long size = 0;
        for (Map.Entry<String, AttributeValue> e : item.entrySet()) {
            size += Utf8.length(e.getKey()) + e.getValue().size();
        }
        return size;
    }

    /** DynamoDB's size of this value alone, without an attribute name. */
    default long size() {
        if (this instanceof S s) return Utf8.length(s.value());
        if (this instanceof N n) return Numbers.size(n.value());
        if (this instanceof B b) return b.value.length;
        if (this instanceof Bool || this instanceof Null) return 1;
        if (this instanceof SS ss) return ss.value().stream().mapToLong(Utf8::length).sum();
        if (this instanceof NS ns) return ns.value().stream().mapToLong(Numbers::size).sum();
        if (this instanceof BS bs) return bs.value.stream().mapToLong(b -> b.length).sum();
        if (this instanceof L l) {
            long size = 3;
            for (AttributeValue v : l.value()) size += 1 + v.size();
            return size;
        }
        M m = (M) this;
        return 3 + m.value().size() + itemSize(m.value());
    }
}
