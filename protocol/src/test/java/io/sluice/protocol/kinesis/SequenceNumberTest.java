package io.sluice.protocol.kinesis;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;

import static org.junit.jupiter.api.Assertions.*;

class SequenceNumberTest {

    @Test
    void isA56DigitDecimalThatRoundTrips() {
        SequenceNumber s = new SequenceNumber(7, 123_456_789L, 499);
        String text = s.toString();
        assertEquals(56, text.length());
        assertTrue(text.matches("[1-9]\\d*"));
        assertEquals(s, SequenceNumber.parse(text, "StartingSequenceNumber"));
    }

    @Test
    void decimalFormEqualsTheBigIntegerOneForEveryIndexIncludingCarries() {
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < 2000; i++) {
            SequenceNumber s = new SequenceNumber(random.nextInt(5000), random.nextLong() & ((1L << 40) - 1),
                    i % 3 == 0 ? SequenceNumber.MAX_RECORDS_PER_EVENT - 1 - random.nextInt(4) : random.nextInt(1 << 24));
            assertEquals(s.value().toString(), s.toString(), s::toString);
            // and the cached event base serves the next record of the same event right too
            SequenceNumber sibling = new SequenceNumber(s.shardIndex(), s.eventSeqNr(), random.nextInt(1 << 24));
            assertEquals(sibling.value().toString(), sibling.toString());
        }
    }

    @Test
    void numericOrderFollowsEventThenIndexWithinAShard() {
        BigInteger a = new SequenceNumber(0, 5, 10).value();
        BigInteger b = new SequenceNumber(0, 5, 11).value();
        BigInteger c = new SequenceNumber(0, 6, 0).value();
        assertTrue(a.compareTo(b) < 0 && b.compareTo(c) < 0);
        assertTrue(new SequenceNumber(0, 6, 0).compareTo(new SequenceNumber(0, 5, 11)) > 0);
    }

    @Test
    void nextIsTheFollowingPosition() {
        assertEquals(new SequenceNumber(1, 5, 1), new SequenceNumber(1, 5, 0).next());
        assertEquals(new SequenceNumber(1, 6, 0),
                new SequenceNumber(1, 5, SequenceNumber.MAX_RECORDS_PER_EVENT - 1).next());
    }

    @Test
    void refusesNumbersItDidNotMint() {
        for (String bad : new String[] {"0", "12345", "abc", "4" + "9".repeat(80)}) {
            ApiException e = assertThrows(ApiException.class, () -> SequenceNumber.parse(bad, "StartingSequenceNumber"), bad);
            assertEquals(AwsError.InvalidArgumentException, e.error());
        }
    }
}
