package io.sluice.node.shard;

import io.sluice.protocol.ApiException;
import com.typesafe.config.Config;
import io.sluice.node.TestConfigs;
import io.sluice.protocol.AwsError;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The node's group commit: appends wait behind a shard write for a moment, never into a time-out. */
class AppendBatcherTest {
    private static final Config CONFIG = TestConfigs.entityTests("sluice.shard.max-append-wait = 300ms\nsluice.ask-timeout = 20s");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    private static AppendBatcher.Enqueue enqueue(String text, ActorRef<StatusReply<AppendBatcher.Landed>> replyTo) {
        return new AppendBatcher.Enqueue("s~1~0", "s", 0,
                List.of(ShardEntity.StoredRecord.plain("k", text.getBytes(StandardCharsets.UTF_8))), List.of(), replyTo);
    }

    @Test
    void aPutBehindAWriteInFlightTooLongIsRefusedAtOnceWithTheRetryableThrottlingError() {
        TestProbe<ShardEntity.Command> shard = testKit.createTestProbe();
        ActorRef<AppendBatcher.Command> batcher = testKit.spawn(AppendBatcher.create(TestConfigs.settings(CONFIG), id -> shard.ref()));
        TestProbe<StatusReply<AppendBatcher.Landed>> first = testKit.createTestProbe();
        TestProbe<StatusReply<AppendBatcher.Landed>> queued = testKit.createTestProbe();
        TestProbe<StatusReply<AppendBatcher.Landed>> late = testKit.createTestProbe();

        batcher.tell(enqueue("a", first.ref()));
        ShardEntity.Append inFlight = shard.expectMessageClass(ShardEntity.Append.class);
        batcher.tell(enqueue("b", queued.ref()));    // within the moment: waits for the next write
        queued.expectNoMessage(Duration.ofMillis(400));
        batcher.tell(enqueue("c", late.ref()));      // the write has been in flight longer than max-append-wait
        StatusReply<AppendBatcher.Landed> refused = late.receiveMessage(Duration.ofMillis(200));
        assertTrue(refused.isError());
        assertEquals(AwsError.ProvisionedThroughputExceededException, ((ApiException) refused.getError()).error(),
                refused.getError().toString());

        // the write completes: the first is acknowledged, the queued one goes out as the next write
        inFlight.replyTo().tell(StatusReply.success(new ShardEntity.AppendAck(1, 1000, false)));
        assertEquals(1, first.receiveMessage().getValue().eventSeqNr());
        ShardEntity.Append next = shard.expectMessageClass(ShardEntity.Append.class);
        assertEquals("b", new String(next.records().get(0).data(), StandardCharsets.UTF_8));
        next.replyTo().tell(StatusReply.success(new ShardEntity.AppendAck(2, 1001, false)));
        assertEquals(2, queued.receiveMessage().getValue().eventSeqNr());
    }
}
