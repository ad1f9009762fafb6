package io.sluice.node.stream;

import io.sluice.protocol.AwsError;
import io.sluice.protocol.ApiException;
import com.typesafe.config.Config;
import io.sluice.node.MutableClock;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.TestConfigs;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class StreamEntityTest {
    // a deleted stream's shards are purged at once; a short ask so a silent catalogue is noticed quickly,
    // and a short pause before asking it again
    private static final Config CONFIG = TestConfigs.entityTests("""
            sluice.stream.delete-drain = 0s
            sluice.stream.update-delay = 0s
            sluice.ask-timeout = 300ms
            sluice.stream.catalogue-retry { min-backoff = 50ms, max-backoff = 200ms }
            """);
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final NodeSettings SETTINGS = TestConfigs.settings(CONFIG);

    private TestProbe<StreamCatalog.Command> catalog;
    private EventSourcedBehaviorTestKit<StreamEntity.Command, StreamEntity.Event, StreamEntity.State> stream;
    /** Shard purges the entity started, in order; each ends when the test completes its result. */
    private final LinkedBlockingQueue<PurgeCall> purges = new LinkedBlockingQueue<>();

    private record PurgeCall(String shardEntityId, CompletableFuture<Done> result) {}

    /** Shard closes a reshard started, in order; each ends when the test completes its result. */
    private final LinkedBlockingQueue<CloseCall> closes = new LinkedBlockingQueue<>();

    private record CloseCall(String shardEntityId, CompletableFuture<io.sluice.node.shard.ShardEntity.Closed> result) {}

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        catalog = testKit.createTestProbe();
        stream = streamNamed("foo", SETTINGS);
    }

    /**
     * The entity under test. Tests that restart or fail it name a stream of their own: entities of
     * earlier tests live on in the same journal, and one of them could take a failure meant for this one.
     */
    private EventSourcedBehaviorTestKit<StreamEntity.Command, StreamEntity.Event, StreamEntity.State> streamNamed(
            String name, NodeSettings settings) {
        var kit = EventSourcedBehaviorTestKit.<StreamEntity.Command, StreamEntity.Event, StreamEntity.State>create(
                testKit.system(), StreamEntity.create(name, settings, StreamEntity.CatalogueRetry.from(CONFIG),
                        StreamEntity.ReshardLimits.from(CONFIG), Consumers.Limits.from(CONFIG), new MutableClock(),
                        catalog.ref(), shardEntityId -> {
                    PurgeCall call = new PurgeCall(shardEntityId, new CompletableFuture<>());
                    purges.add(call);
                    return call.result();
                }, shardEntityId -> {
                    CloseCall call = new CloseCall(shardEntityId, new CompletableFuture<>());
                    closes.add(call);
                    return call.result();
                }));
        kit.clear();
        return kit;
    }

    private StreamEntity.StreamInfo create(int shards) {
        var result = stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(
                replyTo -> new StreamEntity.Create(shards, "PROVISIONED", Map.of("team", "a"), 0, replyTo));
        assertTrue(result.reply().isSuccess(), () -> result.reply().toString());
        return result.reply().getValue();
    }

    private StreamEntity.StreamInfo describe() {
        return stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(StreamEntity.Describe::new).reply().getValue();
    }

    /** The entity registers with the catalogue and turns ACTIVE once the catalogue acknowledges. */
    private void catalogueAcknowledges() {
        StreamCatalog.Command msg = catalog.receiveMessage();
        if (msg instanceof StreamCatalog.Register r) r.replyTo().tell(StatusReply.ack());
        else if (msg instanceof StreamCatalog.Unregister u) u.replyTo().tell(StatusReply.ack());
        else fail("unexpected " + msg);
    }

    @Test
    void createdStreamIsCreatingUntilCataloguedThenActive() {
        StreamEntity.StreamInfo info = create(3);
        assertEquals("CREATING", info.status());
        assertEquals("arn:aws:kinesis:us-east-1:000000000000:stream/foo", info.arn());
        assertEquals(3, info.shards().size());
        assertEquals("0", info.shards().get(0).startingHashKey());
        assertEquals("340282366920938463463374607431768211455", info.shards().get(2).endingHashKey());
        assertEquals("NONE", info.encryptionType());
        catalogueAcknowledges();
        catalog.awaitAssert(java.time.Duration.ofSeconds(3), () -> {
            assertTrue(describe().status().equals("ACTIVE"));
            return null;
        });
    }

    private void awaitStatus(String status) {
        catalog.awaitAssert(Duration.ofSeconds(3), () -> {
            assertEquals(status, describe().status());
            return null;
        });
    }

    @Test
    void asksASilentCatalogueAgainAndTurnsActiveOnlyOnceItAgrees() {
        create(1);
        catalog.expectMessageClass(StreamCatalog.Register.class); // never answered: the ask times out
        StreamCatalog.Register again = catalog.expectMessageClass(StreamCatalog.Register.class, Duration.ofSeconds(3));
        assertEquals("CREATING", describe().status(), "ACTIVE before the catalogue agreed");
        again.replyTo().tell(StatusReply.ack());
        awaitStatus("ACTIVE");
        catalog.expectNoMessage(Duration.ofMillis(300));
    }

    @Test
    void keepsAStreamDeletingUntilTheCatalogueHasForgottenIt() throws Exception {
        create(1);
        catalogueAcknowledges();
        awaitStatus("ACTIVE");
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        nextPurge().result().complete(Done.getInstance());
        StreamCatalog.Unregister first = catalog.expectMessageClass(StreamCatalog.Unregister.class);
        first.replyTo().tell(StatusReply.error("journal write failed")); // the catalogue could not record it
        StreamCatalog.Unregister again = catalog.expectMessageClass(StreamCatalog.Unregister.class, Duration.ofSeconds(3));
        assertEquals("DELETING", describe().status(), "gone while still catalogued");
        again.replyTo().tell(StatusReply.ack());
        catalog.awaitAssert(Duration.ofSeconds(3), () -> {
            assertInstanceOf(StreamEntity.Absent.class, stream.getState());
            return null;
        });
    }

    @Test
    void ignoresTheCataloguesAnswerToAnAskMadeBeforeTheStatusChanged() throws Exception {
        create(1);
        StreamCatalog.Register register = catalog.expectMessageClass(StreamCatalog.Register.class);
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        PurgeCall purge = nextPurge();
        register.replyTo().tell(StatusReply.ack()); // agreed to CREATING, not to DELETING
        catalog.expectNoMessage(Duration.ofMillis(200));
        assertEquals("DELETING", describe().status());
        purge.result().complete(Done.getInstance());
        StreamCatalog.Unregister unregister = catalog.expectMessageClass(StreamCatalog.Unregister.class);
        assertEquals("DELETING", describe().status());
        unregister.replyTo().tell(StatusReply.ack());
        catalog.awaitAssert(Duration.ofSeconds(3), () -> {
            assertInstanceOf(StreamEntity.Absent.class, stream.getState());
            return null;
        });
    }

    @Test
    void rejectsASecondCreateWithResourceInUse() {
        create(1);
        var again = stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(
                replyTo -> new StreamEntity.Create(1, "PROVISIONED", Map.of(), 0, replyTo));
        assertTrue(again.reply().isError());
        assertEquals(AwsError.ResourceInUseException, ((ApiException) again.reply().getError()).error());
        assertTrue(again.reply().getError().getMessage().startsWith("Stream foo under account"));
        assertTrue(again.hasNoEvents());
    }

    @Test
    void enforcesTheAccountShardLimit() {
        var r = stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(
                replyTo -> new StreamEntity.Create(5, "PROVISIONED", Map.of(), SETTINGS.shardLimit() - 4, replyTo));
        assertEquals(AwsError.LimitExceededException, ((ApiException) r.reply().getError()).error());
        assertInstanceOf(StreamEntity.Absent.class, r.state());
    }

    @Test
    void retentionOnlyGrowsWithIncreaseAndShrinksWithDecrease() {
        create(1);
        catalogueAcknowledges();
        catalog.awaitAssert(java.time.Duration.ofSeconds(3), () -> {
            assertTrue(describe().status().equals("ACTIVE"));
            return null;
        });
        var up = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.ChangeRetention(48, true, replyTo));
        assertTrue(up.reply().isSuccess());
        assertEquals(48, describe().retentionHours());
        var wrong = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.ChangeRetention(24, true, replyTo));
        assertTrue(wrong.reply().getError().getMessage().contains("Use DecreaseRetentionPeriod API"));
        var down = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.ChangeRetention(24, false, replyTo));
        assertTrue(down.reply().isSuccess());
        assertEquals(24, describe().retentionHours());
    }

    @Test
    void tagsAreAddedAndRemoved() {
        create(1);
        stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.AddTags(Map.of("env", "prod"), replyTo));
        assertEquals(Map.of("team", "a", "env", "prod"), describe().tags());
        stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.RemoveTags(List.of("team"), replyTo));
        assertEquals(Map.of("env", "prod"), describe().tags());
    }

    /** The next shard purge the entity starts; fails when none starts within a few seconds. */
    private PurgeCall nextPurge() throws InterruptedException {
        PurgeCall call = purges.poll(5, TimeUnit.SECONDS);
        assertNotNull(call, "no shard purge started");
        return call;
    }

    private void awaitGone() {
        catalog.awaitAssert(Duration.ofSeconds(3), () -> {
            assertInstanceOf(StreamEntity.Absent.class, stream.getState());
            return null;
        });
    }

    @Test
    void deleteGoesThroughDeletingAndFreesTheName() throws Exception {
        long createdAt = create(2).createdAtMillis();
        catalogueAcknowledges();
        var deleted = stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        assertTrue(deleted.reply().isSuccess());
        assertEquals("DELETING", ((StreamEntity.Present) deleted.state()).info().status());
        // the shards one after the other, and the catalogue only once their data is gone
        PurgeCall first = nextPurge();
        assertEquals("foo~" + createdAt + "~0", first.shardEntityId());
        assertNull(purges.poll(200, TimeUnit.MILLISECONDS), "the second shard is purged before the first is done");
        first.result().complete(Done.getInstance());
        PurgeCall second = nextPurge();
        assertEquals("foo~" + createdAt + "~1", second.shardEntityId());
        catalog.expectNoMessage(Duration.ofMillis(200));
        assertEquals("DELETING", describe().status());
        second.result().complete(Done.getInstance());
        catalogueAcknowledges();
        awaitGone();
        assertEquals("CREATING", create(2).status());
    }

    @Test
    void resumesDeletingItsShardsAfterARestart() throws Exception {
        stream = streamNamed("restarted", SETTINGS);
        long createdAt = create(1).createdAtMillis();
        catalogueAcknowledges();
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        PurgeCall lost = nextPurge();
        // the node goes down while the purge runs: its outcome never arrives
        stream.restart();
        assertEquals("DELETING", describe().status());
        PurgeCall resumed = nextPurge();
        assertEquals("restarted~" + createdAt + "~0", resumed.shardEntityId());
        assertNotSame(lost, resumed);
        catalog.expectNoMessage(Duration.ofMillis(200));
        resumed.result().complete(Done.getInstance());
        catalogueAcknowledges();
        awaitGone();
    }

    @Test
    void resumesDeletingItsShardsWhenRecordingThePurgeFails() throws Exception {
        // a failed purge is tried again after ask-timeout
        stream = streamNamed("refused", TestConfigs.settings(TestConfigs.entityTests(
                "sluice.stream.delete-drain = 0s\nsluice.stream.update-delay = 0s\nsluice.ask-timeout = 1s")));
        create(1);
        catalogueAcknowledges();
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        PurgeCall refused = nextPurge();
        refused.result().completeExceptionally(new IllegalStateException("Cassandra unavailable"));
        PurgeCall retried = nextPurge();
        // the shards are gone, but the journal refuses to record it: the entity restarts and purges again
        stream.persistenceTestKit().failNextPersisted("Stream|refused");
        retried.result().complete(Done.getInstance());
        PurgeCall afterRestart = nextPurge();
        catalog.expectNoMessage(Duration.ofMillis(200));
        afterRestart.result().complete(Done.getInstance());
        catalogueAcknowledges();
        awaitGone();
    }

    @Test
    void aLateSettleDoesNotFinishADeletionBeforeTheShardsArePurged() throws Exception {
        stream = streamNamed("late", SETTINGS);
        create(1);
        // the stream is deleted while the catalogue has not yet answered its registration
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        catalogueAcknowledges();
        PurgeCall purge = nextPurge();
        catalog.expectNoMessage(Duration.ofMillis(300));
        assertEquals("DELETING", describe().status());
        purge.result().complete(Done.getInstance());
        catalogueAcknowledges();
        awaitGone();
    }

    @Test
    void keepsEverythingAcrossARestart() {
        create(4);
        stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.AddTags(Map.of("k", "v"), replyTo));
        stream.restart();
        StreamEntity.StreamInfo info = describe();
        assertEquals(4, info.shards().size());
        assertEquals("v", info.tags().get("k"));
    }

    // ---- resharding

    private CloseCall nextClose() throws InterruptedException {
        CloseCall call = closes.poll(5, TimeUnit.SECONDS);
        assertNotNull(call, "no shard was closed");
        return call;
    }

    private StatusReply<StreamEntity.ReshardAccepted> reshard(StreamEntity.ReshardRequest request) {
        return stream.<StatusReply<StreamEntity.ReshardAccepted>>runCommand(
                replyTo -> new StreamEntity.Reshard(request, 0, replyTo)).reply();
    }

    private static io.sluice.node.shard.ShardEntity.Closed closedAt(long endEventSeqNr) {
        return new io.sluice.node.shard.ShardEntity.Closed(endEventSeqNr, System.currentTimeMillis());
    }

    private StreamEntity.StreamInfo activeStream(String name, int shards) {
        stream = streamNamed(name, SETTINGS);
        create(shards);
        catalogueAcknowledges();
        awaitStatus("ACTIVE");
        return describe();
    }

    @Test
    void aSplitListsItsChildrenOnlyOnceTheParentIsClosed() throws Exception {
        long createdAt = activeStream("split", 2).createdAtMillis();
        String middle = new java.math.BigInteger(describe().shards().get(0).endingHashKey()).shiftRight(1).toString();
        var accepted = reshard(new StreamEntity.SplitRequest("shardId-000000000000", middle));
        assertTrue(accepted.isSuccess(), accepted::toString);
        assertEquals(new StreamEntity.ReshardAccepted(2, 3), accepted.getValue());
        CloseCall close = nextClose();
        assertEquals("split~" + createdAt + "~0", close.shardEntityId());
        StreamEntity.StreamInfo during = describe();
        assertEquals("UPDATING", during.status());
        assertEquals(2, during.shards().size(), "children listed before their parent closed");
        close.result().complete(closedAt(7));
        awaitStatus("ACTIVE");
        StreamEntity.StreamInfo after = describe();
        assertEquals(4, after.shards().size());
        StreamEntity.ShardRange parent = after.shards().get(0);
        assertFalse(parent.open());
        assertEquals(7L, parent.endEventSeqNr());
        StreamEntity.ShardRange lower = after.shards().get(2);
        StreamEntity.ShardRange upper = after.shards().get(3);
        assertEquals(List.of(2, 3), List.of(lower.index(), upper.index()));
        assertEquals(0, lower.parentIndex());
        assertEquals(0, upper.parentIndex());
        assertEquals(parent.startingHashKey(), lower.startingHashKey());
        assertEquals(middle, upper.startingHashKey());
        assertEquals(new java.math.BigInteger(middle).subtract(java.math.BigInteger.ONE).toString(), lower.endingHashKey());
        assertEquals(parent.endingHashKey(), upper.endingHashKey());
        assertEquals(3, after.openShardCount());
        assertNull(closes.poll(200, TimeUnit.MILLISECONDS), "a finished reshard closed another shard");
    }

    @Test
    void aReshardInterruptedByARestartClosesItsParentsAgainAndFinishes() throws Exception {
        long createdAt = activeStream("interrupted", 2).createdAtMillis();
        assertTrue(reshard(new StreamEntity.ScaleRequest(4)).isSuccess());
        CloseCall lost1 = nextClose();
        CloseCall lost2 = nextClose();
        // the node goes down while the closes run: their outcomes never arrive
        stream.restart();
        assertEquals("UPDATING", describe().status());
        CloseCall again1 = nextClose();
        CloseCall again2 = nextClose();
        assertEquals(java.util.Set.of(lost1.shardEntityId(), lost2.shardEntityId()),
                java.util.Set.of(again1.shardEntityId(), again2.shardEntityId()));
        assertEquals(java.util.Set.of("interrupted~" + createdAt + "~0", "interrupted~" + createdAt + "~1"),
                java.util.Set.of(again1.shardEntityId(), again2.shardEntityId()));
        again1.result().complete(closedAt(3));
        again2.result().complete(closedAt(4));
        awaitStatus("ACTIVE");
        StreamEntity.StreamInfo after = describe();
        assertEquals(6, after.shards().size());
        assertEquals(4, after.openShardCount());
        // the answers of the lost closes, arriving late, change nothing
        lost1.result().complete(closedAt(99));
        lost2.result().complete(closedAt(99));
        assertEquals(after, describe());
    }

    @Test
    void aFailedCloseIsTriedAgainAndAMergeFollowsTheSplits() throws Exception {
        activeStream("merge", 4);
        assertTrue(reshard(new StreamEntity.ScaleRequest(2)).isSuccess());
        List<CloseCall> first = List.of(nextClose(), nextClose(), nextClose(), nextClose());
        first.get(0).result().completeExceptionally(new IllegalStateException("shard's node unreachable"));
        for (int i = 1; i < 4; i++) first.get(i).result().complete(closedAt(10 + i));
        // the whole wave is closed again (closing a closed shard answers its end again)
        for (int i = 0; i < 4; i++) nextClose().result().complete(closedAt(10 + i));
        awaitStatus("ACTIVE");
        StreamEntity.StreamInfo after = describe();
        assertEquals(6, after.shards().size());
        StreamEntity.ShardRange low = after.shards().get(4);
        StreamEntity.ShardRange high = after.shards().get(5);
        assertEquals(List.of(0, 1), java.util.Arrays.asList(low.parentIndex(), low.adjacentParentIndex()));
        assertEquals(List.of(2, 3), java.util.Arrays.asList(high.parentIndex(), high.adjacentParentIndex()));
        assertEquals("0", low.startingHashKey());
        assertEquals(after.shards().get(3).endingHashKey(), high.endingHashKey());
    }

    @Test
    void refusesReshardsAsAwsDoesAndChangesNothing() throws Exception {
        StreamEntity.StreamInfo before = activeStream("refusals", 2);
        String end0 = before.shards().get(0).endingHashKey();
        String start0 = before.shards().get(0).startingHashKey();
        List<Object[]> cases = List.of(
                new Object[] {new StreamEntity.SplitRequest("shardId-000000000009", "5"), AwsError.ResourceNotFoundException, "Could not find shard shardId-000000000009"},
                new Object[] {new StreamEntity.SplitRequest("shardId-000000000000", end0), AwsError.InvalidArgumentException, "is not both greater than one plus"},
                new Object[] {new StreamEntity.SplitRequest("shardId-000000000000", new java.math.BigInteger(start0).add(java.math.BigInteger.ONE).toString()), AwsError.InvalidArgumentException, "is not both greater than one plus"},
                new Object[] {new StreamEntity.MergeRequest("shardId-000000000001", "shardId-000000000000"), AwsError.InvalidArgumentException, "are not an adjacent pair of shards eligible for merging"},
                new Object[] {new StreamEntity.ScaleRequest(5), AwsError.LimitExceededException, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2 Target shard count: 5"},
                new Object[] {new StreamEntity.ScaleRequest(0), AwsError.LimitExceededException, "UpdateShardCount cannot scale down below half"});
        for (Object[] c : cases) {
            StatusReply<StreamEntity.ReshardAccepted> reply = reshard((StreamEntity.ReshardRequest) c[0]);
            assertTrue(reply.isError(), () -> c[0] + " was accepted");
            ApiException refused = (ApiException) reply.getError();
            assertEquals(c[1], refused.error(), refused::getMessage);
            assertTrue(refused.getMessage().contains((String) c[2]), refused::getMessage);
            assertEquals(before, describe(), c[0] + " changed the stream");
        }
        // while one reshard runs, the stream is UPDATING and takes no other
        String middle = new java.math.BigInteger(end0).shiftRight(1).toString();
        assertTrue(reshard(new StreamEntity.SplitRequest("shardId-000000000000", middle)).isSuccess());
        StatusReply<StreamEntity.ReshardAccepted> busy = reshard(new StreamEntity.ScaleRequest(3));
        assertEquals(AwsError.ResourceInUseException, ((ApiException) busy.getError()).error());
        assertEquals("Stream refusals under account 000000000000 not ACTIVE, instead in state UPDATING", busy.getError().getMessage());
        nextClose().result().complete(closedAt(2));
        awaitStatus("ACTIVE");
        StatusReply<StreamEntity.ReshardAccepted> again = reshard(new StreamEntity.SplitRequest("shardId-000000000000", middle));
        assertEquals(AwsError.InvalidArgumentException, ((ApiException) again.getError()).error());
        assertTrue(again.getError().getMessage().endsWith("has already been merged or split, and thus is not eligible for merging or splitting."));
    }

    private void active(int shards) {
        create(shards);
        catalogueAcknowledges();
        awaitStatus("ACTIVE");
    }

    private static void assertRefused(AwsError error, String message, StatusReply<?> reply) {
        assertTrue(reply.isError(), () -> "taken: " + reply);
        assertEquals(error, ((ApiException) reply.getError()).error());
        assertEquals(message, reply.getError().getMessage());
    }

    @Test
    void refusesAReshardOrAModeChangeWhileAReshardIsUnderWay() throws Exception {
        active(2);
        var split = stream.<StatusReply<StreamEntity.ReshardAccepted>>runCommand(replyTo -> new StreamEntity.Reshard(
                new StreamEntity.SplitRequest("shardId-000000000000", "1000"), 0, replyTo));
        assertEquals(new StreamEntity.ReshardAccepted(2, 3), split.reply().getValue());
        assertEquals("UPDATING", split.state() instanceof StreamEntity.Present p ? p.info().status() : null);
        CloseCall close = closes.poll(3, TimeUnit.SECONDS); // the parent's close, held until the test says
        assertNotNull(close, "the reshard closes its parent");

        String notActive = "Stream foo under account 000000000000 not ACTIVE, instead in state UPDATING";
        var merge = stream.<StatusReply<StreamEntity.ReshardAccepted>>runCommand(replyTo -> new StreamEntity.Reshard(
                new StreamEntity.MergeRequest("shardId-000000000000", "shardId-000000000001"), 0, replyTo));
        assertRefused(AwsError.ResourceInUseException, notActive, merge.reply());
        assertTrue(merge.hasNoEvents());
        var scale = stream.<StatusReply<StreamEntity.ReshardAccepted>>runCommand(replyTo -> new StreamEntity.Reshard(
                new StreamEntity.ScaleRequest(4), 0, replyTo));
        assertRefused(AwsError.ResourceInUseException, notActive, scale.reply());
        var mode = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.ChangeMode("ON_DEMAND", replyTo));
        assertRefused(AwsError.ResourceInUseException, notActive, mode.reply());
        assertTrue(mode.hasNoEvents());

        close.result().complete(new io.sluice.node.shard.ShardEntity.Closed(7, System.currentTimeMillis()));
        awaitStatus("ACTIVE");
        assertEquals(3, describe().openShardCount());
        // the refused UpdateShardCount did not count toward the day's limit
        assertTrue(((StreamEntity.Present) stream.getState()).scalings().isEmpty());
    }

    @Test
    void aModeChangeIsAnUpdateAndTheSameModeChangesNothing() {
        active(2);
        var same = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.ChangeMode("PROVISIONED", replyTo));
        assertTrue(same.reply().isSuccess());
        assertTrue(same.hasNoEvents(), "nothing to change");
        assertEquals("ACTIVE", describe().status());

        var change = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.ChangeMode("ON_DEMAND", replyTo));
        assertTrue(change.reply().isSuccess());
        assertEquals(new StreamEntity.ModeChanged("ON_DEMAND"), change.event());
        awaitStatus("ACTIVE");
        assertEquals("ON_DEMAND", describe().streamMode());
        // UPDATING, then ACTIVE: the update ends at once (nobody else need agree), too soon to be seen
        List<Object> events = stream.persistenceTestKit().persistedInStorage("Stream|foo");
        assertEquals(List.of(new StreamEntity.ModeChanged("ON_DEMAND"), new StreamEntity.UpdateFinished()),
                events.subList(events.size() - 2, events.size()));

        var split = stream.<StatusReply<StreamEntity.ReshardAccepted>>runCommand(replyTo -> new StreamEntity.Reshard(
                new StreamEntity.SplitRequest("shardId-000000000000", "1000"), 0, replyTo));
        assertRefused(AwsError.ValidationException,
                "Request is invalid. Stream foo under account 000000000000 is in On-Demand mode.", split.reply());
        assertTrue(split.hasNoEvents());
        assertTrue(closes.isEmpty());
    }
}
