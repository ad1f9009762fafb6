package io.sluice.protocol.kinesis;

import io.sluice.protocol.AwsError;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;

/** Opaque paging tokens (ListStreams, ListShards, ListStreamConsumers): what the next page starts after, valid for 5 minutes like AWS's. */
public final class PageToken {
    private static final long TTL_MILLIS = 300_000;
    private static final String SHARDS = "shards";
    private static final String CONSUMERS = "consumers";

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

    /** Where a ListShards page starts: after {@code afterShardId} of {@code streamName}, with the first page's filter (or null). */
    public record Shards(String streamName, String afterShardId, Kinesis.ShardFilter filter) {}

    public static String issueShards(String streamName, String afterShardId, Kinesis.ShardFilter filter, Clock clock) {
        String rest = filter == null ? "" : "|" + filter.type() + "|" + (filter.shardId() == null ? "" : filter.shardId())
                + "|" + (filter.timestamp() == null ? "" : Long.toString(filter.timestamp().toEpochMilli()));
        return issue(SHARDS, streamName + "|" + afterShardId + rest, clock);
    }

    /**
     * The stream, shard and filter a ListShards token names. The stream is checked as a StreamName
     * would be: a ListShards call with a NextToken names its stream only through the token, and that
     * name is what the caller is authorized on.
     */
    public static Shards openShards(String token, Clock clock) {
        String[] parts = open(token, SHARDS, clock).split("\\|", -1);
        if ((parts.length != 2 && parts.length != 5) || parts[0].isEmpty() || parts[0].length() > 128
                || !KinesisLimits.STREAM_NAME.matcher(parts[0]).matches()) {
            throw invalid();
        }
        Kinesis.ShardFilter filter = null;
        if (parts.length == 5) {
            try {
                filter = new Kinesis.ShardFilter(parts[2], parts[3].isEmpty() ? null : parts[3],
                        parts[4].isEmpty() ? null : java.time.Instant.ofEpochMilli(Long.parseLong(parts[4])));
            } catch (NumberFormatException e) {
                throw invalid();
            }
        }
        return new Shards(parts[0], parts[1], filter);
    }

    /** Where a ListStreamConsumers page starts: after {@code afterConsumerName} of one incarnation of {@code streamName}. */
    public record Consumers(String streamName, long streamCreatedAtMillis, String afterConsumerName) {}

    public static String issueConsumers(String streamName, long streamCreatedAtMillis, String afterConsumerName, Clock clock) {
        return issue(CONSUMERS, streamName + "|" + streamCreatedAtMillis + "|" + afterConsumerName, clock);
    }

    /** The stream incarnation and consumer a ListStreamConsumers token names, each checked as a request's would be. */
    public static Consumers openConsumers(String token, Clock clock) {
        String[] parts = open(token, CONSUMERS, clock).split("\\|", -1);
        if (parts.length != 3 || !named(parts[0]) || !named(parts[2]) || !parts[1].matches("[0-9]{1,18}")) {
            throw invalid();
        }
        return new Consumers(parts[0], Long.parseLong(parts[1]), parts[2]);
    }

    /** A stream's or consumer's name by the model's length and pattern. */
    private static boolean named(String name) {
        return !name.isEmpty() && name.length() <= 128 && KinesisLimits.STREAM_NAME.matcher(name).matches();
    }

    private static RuntimeException invalid() {
        return AwsError.InvalidArgumentException.exception("Invalid NextToken.");
    }
}
