package io.sluice.protocol.kinesis;

import io.sluice.protocol.AwsError;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;

/** Opaque paging tokens (ListStreams, ListShards): what the next page starts after, valid for 5 minutes like AWS's. */
public final class PageToken {
    private static final long TTL_MILLIS = 300_000;
    private static final String SHARDS = "shards";

    private PageToken() {}

    public static String issue(String kind, String after, Clock clock) {
        String raw = kind + "\n" + clock.millis() + "\n" + after;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /** What a token of this kind starts after; InvalidArgumentException or ExpiredNextTokenException otherwise. */
    public static String open(String token, String kind, Clock clock) {
        String[] parts;
        try {
            parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\n", 3);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
        // 18 digits at most: a time of 19 could pass Long.MAX_VALUE
        if (parts.length != 3 || !parts[0].equals(kind) || !parts[1].matches("[0-9]{1,18}")) {
            throw invalid();
        }
        if (clock.millis() - Long.parseLong(parts[1]) > TTL_MILLIS) {
            throw AwsError.ExpiredNextTokenException.exception("The token has expired.");
        }
        return parts[2];
    }

    /** Where a ListShards page starts: after {@code afterShardId} of {@code streamName}. */
    public record Shards(String streamName, String afterShardId) {}

    public static String issueShards(String streamName, String afterShardId, Clock clock) {
        return issue(SHARDS, streamName + "|" + afterShardId, clock);
    }

    /**
     * The stream and shard a ListShards token names. The stream is checked as a StreamName would
     * be: a ListShards call with a NextToken names its stream only through the token, and that
     * name is what the caller is authorized on.
     */
    public static Shards openShards(String token, Clock clock) {
        String opened = open(token, SHARDS, clock);
        int bar = opened.lastIndexOf('|');
        if (bar < 1 || bar > 128) {
            throw invalid();
        }
        String stream = opened.substring(0, bar);
        if (!KinesisLimits.STREAM_NAME.matcher(stream).matches()) {
            throw invalid();
        }
        return new Shards(stream, opened.substring(bar + 1));
    }

    private static RuntimeException invalid() {
        return AwsError.InvalidArgumentException.exception("Invalid NextToken.");
    }
}
