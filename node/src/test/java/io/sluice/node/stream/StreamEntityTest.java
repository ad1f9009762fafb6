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

import static org.junit.jupiter.api.Assertions.*;

class StreamEntityTest {
    // a short ask so a silent catalogue is noticed quickly, and a short pause before asking it again
    private static final Config CONFIG = TestConfigs.entityTests("""
            sluice.ask-timeout = 300ms
            sluice.stream.catalogue-retry { min-backoff = 50ms, max-backoff = 200ms }
            """);
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final NodeSettings SETTINGS = TestConfigs.settings(CONFIG);

    private TestProbe<StreamCatalog.Command> catalog;
    private EventSourcedBehaviorTestKit<StreamEntity.Command, StreamEntity.Event, StreamEntity.State> stream;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        catalog = testKit.createTestProbe();
        stream = EventSourcedBehaviorTestKit.create(testKit.system(),
                StreamEntity.create("foo", SETTINGS, StreamEntity.CatalogueRetry.from(CONFIG), new MutableClock(),
                        catalog.ref()));
        stream.clear();
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
    void keepsAStreamDeletingUntilTheCatalogueHasForgottenIt() {
        create(1);
        catalogueAcknowledges();
        awaitStatus("ACTIVE");
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
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
    void ignoresTheCataloguesAnswerToAnAskMadeBeforeTheStatusChanged() {
        create(1);
        StreamCatalog.Register register = catalog.expectMessageClass(StreamCatalog.Register.class);
        stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        StreamCatalog.Unregister unregister = catalog.expectMessageClass(StreamCatalog.Unregister.class);
        register.replyTo().tell(StatusReply.ack()); // agreed to CREATING, not to DELETING
        catalog.expectNoMessage(Duration.ofMillis(200));
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

    @Test
    void deleteGoesThroughDeletingAndFreesTheName() {
        create(1);
        catalogueAcknowledges();
        var deleted = stream.<StatusReply<Done>>runCommand(StreamEntity.Delete::new);
        assertTrue(deleted.reply().isSuccess());
        assertEquals("DELETING", ((StreamEntity.Present) deleted.state()).info().status());
        catalogueAcknowledges();
        catalog.awaitAssert(java.time.Duration.ofSeconds(3), () -> {
            assertTrue(stream.getState() instanceof StreamEntity.Absent);
            return null;
        });
        assertEquals("CREATING", create(2).status());
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
}
