package io.sluice.protocol.kinesis;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class HashKeysTest {

    @Test
    void hashKeyIsUnsignedMd5OfUtf8PartitionKey() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
        assertEquals(new BigInteger("0cc175b9c0f1b6a831c399e269772661", 16), HashKeys.ofPartitionKey("a"));
        assertTrue(HashKeys.ofPartitionKey("ü").signum() >= 0);
    }

    @Test
    void oneShardCoversTheWholeSpaceAsInTheSeed() {
        List<BigInteger[]> one = HashKeys.evenRanges(1);
        assertEquals(BigInteger.ZERO, one.get(0)[0]);
        assertEquals("340282366920938463463374607431768211455", one.get(0)[1].toString());
    }

    @Test
    void rangesAreContiguousAndCoverEverything() {
        for (int n : new int[] {2, 3, 4, 7, 12}) {
            List<BigInteger[]> ranges = HashKeys.evenRanges(n);
            assertEquals(BigInteger.ZERO, ranges.get(0)[0]);
            for (int i = 1; i < n; i++) {
                assertEquals(ranges.get(i - 1)[1].add(BigInteger.ONE), ranges.get(i)[0]);
            }
            assertEquals(HashKeys.MAX, ranges.get(n - 1)[1]);
        }
        assertEquals("170141183460469231731687303715884105727", HashKeys.evenRanges(2).get(0)[1].toString());
    }

    @Test
    void evenRangeIndexAgreesWithTheRanges() {
        java.util.Random random = new java.util.Random(7);
        for (int n : new int[] {1, 3, 4, 7}) {
            List<BigInteger[]> ranges = HashKeys.evenRanges(n);
            for (int i = 0; i < 2000; i++) {
                BigInteger key = i == 0 ? HashKeys.MAX : i == 1 ? BigInteger.ZERO : new BigInteger(128, random);
                int index = HashKeys.evenRangeIndex(key, n);
                assertTrue(key.compareTo(ranges.get(index)[0]) >= 0 && key.compareTo(ranges.get(index)[1]) <= 0);
            }
        }
    }

    @Test
    void shardIdsHaveTwelveDigits() {
        assertEquals("shardId-000000000000", HashKeys.shardId(0));
        assertEquals(11, HashKeys.shardIndex("shardId-000000000011"));
        assertEquals(-1, HashKeys.shardIndex("shard-1"));
    }

    @Test
    void shardIdsNoStreamCanHaveAreNotAnIndex() {
        assertEquals(Integer.MAX_VALUE, HashKeys.shardIndex("shardId-002147483647"));
        assertEquals(-1, HashKeys.shardIndex("shardId-002147483648"));
        assertEquals(-1, HashKeys.shardIndex("shardId-999999999999"));
        assertEquals(-1, HashKeys.shardIndex("shardId-٠٠٠٠٠٠٠٠٠٠٠١"));
        assertEquals(-1, HashKeys.shardIndex("shardId--00000000001"));
        assertEquals(-1, HashKeys.shardIndex(""));
        assertEquals(-1, HashKeys.shardIndex(null));
    }
}
