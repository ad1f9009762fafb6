package io.sluice.protocol.kinesis;

import io.sluice.protocol.AwsError;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;

/** Opaque paging tokens (ListStreams, ListShards): what the next page starts after, valid for 5 minutes like AWS's. */
public final class PageToken {
    private static final long TTL_MILLIS = 300_000;

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
            throw AwsError.InvalidArgumentException.exception("Invalid NextToken.");
        }
        if (parts.length != 3 || !parts[0].equals(kind) || !parts[1].matches("\\d{1,19}")) {
            throw AwsError.InvalidArgumentException.exception("Invalid NextToken.");
        }
        if (clock.millis() - Long.parseLong(parts[1]) > TTL_MILLIS) {
            throw AwsError.ExpiredNextTokenException.exception("The token has expired.");
        }
        return parts[2];
    }
}
