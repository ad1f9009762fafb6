package io.sluice.node.stream;

import com.typesafe.config.Config;
import io.sluice.node.MutableClock;
import io.sluice.node.TestConfigs;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/** The enhanced fan-out consumers a StreamEntity holds: their lifecycle, limits, ARNs and recovery. */
class StreamEntityConsumersTest {
    private static final Config CONFIG = TestConfigs.entityTests("""
            sluice.stream.delete-drain = 0s
            sluice.stream.update-delay = 0s
            sluice.ask-timeout = 300ms
            sluice.stream.consumers { max-per-stream = 3, max-creating = 2, activation-delay = 100ms, deletion-delay = 100ms }
            """);
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final String ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/";

    private TestProbe<StreamCatalog.Command> catalog;
    private EventSourcedBehaviorTestKit<StreamEntity.Command, StreamEntity.Event, StreamEntity.State> stream;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        catalog = testKit.createTestProbe();
    }

    /** A stream of its own per test (entities of earlier tests live on in the same journal), ACTIVE. */
    private void activeStream(String name, Config config, Clock clock) {
        stream = EventSourcedBehaviorTestKit.create(testKit.system(), StreamEntity.create(name, TestConfigs.settings(config),
                StreamEntity.CatalogueRetry.from(config), StreamEntity.ReshardLimits.from(config), Consumers.Limits.from(config),
                clock, catalog.ref(), shardEntityId -> CompletableFuture.completedFuture(Done.getInstance()),
                shardEntityId -> new CompletableFuture<>()));
        stream.clear();
        stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(
                replyTo -> new StreamEntity.Create(1, "PROVISIONED", Map.of(), 0, replyTo));
        catalogueAcknowledges();
        awaitStatus("ACTIVE");
    }

    private void activeStream(String name) {
        activeStream(name, CONFIG, new MutableClock());
    }

    private void catalogueAcknowledges() {
        StreamCatalog.Command msg = catalog.receiveMessage();
        if (msg instanceof StreamCatalog.Register r) r.replyTo().tell(StatusReply.ack());
        else if (msg instanceof StreamCatalog.Unregister u) u.replyTo().tell(StatusReply.ack());
        else fail("unexpected " + msg);
    }

    private StreamEntity.StreamInfo describe() {
        return stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(StreamEntity.Describe::new).reply().getValue();
    }

    private void awaitStatus(String status) {
        catalog.awaitAssert(Duration.ofSeconds(3), () -> {
            assertEquals(status, describe().status());
            return null;
        });
    }

    private EventSourcedBehaviorTestKit.CommandResultWithReply<StreamEntity.Command, StreamEntity.Event, StreamEntity.State,
            StatusReply<Consumers.Consumer>> register(String name) {
        return stream.runCommand(replyTo -> new StreamEntity.RegisterConsumer(name, Map.of("team", "a"), replyTo));
    }

    private Consumers.Consumer registered(String name) {
        var r = register(name);
        assertTrue(r.reply().isSuccess(), () -> r.reply().toString());
        return r.reply().getValue();
    }

    private StatusReply<Done> deregister(String name, String arn) {
        return stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.DeregisterConsumer(name, arn, replyTo)).reply();
    }

    private Consumers.Consumer consumer(String name) {
        return describe().consumers().byName(name);
    }

    private void awaitConsumer(String name, String status) {
        catalog.awaitAssert(Duration.ofSeconds(5), () -> {
            Consumers.Consumer c = consumer(name);
            assertEquals(status, c == null ? null : c.status());
            return null;
        });
    }

    private static void assertRefused(StatusReply<?> reply, AwsError error, String message) {
        assertTrue(reply.isError(), () -> "accepted: " + reply);
        ApiException e = (ApiException) reply.getError();
        assertEquals(error, e.error());
        assertEquals(message, e.getMessage());
    }

    @Test
    void aRegisteredConsumerIsCreatingThenActiveWithAnArnDatedInSeconds() {
        activeStream("reg");
        var r = register("app");
        Consumers.Consumer c = r.reply().getValue();
        assertEquals("CREATING", c.status());
        assertEquals(ARN + "reg/consumer/app:" + c.createdAtMillis() / 1000, c.arn());
        assertEquals(Map.of("team", "a"), c.tags());
        assertInstanceOf(StreamEntity.ConsumerRegistered.class, r.event());
        awaitConsumer("app", "ACTIVE");
        assertEquals(c.arn(), describe().consumerByArn(c.arn()).arn());
        assertEquals(c.createdAtMillis(), consumer("app").createdAtMillis());
    }

    @Test
    void aSecondConsumerOfTheSameNameIsRefusedAndNothingChanges() {
        activeStream("dup");
        registered("app");
        var again = register("app");
        assertRefused(again.reply(), AwsError.ResourceInUseException,
                "Consumer app under stream dup and account 000000000000 already exists.");
        assertTrue(again.hasNoEvents());
        assertEquals(1, describe().consumers().size());
    }

    @Test
    void registrationsBeyondTheStreamsLimitsAreRefused() {
        // consumers that stay CREATING and DELETING for the whole test: the counts do not depend on timing
        activeStream("limits", TestConfigs.entityTests("""
                sluice.stream.delete-drain = 0s
                sluice.stream.update-delay = 0s
                sluice.stream.consumers { max-per-stream = 3, max-creating = 2, activation-delay = 1h, deletion-delay = 1h }
                """), new MutableClock());
        Consumers.Consumer a = registered("a");
        registered("b");
        var third = register("c");
        assertRefused(third.reply(), AwsError.LimitExceededException, "Stream limits under account 000000000000 already has"
                + " 2 consumers in CREATING status. Only 2 consumers can be created at the same time.");
        assertTrue(third.hasNoEvents());
        // a DELETING consumer is no longer CREATING, but still counts against the stream's limit
        assertTrue(deregister("a", a.arn()).isSuccess());
        registered("c");
        var fourth = register("d");
        assertRefused(fourth.reply(), AwsError.LimitExceededException,
                "Stream limits under account 000000000000 already has 3 registered consumers. Limit: 3.");
        assertTrue(fourth.hasNoEvents());
        assertEquals(3, describe().consumers().size());
    }

    @Test
    void aStreamStillCreatingTakesNoConsumer() {
        stream = EventSourcedBehaviorTestKit.create(testKit.system(), StreamEntity.create("young", TestConfigs.settings(CONFIG),
                StreamEntity.CatalogueRetry.from(CONFIG), StreamEntity.ReshardLimits.from(CONFIG), Consumers.Limits.from(CONFIG),
                new MutableClock(), catalog.ref(), id -> CompletableFuture.completedFuture(Done.getInstance()),
                id -> new CompletableFuture<>()));
        stream.clear();
        stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(
                replyTo -> new StreamEntity.Create(1, "PROVISIONED", Map.of(), 0, replyTo));
        var r = register("app");
        assertRefused(r.reply(), AwsError.ResourceInUseException,
                "Stream young under account 000000000000 not ACTIVE, instead in state CREATING");
        assertTrue(r.hasNoEvents());
    }

    @Test
    void aDeregisteredConsumerIsDeletingThenGoneAndItsArnMatchesNothing() {
        activeStream("dereg");
        Consumers.Consumer c = registered("app");
        awaitConsumer("app", "ACTIVE");
        var deregistered = stream.<StatusReply<Done>>runCommand(
                replyTo -> new StreamEntity.DeregisterConsumer("app", c.arn(), replyTo));
        assertTrue(deregistered.reply().isSuccess());
        assertInstanceOf(StreamEntity.ConsumerDeregistering.class, deregistered.event());
        assertEquals("DELETING", ((StreamEntity.Present) deregistered.state()).info().consumers().byName("app").status());
        // asked again while it goes: nothing more to do
        var again = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.DeregisterConsumer("app", null, replyTo));
        assertTrue(again.reply().isSuccess());
        assertTrue(again.hasNoEvents());
        catalog.awaitAssert(Duration.ofSeconds(5), () -> {
            assertNull(consumer("app"));
            return null;
        });
        assertNull(describe().consumerByArn(c.arn()));
        assertRefused(deregister("app", null), AwsError.ResourceNotFoundException,
                "Consumer app under stream dereg and account 000000000000 not found.");
    }

    @Test
    void aConsumerIsDeregisteredByItsExactArnOnly() {
        activeStream("exact");
        Consumers.Consumer c = registered("app");
        String older = ARN + "exact/consumer/app:" + (c.createdAtMillis() / 1000 - 60);
        var r = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.DeregisterConsumer("app", older, replyTo));
        assertRefused(r.reply(), AwsError.ResourceNotFoundException, "Consumer app with creation timestamp "
                + (c.createdAtMillis() / 1000 - 60) + " under stream exact and account 000000000000 not found.");
        assertTrue(r.hasNoEvents());
        assertNotEquals("DELETING", consumer("app").status());
    }

    @Test
    void aNameRegisteredAgainWithinTheSameSecondGetsTheNextSecondAndANewArn() {
        // a clock that stands still: every registration happens in the same second
        Clock still = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_250L), ZoneOffset.UTC);
        activeStream("again", CONFIG, still);
        Consumers.Consumer first = registered("app");
        assertEquals(ARN + "again/consumer/app:1700000000", first.arn());
        assertTrue(deregister("app", first.arn()).isSuccess());
        catalog.awaitAssert(Duration.ofSeconds(5), () -> {
            assertNull(consumer("app"));
            return null;
        });
        Consumers.Consumer second = registered("app");
        assertEquals(1_700_000_001_000L, second.createdAtMillis());
        assertEquals(ARN + "again/consumer/app:1700000001", second.arn());
        assertNull(describe().consumerByArn(first.arn()));
        // another name is dated as registered
        assertEquals(1_700_000_000_250L, registered("other").createdAtMillis());
    }

    @Test
    void aStreamWithConsumersIsDeletedOnlyWhenConsumerDeletionIsEnforced() {
        activeStream("withconsumers");
        Consumers.Consumer c = registered("app");
        var refused = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.Delete(false, replyTo));
        assertRefused(refused.reply(), AwsError.ResourceInUseException, "DeleteStream can't delete " + ARN + "withconsumers"
                + " because there are consumers associated with this data stream. To delete withconsumers anyway, set the"
                + " EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are"
                + " associated with it.");
        assertTrue(refused.hasNoEvents());
        assertEquals("ACTIVE", describe().status());

        var forced = stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.Delete(true, replyTo));
        assertTrue(forced.reply().isSuccess());
        assertEquals("DELETING", ((StreamEntity.Present) forced.state()).info().consumers().byName("app").status());
        catalogueAcknowledges();
        catalog.awaitAssert(Duration.ofSeconds(3), () -> {
            assertInstanceOf(StreamEntity.Absent.class, stream.getState());
            return null;
        });
        // created again under the name: none of the old consumers, nor their ARNs
        stream.<StatusReply<StreamEntity.StreamInfo>>runCommand(
                replyTo -> new StreamEntity.Create(1, "PROVISIONED", Map.of(), 0, replyTo));
        assertEquals(0, describe().consumers().size());
        assertNull(describe().consumerByArn(c.arn()));
    }

    @Test
    void aStreamWhoseConsumersAreAllLeavingMayBeDeleted() {
        activeStream("leaving");
        Consumers.Consumer c = registered("app");
        assertTrue(deregister("app", c.arn()).isSuccess());
        assertTrue(stream.<StatusReply<Done>>runCommand(replyTo -> new StreamEntity.Delete(false, replyTo)).reply().isSuccess());
    }

    @Test
    void anActivationTheJournalRefusedIsResumedAfterTheRestart() {
        activeStream("resumed");
        registered("app");
        // the activation's event is refused: the entity restarts, and its recovery waits for the activation again
        stream.persistenceTestKit().failNextPersisted("Stream|resumed");
        awaitConsumer("app", "ACTIVE");
        stream.restart();
        assertEquals("ACTIVE", consumer("app").status());
        assertEquals(Map.of("team", "a"), consumer("app").tags());
    }

    @Test
    void aConsumerLeftDeletingByARestartIsRemovedAfterIt() {
        activeStream("removed");
        Consumers.Consumer c = registered("app");
        awaitConsumer("app", "ACTIVE");
        assertTrue(deregister("app", c.arn()).isSuccess());
        stream.persistenceTestKit().failNextPersisted("Stream|removed");
        catalog.awaitAssert(Duration.ofSeconds(5), () -> {
            assertNull(consumer("app"));
            return null;
        });
    }
}
