package io.sluice.protocol.kinesis;

import io.sluice.protocol.AwsError;

import java.math.BigInteger;

/**
 * Kinesis sequence numbers as Sluice mints them: a 56-digit decimal (like AWS's) that packs the
 * shard, the journal event that holds the record, and the record's place in that event.
 * Comparing two numbers of one shard as integers compares the records' order; a number tells the
 * reader directly which journal event to start from.
 *
 * <pre>value = 4·10^55 + shardIndex·2^104 + eventSeqNr·2^24 + indexInEvent</pre>
 */
public record SequenceNumber(int shardIndex, long eventSeqNr, int indexInEvent) implements Comparable<SequenceNumber> {
    private static final BigInteger BASE = BigInteger.valueOf(4).multiply(BigInteger.TEN.pow(55));
    private static final int INDEX_BITS = 24;
    private static final int EVENT_BITS = 80;
    private static final BigInteger INDEX_MASK = BigInteger.ONE.shiftLeft(INDEX_BITS).subtract(BigInteger.ONE);
    private static final BigInteger EVENT_MASK = BigInteger.ONE.shiftLeft(EVENT_BITS).subtract(BigInteger.ONE);
    public static final int MAX_RECORDS_PER_EVENT = 1 << INDEX_BITS;

    public SequenceNumber {
        if (shardIndex < 0 || eventSeqNr < 0 || indexInEvent < 0 || indexInEvent >= MAX_RECORDS_PER_EVENT) {
            throw new IllegalArgumentException("sequence number out of range");
        }
    }

    /** The smallest number of a shard, reported as its StartingSequenceNumber. */
    public static SequenceNumber start(int shardIndex) {
        return new SequenceNumber(shardIndex, 0, 0);
    }

    public BigInteger value() {
        return BASE.add(BigInteger.valueOf(shardIndex).shiftLeft(INDEX_BITS + EVENT_BITS))
                .add(BigInteger.valueOf(eventSeqNr).shiftLeft(INDEX_BITS))
                .add(BigInteger.valueOf(indexInEvent));
    }

    /**
     * The decimal form. The records of one event share everything but the low 24 bits, so the event's
     * base (index 0) is rendered once per thread and event and the index added digit by digit: a
     * BigInteger division chain per record was a visible share of a PutRecords' CPU.
     */
    @Override
    public String toString() {
        EventBase cached = LAST_BASE.get();
        if (cached.shardIndex != shardIndex || cached.eventSeqNr != eventSeqNr || cached.digits == null) {
            cached.shardIndex = shardIndex;
            cached.eventSeqNr = eventSeqNr;
            cached.digits = new SequenceNumber(shardIndex, eventSeqNr, 0).value().toString().toCharArray();
        }
        if (indexInEvent == 0) {
            return new String(cached.digits);
        }
        char[] digits = cached.digits.clone();
        long carry = indexInEvent;
        for (int i = digits.length - 1; i >= 0 && carry > 0; i--) {
            long d = digits[i] - '0' + carry;
            digits[i] = (char) ('0' + d % 10);
            carry = d / 10;
        }
        // the base is ≥ 4·10^55 and the index < 2^24, so the sum never gains a digit
        return new String(digits);
    }

    private static final class EventBase {
        int shardIndex = -1;
        long eventSeqNr = -1;
        char[] digits;
    }

    private static final ThreadLocal<EventBase> LAST_BASE = ThreadLocal.withInitial(EventBase::new);

    /** The position right after this one: where AFTER_SEQUENCE_NUMBER starts reading. */
    public SequenceNumber next() {
        return indexInEvent + 1 < MAX_RECORDS_PER_EVENT
                ? new SequenceNumber(shardIndex, eventSeqNr, indexInEvent + 1)
                : new SequenceNumber(shardIndex, eventSeqNr + 1, 0);
    }

    @Override
    public int compareTo(SequenceNumber o) {
        int c = Integer.compare(shardIndex, o.shardIndex);
        if (c != 0) return c;
        c = Long.compare(eventSeqNr, o.eventSeqNr);
        return c != 0 ? c : Integer.compare(indexInEvent, o.indexInEvent);
    }

    /**
     * Parses a number a client sends back. Numbers Sluice did not mint are refused with the
     * InvalidArgumentException AWS gives for a malformed StartingSequenceNumber.
     */
    public static SequenceNumber parse(String text, String fieldName) {
        BigInteger value;
        try {
            value = new BigInteger(text);
        } catch (NumberFormatException | NullPointerException e) {
            throw invalid(text, fieldName);
        }
        BigInteger rest = value.subtract(BASE);
        BigInteger event = rest.shiftRight(INDEX_BITS).and(EVENT_MASK);
        BigInteger shard = rest.shiftRight(INDEX_BITS + EVENT_BITS);
        if (rest.signum() < 0 || event.bitLength() > 63 || shard.bitLength() > 31) {
            throw invalid(text, fieldName);
        }
        int index = rest.and(INDEX_MASK).intValueExact();
        return new SequenceNumber(shard.intValueExact(), event.longValueExact(), index);
    }

    private static RuntimeException invalid(String text, String fieldName) {
        return AwsError.InvalidArgumentException.exception(
                "Invalid " + fieldName + ". The sequence number " + text + " was not minted by this stream service.");
    }
}
