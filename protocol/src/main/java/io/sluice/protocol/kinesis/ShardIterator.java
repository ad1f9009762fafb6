package io.sluice.protocol.kinesis;

import io.sluice.protocol.AwsError;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;

/**
 * A shard iterator: where a reader stands in one shard of one incarnation of a stream, and when
 * the token was handed out. Tokens are opaque to clients, signed with HMAC-SHA256 under the
 * cluster's iterator secret (so any node can check a token another node issued) and expire
 * five minutes after issue, like AWS's.
 *
 * @param streamName      the stream
 * @param streamCreatedAt the stream's creation time in epoch millis: a stream deleted and created
 *                        again under the same name does not accept the old stream's iterators
 * @param position        the first record this iterator may return
 * @param minArrivalMillis records that arrived earlier are skipped (AT_TIMESTAMP), 0 for none
 * @param issuedAtMillis  when the token was issued
 */
public record ShardIterator(String streamName, long streamCreatedAt, SequenceNumber position, long minArrivalMillis,
                            long issuedAtMillis) {
    public static final long TTL_MILLIS = 300_000;
    private static final byte VERSION = 1;
    private static final int MAC_BYTES = 16;
    private static final int HEADER = 1 + 8 + 4 + 8 + 4 + 8 + 8 + 1;
    private static final DateTimeFormatter AWS_DATE =
            DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss zzz yyyy", Locale.ROOT).withZone(ZoneOffset.UTC);

    public String encode(byte[] secret) {
        byte[] name = streamName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(HEADER + name.length);
        body.put(VERSION).putLong(streamCreatedAt).putInt(position.shardIndex()).putLong(position.eventSeqNr())
                .putInt(position.indexInEvent()).putLong(minArrivalMillis).putLong(issuedAtMillis).put((byte) name.length).put(name);
        byte[] mac = mac(secret, body.array());
        byte[] token = Arrays.copyOf(body.array(), body.capacity() + MAC_BYTES);
        System.arraycopy(mac, 0, token, body.capacity(), MAC_BYTES);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(token);
    }

    /**
     * Checks and opens a token. A token that was not issued with this secret, or was altered, is an
     * InvalidArgumentException; one older than five minutes an ExpiredIteratorException.
     */
    public static ShardIterator decode(String token, byte[] secret, long nowMillis) {
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        if (raw.length < HEADER + MAC_BYTES || raw[0] != VERSION) {
            throw invalid();
        }
        byte[] body = Arrays.copyOf(raw, raw.length - MAC_BYTES);
        byte[] mac = Arrays.copyOfRange(raw, raw.length - MAC_BYTES, raw.length);
        if (!MessageDigest.isEqual(mac, Arrays.copyOf(mac(secret, body), MAC_BYTES))) {
            throw invalid();
        }
        ByteBuffer in = ByteBuffer.wrap(body);
        in.get();
        long created = in.getLong();
        int shard = in.getInt();
        long event = in.getLong();
        int index = in.getInt();
        long minArrival = in.getLong();
        long issued = in.getLong();
        int nameLength = in.get() & 0xff;
        if (in.remaining() != nameLength) {
            throw invalid();
        }
        byte[] name = new byte[nameLength];
        in.get(name);
        if (nowMillis - issued > TTL_MILLIS) {
            throw AwsError.ExpiredIteratorException.exception("Iterator expired. The iterator was created at time "
                    + AWS_DATE.format(Instant.ofEpochMilli(issued)) + " while right now it is "
                    + AWS_DATE.format(Instant.ofEpochMilli(nowMillis))
                    + " which is further in the future than the tolerated delay of " + TTL_MILLIS + " milliseconds.");
        }
        return new ShardIterator(new String(name, StandardCharsets.UTF_8), created,
                new SequenceNumber(shard, event, index), minArrival, issued);
    }

    public ShardIterator at(SequenceNumber newPosition, long nowMillis) {
        return new ShardIterator(streamName, streamCreatedAt, newPosition, minArrivalMillis, nowMillis);
    }

    private static RuntimeException invalid() {
        return AwsError.InvalidArgumentException.exception("Invalid ShardIterator.");
    }

    private static byte[] mac(byte[] secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
