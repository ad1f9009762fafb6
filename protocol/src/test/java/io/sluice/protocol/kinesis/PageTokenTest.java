package io.sluice.protocol.kinesis;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.*;

class PageTokenTest {
    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_000L), ZoneOffset.UTC);

    private static String token(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static AwsError refusal(Runnable open) {
        return assertThrows(ApiException.class, open::run).error();
    }

    @Test
    void aShardsTokenNamesItsStreamAndShard() {
        PageToken.Shards s = PageToken.openShards(PageToken.issueShards("alpha", "shardId-000000000001", null, clock), clock);
        assertEquals(new PageToken.Shards("alpha", "shardId-000000000001", null), s);
    }

    @Test
    void aShardsTokenCarriesTheFirstPagesFilter() {
        var atTime = new Kinesis.ShardFilter("AT_TIMESTAMP", null, java.time.Instant.ofEpochMilli(1_700_000_123_456L));
        assertEquals(new PageToken.Shards("alpha", "shardId-000000000003", atTime),
                PageToken.openShards(PageToken.issueShards("alpha", "shardId-000000000003", atTime, clock), clock));
        var after = new Kinesis.ShardFilter("AFTER_SHARD_ID", "shardId-000000000001", null);
        assertEquals(new PageToken.Shards("alpha", "shardId-000000000003", after),
                PageToken.openShards(PageToken.issueShards("alpha", "shardId-000000000003", after, clock), clock));
        assertEquals(AwsError.InvalidArgumentException,
                refusal(() -> PageToken.openShards(token("shards\n1700000000000\nalpha|x|AT_TIMESTAMP||soon"), clock)));
    }

    @Test
    void aShardsTokenWithoutItsSeparatorOrWithABadStreamNameIsInvalid() {
        assertEquals(AwsError.InvalidArgumentException, refusal(() -> PageToken.openShards(token("shards\n1700000000000\nalpha"), clock)));
        assertEquals(AwsError.InvalidArgumentException, refusal(() -> PageToken.openShards(token("shards\n1700000000000\n|x"), clock)));
        assertEquals(AwsError.InvalidArgumentException, refusal(() -> PageToken.openShards(token("shards\n1700000000000\nal pha|x"), clock)));
        assertEquals(AwsError.InvalidArgumentException, refusal(() -> PageToken.openShards(
                token("shards\n1700000000000\n" + "a".repeat(129) + "|x"), clock)));
    }

    @Test
    void aConsumersTokenNamesItsStreamIncarnationAndConsumer() {
        assertEquals(new PageToken.Consumers("alpha", 1_699_999_000_123L, "app-1"),
                PageToken.openConsumers(PageToken.issueConsumers("alpha", 1_699_999_000_123L, "app-1", clock), clock));
        assertEquals(AwsError.InvalidArgumentException,
                refusal(() -> PageToken.openConsumers(token("consumers\n1700000000000\nalpha|x|app"), clock)));
        assertEquals(AwsError.InvalidArgumentException,
                refusal(() -> PageToken.openConsumers(token("consumers\n1700000000000\nal pha|1|app"), clock)));
        assertEquals(AwsError.InvalidArgumentException,
                refusal(() -> PageToken.openConsumers(token("consumers\n1700000000000\nalpha|1|"), clock)));
        // a ListShards token is no ListStreamConsumers token
        assertEquals(AwsError.InvalidArgumentException,
                refusal(() -> PageToken.openConsumers(PageToken.issueShards("alpha", "shardId-000000000001", null, clock), clock)));
    }

    @Test
    void aTimeBeyondLongIsInvalidAndAnOldOneExpired() {
        assertEquals(AwsError.InvalidArgumentException,
                refusal(() -> PageToken.open(token("shards\n9999999999999999999\nalpha|x"), "shards", clock)));
        assertEquals(AwsError.ExpiredNextTokenException,
                refusal(() -> PageToken.open(token("shards\n1699999699999\nalpha|x"), "shards", clock)));
        assertEquals(AwsError.InvalidArgumentException, refusal(() -> PageToken.open("%%%", "shards", clock)));
    }
}
