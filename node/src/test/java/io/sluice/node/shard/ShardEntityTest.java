package io.sluice.node.shard;

import com.typesafe.config.Config;
import io.sluice.node.MutableClock;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.TestConfigs;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

class ShardEntityTest {
    // a tiny tail, so that reads of older events must go to the journal
    private static final Config CONFIG = TestConfigs.entityTests("sluice.shard.tail-bytes = 1000");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final NodeSettings SETTINGS = TestConfigs.settings(CONFIG);

    private final MutableClock clock = new MutableClock();
    private final List<Long> deletedUpTo = new ArrayList<>();
    private EventSourcedBehaviorTestKit<ShardEntity.Command, ShardEntity.Event, ShardEntity.State> shard;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        shard = EventSourcedBehaviorTestKit.create(testKit.system(), ShardEntity.create("s~1~0", SETTINGS, clock,
                (pid, to) -> {
                    deletedUpTo.add(to);
                    return CompletableFuture.completedFuture(Done.getInstance());
                }));
        shard.clear();
    }

    private static ShardEntity.StoredRecord record(String text) {
        return ShardEntity.StoredRecord.plain("pk", text.getBytes(StandardCharsets.UTF_8));
    }

    private ShardEntity.AppendAck append(String... texts) {
        List<ShardEntity.StoredRecord> records = new ArrayList<>();
        for (String t : texts) records.add(record(t));
        var result = shard.<StatusReply<ShardEntity.AppendAck>>runCommand(
                replyTo -> new ShardEntity.Append(records, List.of(), replyTo));
        assertTrue(result.reply().isSuccess());
        return result.reply().getValue();
    }

    private ShardEntity.ReadResult read(long event, int index, long minArrival) {
        return shard.<ShardEntity.ReadResult>runCommand(
                replyTo -> new ShardEntity.Read(event, index, 10_000, 10 << 20, minArrival, replyTo)).reply();
    }

    private static List<String> texts(List<ShardReads.ReadRecord> records) {
        return records.stream().map(r -> new String(r.data(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void eachAppendIsOneEventNumberedByTheJournal() {
        assertEquals(1, append("a", "b").eventSeqNr());
        var second = shard.<StatusReply<ShardEntity.AppendAck>>runCommand(
                replyTo -> new ShardEntity.Append(List.of(record("c")), List.of(), replyTo));
        assertEquals(2, second.reply().getValue().eventSeqNr());
        assertInstanceOf(ShardEntity.RecordsAppended.class, second.event());
        assertEquals(2, ((ShardEntity.RecordsAppended) second.event()).eventSeqNr());
        assertEquals(2, second.state().lastEventSeqNr());
    }

    @Test
    void readsAtTheTipComeFromTheTailInOrder() {
        append("a", "b");
        append("c");
        ShardEntity.ReadResult r = read(1, 1, 0);
        assertFalse(r.needsJournal());
        assertEquals(List.of("b", "c"), texts(r.records()));
        assertEquals(3, r.nextEventSeqNr());
        assertEquals(0, r.nextIndex());
        assertEquals(2, r.tipEventSeqNr());
        assertTrue(read(3, 0, 0).records().isEmpty());
    }

    @Test
    void readsOlderThanTheTailAreSentToTheJournal() {
        for (int i = 0; i < 10; i++) append("record-" + i);
        ShardEntity.ReadResult r = read(1, 0, 0);
        assertTrue(r.needsJournal());
        assertTrue(r.records().isEmpty());
        assertEquals(1, r.nextEventSeqNr());
        assertTrue(r.journalToEventSeqNr() >= 1 && r.journalToEventSeqNr() < 10);
        ShardEntity.ReadResult tip = read(r.journalToEventSeqNr() + 1, 0, 0);
        assertFalse(tip.needsJournal());
        assertEquals("record-9", texts(tip.records()).get(tip.records().size() - 1));
    }

    @Test
    void trimDeletesWholeExpiredMinutesAndReadsSkipExpiredRecords() {
        append("old");
        clock.advance(Duration.ofHours(25));
        append("new");
        long cutoff = clock.millis() - Duration.ofHours(24).toMillis();
        assertEquals(List.of("new"), texts(read(1, 0, cutoff).records()));
        var trimmed = shard.<StatusReply<Done>>runCommand(replyTo -> new ShardEntity.Trim(cutoff, replyTo));
        assertTrue(trimmed.reply().isSuccess());
        assertEquals(new ShardEntity.RecordsTrimmed(3, 1), trimmed.event());
        assertEquals(List.of(1L), deletedUpTo);
        assertEquals(1, trimmed.state().trimmedToEventSeqNr());
        // a second sweep finds nothing new to delete
        var again = shard.<StatusReply<Done>>runCommand(replyTo -> new ShardEntity.Trim(cutoff, replyTo));
        assertTrue(again.hasNoEvents());
        assertEquals(List.of("new"), texts(read(1, 0, 0).records()));
    }

    @Test
    void recoversSequenceNumbersAndTailAfterRestart() {
        append("a");
        append("b");
        shard.restart();
        assertEquals(3, append("c").eventSeqNr());
        assertEquals(List.of("c"), texts(read(3, 0, 0).records()));
    }

    @Test
    void purgeAnswersOnceTheAppendsBeforeItAreWrittenAndStops() {
        TestProbe<Object> replies = testKit.createTestProbe();
        ActorRef<ShardEntity.Command> live = testKit.spawn(ShardEntity.create("purged~1~0", SETTINGS, clock,
                (pid, to) -> CompletableFuture.completedFuture(Done.getInstance())));
        live.tell(new ShardEntity.Append(List.of(record("last")), List.of(), replies.ref().narrow()));
        live.tell(new ShardEntity.Purge(replies.ref().narrow()));
        Object appended = replies.receiveMessage();
        assertTrue(appended instanceof StatusReply<?> r && r.getValue() instanceof ShardEntity.AppendAck, appended::toString);
        assertEquals(StatusReply.ack(), replies.receiveMessage());
        replies.expectTerminated(live);
    }

    @Test
    void aClosedShardTakesNoRecordsKeepsItsEndAndReportsItToReaders() {
        append("a", "b");
        append("c");
        var close = shard.<StatusReply<ShardEntity.Closed>>runCommand(ShardEntity.Close::new);
        ShardEntity.Closed end = close.reply().getValue();
        assertEquals(3, end.endEventSeqNr(), "the close is the event after the last append");
        assertInstanceOf(ShardEntity.ShardClosed.class, close.event());
        // closing again answers the same end and stores nothing
        var again = shard.<StatusReply<ShardEntity.Closed>>runCommand(ShardEntity.Close::new);
        assertEquals(end, again.reply().getValue());
        assertTrue(again.hasNoEvents());
        // an append after the close stores nothing and says why
        var refused = shard.<StatusReply<ShardEntity.AppendAck>>runCommand(
                replyTo -> new ShardEntity.Append(List.of(record("late")), List.of(), replyTo));
        assertTrue(refused.reply().getValue().shardClosed());
        assertTrue(refused.hasNoEvents());
        // readers see every record, then the end
        ShardEntity.ReadResult all = read(1, 0, 0);
        assertEquals(List.of("a", "b", "c"), texts(all.records()));
        assertTrue(all.closed());
        // the end survives a restart
        shard.restart();
        assertEquals(end, shard.<StatusReply<ShardEntity.Closed>>runCommand(ShardEntity.Close::new).reply().getValue());
        assertTrue(shard.<ShardEntity.TipInfo>runCommand(ShardEntity.Tip::new).reply().closed());
        ShardEntity.ReadResult recovered = read(1, 0, 0);
        assertTrue(recovered.needsJournal() && recovered.closed(), recovered::toString);
        assertEquals(3, recovered.tipEventSeqNr());
    }

    // ---- fan-out: the shard tells waiting subscriptions, never waits on them

    private static final String CONSUMER = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/app:1";

    private ShardEntity.Subscribed subscribe(String subscription) {
        return shard.<ShardEntity.Subscribed>runCommand(
                replyTo -> new ShardEntity.Subscribe(CONSUMER, subscription, 5_000, replyTo)).reply();
    }

    @Test
    void aWatchIsAnsweredAtOnceWhenSomethingFollowsElseByTheNextAppendOrClose() {
        append("a");
        TestProbe<ShardEntity.WatchResult> probe = testKit.createTestProbe();
        assertTrue(subscribe("s1").accepted());
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, probe.ref()));
        ShardEntity.WatchResult first = probe.receiveMessage();
        assertEquals(1, first.lastEventSeqNr());
        assertFalse(first.closed() || first.superseded());
        // nothing after event 1 yet: the watch waits, and the next stored append answers it
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 1, probe.ref()));
        probe.expectNoMessage(Duration.ofMillis(100));
        append("b");
        assertEquals(2, probe.receiveMessage().lastEventSeqNr());
        // a closing shard answers too, saying it is closed
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 2, probe.ref()));
        probe.expectNoMessage(Duration.ofMillis(50));
        shard.<StatusReply<ShardEntity.Closed>>runCommand(ShardEntity.Close::new);
        assertTrue(probe.receiveMessage().closed());
    }

    @Test
    void aSubscriptionWaitsOnceAndAnEndedOneIsForgotten() {
        TestProbe<ShardEntity.WatchResult> older = testKit.createTestProbe();
        TestProbe<ShardEntity.WatchResult> newer = testKit.createTestProbe();
        TestProbe<ShardEntity.WatchResult> ended = testKit.createTestProbe();
        subscribe("s1");
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, older.ref()));
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, newer.ref())); // replaces the first
        String other = CONSUMER.replace("app", "other");
        shard.runCommand(new ShardEntity.Watch(other, "s2", 0, ended.ref()));
        shard.runCommand(new ShardEntity.Unwatch("s2"));
        append("a");
        assertEquals(1, newer.receiveMessage().lastEventSeqNr());
        older.expectNoMessage(Duration.ofMillis(100));
        ended.expectNoMessage(Duration.ofMillis(10));
    }

    @Test
    void aConsumerSubscribesExclusivelyForAWhileThenANewSubscriptionTakesOver() {
        TestProbe<ShardEntity.WatchResult> first = testKit.createTestProbe();
        assertTrue(subscribe("s1").accepted());
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, first.ref()));
        clock.advance(Duration.ofMillis(4_000)); // the clock also runs: keep well inside the window
        assertFalse(subscribe("s2").accepted(), "within 5 seconds of the last subscription");
        first.expectNoMessage(Duration.ofMillis(50));
        // another consumer is not affected
        assertTrue(shard.<ShardEntity.Subscribed>runCommand(replyTo -> new ShardEntity.Subscribe(
                CONSUMER.replace("app", "other"), "s9", 5_000, replyTo)).reply().accepted());
        clock.advance(Duration.ofMillis(1_001));
        assertTrue(subscribe("s2").accepted());
        assertTrue(first.receiveMessage().superseded(), "the waiting older subscription hears it at once");
        // and at every later watch
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, first.ref()));
        assertTrue(first.receiveMessage().superseded());
        TestProbe<ShardEntity.WatchResult> second = testKit.createTestProbe();
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s2", 0, second.ref()));
        append("a");
        assertFalse(second.receiveMessage().superseded());
    }

    @Test
    void afterARestartASubscriptionTheShardForgotIsAdopted() {
        subscribe("s1");
        shard.restart();
        TestProbe<ShardEntity.WatchResult> probe = testKit.createTestProbe();
        append("a");
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, probe.ref()));
        assertFalse(probe.receiveMessage().superseded());
    }

    @Test
    void aFailedWriteAnswersNoWatchAndTheNextStoredOneDoes() {
        subscribe("s1");
        TestProbe<ShardEntity.WatchResult> before = testKit.createTestProbe();
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, before.ref()));
        TestProbe<StatusReply<ShardEntity.AppendAck>> appender = testKit.createTestProbe();
        shard.persistenceTestKit().failNextPersisted();
        shard.runCommand(new ShardEntity.Append(List.of(record("lost")), List.of(), appender.ref()));
        // nothing was stored: no watcher hears of it (the restarted shard forgot its watches: they ask again)
        before.expectNoMessage(Duration.ofMillis(200));
        TestProbe<ShardEntity.WatchResult> again = testKit.createTestProbe();
        shard.runCommand(new ShardEntity.Watch(CONSUMER, "s1", 0, again.ref()));
        again.expectNoMessage(Duration.ofMillis(50));
        append("kept");
        assertEquals(1, again.receiveMessage().lastEventSeqNr(), "the stored append, numbered as the journal has it");
        assertEquals(List.of("kept"), texts(read(1, 0, 0).records()));
    }
}
