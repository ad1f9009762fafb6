package io.sluice.node.table;

import io.sluice.protocol.dynamodb.AttributeValue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Where an item sits in its table: the partition token (the first 32 bits of MD5 of its hash key, as
 * DynamoDB places partitions), then the hash key, then the range key. Scans run in this order, so a
 * Scan segment is a contiguous token range and the items of one hash key are contiguous, sorted by
 * their range key as a Query returns them. A key with a null hash value is a bound: it sorts before
 * every key of its token.
 */
public record ItemKey(long token, AttributeValue hash, AttributeValue range) implements Comparable<ItemKey> {

    /** 2^32: tokens lie in [0, TOKENS). */
    public static final long TOKENS = 1L << 32;

    private static final Comparator<AttributeValue> NULLS_FIRST = Comparator.nullsFirst(AttributeValue.keyOrder());

    public static ItemKey of(AttributeValue hash, AttributeValue range) {
        return new ItemKey(tokenOf(hash), hash, range);
    }

    /** The lowest key of a token: where a scan of the token range starting there begins. */
    public static ItemKey bound(long token) {
        return new ItemKey(token, null, null);
    }

    @Override
    public int compareTo(ItemKey o) {
        int c = Long.compare(token, o.token);
        if (c != 0) return c;
        c = NULLS_FIRST.compare(hash, o.hash);
        return c != 0 ? c : NULLS_FIRST.compare(range, o.range);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ItemKey k && compareTo(k) == 0;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(token) * 31 + (range == null ? 0 : Arrays.hashCode(bytes(range)));
    }

    static long tokenOf(AttributeValue hash) {
        try {
            byte[] digest = MessageDigest.getInstance("MD5").digest(bytes(hash));
            return ((digest[0] & 0xffL) << 24) | ((digest[1] & 0xffL) << 16) | ((digest[2] & 0xffL) << 8) | (digest[3] & 0xffL);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(AttributeValue v) {
        if (v instanceof AttributeValue.S s) return s.value().getBytes(StandardCharsets.UTF_8);
        if (v instanceof AttributeValue.B b) return b.value();
        if (v instanceof AttributeValue.N n) return n.canonical().getBytes(StandardCharsets.US_ASCII);
        throw new IllegalArgumentException("not a key type: " + v.type());
    }
}
