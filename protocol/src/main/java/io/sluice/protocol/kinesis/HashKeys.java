package io.sluice.protocol.kinesis;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/** The 128-bit hash key space of a stream: MD5 of the partition key, split evenly over shards as AWS does. */
public final class HashKeys {
    public static final BigInteger MAX = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

    private HashKeys() {}

    // one digest per thread: MessageDigest.getInstance showed up in the put path's profile
    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is part of every JDK", e);
        }
    });

    public static BigInteger ofPartitionKey(String partitionKey) {
        return new BigInteger(1, MD5.get().digest(partitionKey.getBytes(StandardCharsets.UTF_8)));
    }

    /** The shard of {@link #evenRanges(int)} that holds a hash key, by arithmetic instead of a search. */
    public static int evenRangeIndex(BigInteger hashKey, int shards) {
        BigInteger size = BigInteger.ONE.shiftLeft(128).divide(BigInteger.valueOf(shards));
        return Math.min(hashKey.divide(size).intValueExact(), shards - 1);
    }

    /** Shard i of n owns [i·⌊2^128/n⌋, (i+1)·⌊2^128/n⌋ - 1]; the last shard also takes the remainder. */
    public static List<BigInteger[]> evenRanges(int shards) {
        BigInteger size = BigInteger.ONE.shiftLeft(128).divide(BigInteger.valueOf(shards));
        List<BigInteger[]> ranges = new ArrayList<>(shards);
        for (int i = 0; i < shards; i++) {
            BigInteger start = size.multiply(BigInteger.valueOf(i));
            BigInteger end = i == shards - 1 ? MAX : start.add(size).subtract(BigInteger.ONE);
            ranges.add(new BigInteger[] {start, end});
        }
        return ranges;
    }

    public static String shardId(int index) {
        String digits = Integer.toString(index);
        return "shardId-" + "000000000000".substring(digits.length()) + digits;
    }

    /**
     * The index in {@code shardId-000000000007}, or -1 when the id is not of that form or names an
     * index no stream can have (12 digits reach past {@code int}: {@code shardId-999999999999}).
     */
    public static int shardIndex(String shardId) {
        if (shardId == null || !shardId.matches("shardId-[0-9]{12}")) {
            return -1;
        }
        long index = Long.parseLong(shardId.substring(8));
        return index > Integer.MAX_VALUE ? -1 : (int) index;
    }
}
