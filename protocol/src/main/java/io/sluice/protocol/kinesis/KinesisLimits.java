package io.sluice.protocol.kinesis;

import java.util.List;
import java.util.regex.Pattern;

/** The Kinesis API model's member patterns and the service's size limits, as AWS documents them. */
public final class KinesisLimits {
    private KinesisLimits() {}

    public static final Pattern STREAM_NAME = Pattern.compile("[a-zA-Z0-9_.-]+");
    public static final Pattern STREAM_ARN = Pattern.compile("arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
    public static final Pattern CONSUMER_NAME = STREAM_NAME;
    public static final Pattern CONSUMER_ARN =
            Pattern.compile("^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+");
    /** Reserved by the model for future use ("Not Implemented"), checked for shape only. */
    public static final Pattern STREAM_ID = Pattern.compile("[a-z0-9]{20}-[a-z0-9]{3}");
    public static final Pattern HASH_KEY = Pattern.compile("0|([1-9]\\d{0,38})");
    public static final Pattern SEQUENCE_NUMBER = Pattern.compile("0|([1-9]\\d{0,128})");
    /** Data plus partition key of one record, counted by {@link #recordBytes}. */
    public static final int MAX_RECORD_BYTES = 1 << 20;
    /** Data plus partition keys of one PutRecords request, counted by {@link #recordBytes}. */
    public static final int MAX_PUT_RECORDS_BYTES = 5 << 20;
    public static final int MAX_GET_RECORDS_BYTES = 10 << 20;
    public static final int MAX_GET_RECORDS_LIMIT = 10_000;
    public static final int MAX_PUT_RECORDS_ENTRIES = 500;
    public static final int MIN_RETENTION_HOURS = 24;
    public static final int MAX_RETENTION_HOURS = 8760;
    /** ListStreamConsumers answers at most this many consumers per page, whatever MaxResults asks. */
    public static final int MAX_CONSUMERS_PER_PAGE = 100;
    public static final List<String> ITERATOR_TYPES =
            List.of("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP");

    /**
     * A record's size as AWS counts it against both the record and the request limit: its data
     * plus its partition key in UTF-8 bytes (a key of 256 'é' is 512 bytes, not 256 chars).
     */
    public static long recordBytes(byte[] data, String partitionKey) {
        return (data == null ? 0 : data.length) + (partitionKey == null ? 0 : utf8Length(partitionKey));
    }

    /**
     * The length of {@code s} in UTF-8, as {@code s.getBytes(UTF_8).length} (an unpaired surrogate
     * is one byte, the '?' that encoding puts in its place), without encoding it: the put path
     * counts every record's partition key and allocates nothing for it.
     */
    public static int utf8Length(String s) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += Character.isSurrogate(c) ? 1 : 3;
            }
        }
        return n;
    }
}
