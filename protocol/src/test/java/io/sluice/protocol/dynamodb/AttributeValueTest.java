package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static org.junit.jupiter.api.Assertions.*;

class AttributeValueTest {

    @Test
    void equalsByDynamoDbSemantics() {
        assertEquals(n("1.50"), n("1.5"));
        assertEquals(n("1.50").hashCode(), n("1.5").hashCode());
        assertEquals(n("100"), n("1E+2"));
        assertEquals(n("0"), n("0.000"));
        assertEquals(n("0").hashCode(), n("-0.00").hashCode());
        assertNotEquals(n("1"), s("1"));
        assertEquals(b(new byte[] {1, 2}), b(new byte[] {1, 2}));
        assertEquals(b(new byte[] {1, 2}).hashCode(), b(new byte[] {1, 2}).hashCode());
        assertNotEquals(b(new byte[] {1, 2}), b(new byte[] {2, 1}));
        assertEquals(ss("a", "b"), ss("b", "a"));
        assertEquals(ss("a", "b").hashCode(), ss("b", "a").hashCode());
        assertNotEquals(ss("a", "b"), ss("a"));
        assertEquals(ns("1", "2.0"), ns("2", "1.00"));
        assertEquals(ns("1", "2.0").hashCode(), ns("2", "1.00").hashCode());
        assertEquals(bs(new byte[] {1}, new byte[] {2}), bs(new byte[] {2}, new byte[] {1}));
        assertEquals(m(Map.of("a", l(List.of(n("1.0"))))), m(Map.of("a", l(List.of(n("1"))))));
        assertNotEquals(l(List.of(s("a"), s("b"))), l(List.of(s("b"), s("a"))), "lists keep order");
        assertEquals(nul(), new Null());
        assertNotEquals(bool(true), bool(false));
    }

    @Test
    void isImmutable() {
        byte[] bytes = {1, 2};
        B b = b(bytes);
        bytes[0] = 9;
        b.value()[1] = 9;
        assertArrayEquals(new byte[] {1, 2}, b.value());
        List<AttributeValue> list = new ArrayList<>(List.of(s("a")));
        L l = l(list);
        list.add(s("b"));
        assertEquals(1, l.value().size());
        assertThrows(UnsupportedOperationException.class, () -> m(Map.of()).value().put("x", s("y")));
    }

    @Test
    void ordersStringsByUtf8Bytes() {
        // U+FF5E sorts before U+1F30A in UTF-8 (and code points), after it in UTF-16 code units
        String fullwidthTilde = "\uFF5E";
        String wave = "🌊";
        assertTrue(fullwidthTilde.compareTo(wave) > 0, "UTF-16 order differs");
        assertTrue(AttributeValue.compare(s(fullwidthTilde), s(wave)) < 0);
        assertTrue(AttributeValue.compare(s("a"), s("ab")) < 0);
        assertTrue(AttributeValue.compare(s("B"), s("a")) < 0);
        assertEquals(0, AttributeValue.compare(s("x"), s("x")));
    }

    @Test
    void ordersNumbersByValueAndBinariesUnsigned() {
        assertTrue(AttributeValue.compare(n("-10"), n("2")) < 0);
        assertTrue(AttributeValue.compare(n("10"), n("9.99")) > 0);
        assertEquals(0, AttributeValue.compare(n("1.0"), n("1")));
        assertTrue(AttributeValue.compare(b(new byte[] {(byte) 0x80}), b(new byte[] {0x7f})) > 0, "unsigned");
        assertTrue(AttributeValue.compare(b(new byte[] {1}), b(new byte[] {1, 0})) < 0);
    }

    @Test
    void comparesOnlyWithinOneScalarType() {
        assertFalse(AttributeValue.comparable(s("1"), n("1")));
        assertFalse(AttributeValue.comparable(ss("a"), ss("a")));
        assertFalse(AttributeValue.comparable(bool(true), bool(true)));
        assertThrows(IllegalArgumentException.class, () -> AttributeValue.compare(n("1"), s("1")));
    }

    @Test
    void sortsRandomNumbersLikeBigDecimal() {
        Random random = new Random(42);
        List<AttributeValue> values = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            values.add(new N(BigDecimal.valueOf(random.nextLong(), random.nextInt(20) - 10)));
        }
        List<AttributeValue> sorted = new ArrayList<>(values);
        sorted.sort(AttributeValue.keyOrder());
        for (int i = 1; i < sorted.size(); i++) {
            assertTrue(((N) sorted.get(i - 1)).value().compareTo(((N) sorted.get(i)).value()) <= 0);
        }
    }

    @Test
    void sizesItemsAsDynamoDbCounts() {
        assertEquals(1 + 5, AttributeValue.itemSize(Map.of("a", s("hello"))));
        assertEquals(2 + 2, AttributeValue.itemSize(Map.of("é", s("é"))), "UTF-8 bytes of name and value");
        assertEquals(1 + 4, AttributeValue.itemSize(Map.of("a", s("🌊"))));
        assertEquals(1 + 3, AttributeValue.itemSize(Map.of("a", b(new byte[3]))));
        assertEquals(1 + 1, AttributeValue.itemSize(Map.of("a", bool(false))));
        assertEquals(1 + 1, AttributeValue.itemSize(Map.of("a", nul())));
        // numbers: one byte per two significant digits (aligned on the decimal point), plus one
        assertEquals(1, n("0").size());
        assertEquals(2, n("5").size());
        assertEquals(2, n("12").size());
        assertEquals(2, n("100").size());
        assertEquals(3, n("123").size());
        assertEquals(3, n("1.2").size());
        assertEquals(3, n("-12").size());
        assertEquals(20, n("12345678901234567890123456789012345678").size());
        // containers: 3 bytes plus one per element
        assertEquals(3 + (1 + 1) + (1 + 2), l(List.of(s("a"), n("7"))).size());
        // 3 + one per entry + names + values
        assertEquals(3 + 2 + (1 + 1) + (1 + 2), m(Map.of("k", s("v"), "n", n("7"))).size());
        assertEquals(3, m(Map.of()).size());
        assertEquals(3, ss("a", "bc").size());
        assertEquals(4, ns("1", "12").size());
        assertEquals(3, bs(new byte[1], new byte[2]).size());
        assertEquals(3 + 8 + 4 + (3 + 1 + 3), AttributeValue.itemSize(Map.of("abc", s("12345678"), "list", l(List.of(s("xyz"))))));
    }

    @Test
    void refusesBadNumbersFromFactories() {
        ApiException e = assertThrows(ApiException.class, () -> n("1e200"));
        assertEquals("Number overflow. Attempting to store a number with magnitude larger than supported range", e.getMessage());
    }
}
