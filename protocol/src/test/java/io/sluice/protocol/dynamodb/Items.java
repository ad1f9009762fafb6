package io.sluice.protocol.dynamodb;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/** Random items and values for property tests: small alphabets, so that equal values and prefixes occur often. */
final class Items {
    static final List<String> NAMES = List.of("a", "b", "c", "d");
    private final Random random;

    Items(long seed) {
        random = new Random(seed);
    }

    Random random() {
        return random;
    }

    Map<String, AttributeValue> item() {
        Map<String, AttributeValue> item = new LinkedHashMap<>();
        for (String name : NAMES) {
            if (random.nextInt(4) > 0) item.put(name, value(2));
        }
        return item;
    }

    AttributeValue value(int depth) {
        int kind = random.nextInt(depth > 0 ? 10 : 8);
        return switch (kind) {
            case 0, 1 -> new AttributeValue.S(string());
            case 2, 3 -> new AttributeValue.N(number());
            case 4 -> new AttributeValue.B(bytes());
            case 5 -> new AttributeValue.Bool(random.nextBoolean());
            case 6 -> random.nextBoolean() ? new AttributeValue.Null() : stringSet();
            case 7 -> numberSet();
            case 8 -> {
                Map<String, AttributeValue> m = new LinkedHashMap<>();
                for (String name : NAMES) if (random.nextBoolean()) m.put(name, value(depth - 1));
                yield new AttributeValue.M(m);
            }
            default -> {
                List<AttributeValue> l = new ArrayList<>();
                for (int i = random.nextInt(4); i > 0; i--) l.add(value(depth - 1));
                yield new AttributeValue.L(l);
            }
        };
    }

    /** A scalar a key or a comparison can use. */
    AttributeValue scalar() {
        return switch (random.nextInt(3)) {
            case 0 -> new AttributeValue.S(string());
            case 1 -> new AttributeValue.N(number());
            default -> new AttributeValue.B(bytes());
        };
    }

    String string() {
        StringBuilder sb = new StringBuilder();
        for (int i = random.nextInt(4); i > 0; i--) sb.append("abé🌊".codePoints().toArray()[random.nextInt(4)] == 0x1F30A ? "🌊" : String.valueOf("abé".charAt(random.nextInt(3))));
        return sb.toString();
    }

    BigDecimal number() {
        return BigDecimal.valueOf(random.nextInt(2001) - 1000, random.nextInt(4));
    }

    byte[] bytes() {
        byte[] b = new byte[random.nextInt(3)];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (random.nextInt(3) * 127);
        return b;
    }

    AttributeValue.SS stringSet() {
        Set<String> s = new LinkedHashSet<>();
        for (int i = 1 + random.nextInt(3); i > 0; i--) s.add(string());
        return new AttributeValue.SS(List.copyOf(s));
    }

    AttributeValue.NS numberSet() {
        Map<BigDecimal, BigDecimal> byValue = new LinkedHashMap<>();
        for (int i = 1 + random.nextInt(3); i > 0; i--) {
            BigDecimal n = number();
            byValue.putIfAbsent(n.stripTrailingZeros(), n);
        }
        return new AttributeValue.NS(List.copyOf(byValue.values()));
    }
}
