package io.sluice.node.kms;

import com.typesafe.config.Config;
import io.sluice.node.TestConfigs;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The node's data-key cache on its own: reuse bounded by age and uses, principals kept apart, the
 * ways a key change evicts, the sweep that zeroes what expired, and the size bound. Time is a
 * counter the tests move; wrapping is a stand-in that keeps every array the cache holds, so a test
 * can see the cache's own plaintext being overwritten.
 */
class DataKeyCacheTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final Duration MAX_AGE = Duration.ofMinutes(5);
    private static final Map<String, String> STREAM_A = Map.of("aws:kinesis:arn", "arn:aws:kinesis:us-east-1:000000000000:stream/a");
    private static final Map<String, String> STREAM_B = Map.of("aws:kinesis:arn", "arn:aws:kinesis:us-east-1:000000000000:stream/b");
    private static final String ALICE = "arn:aws:iam::000000000000:user/alice";
    private static final String BOB = "arn:aws:iam::000000000000:user/bob";

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    /**
     * Wraps a data key into a blob that carries it in the clear (enough to check what a consumer
     * gets back), and keeps the very arrays it is handed or hands out: those the cache holds.
     */
    private static final class KeptWrapping implements DataKeyCache.Wrapping {
        final List<byte[]> generated = Collections.synchronizedList(new ArrayList<>());
        final List<byte[]> unwrapped = Collections.synchronizedList(new ArrayList<>());
        volatile boolean refuseOpen;

        @Override
        public byte[] seal(KeyEntity.KeyView key, byte[] plaintext, Map<String, String> context) {
            generated.add(plaintext);
            return (key.keyId() + "~" + key.currentVersion() + "~" + Base64.getEncoder().encodeToString(plaintext))
                    .getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] open(KeyEntity.KeyView key, byte[] blob, Map<String, String> context) {
            if (refuseOpen) throw new IllegalStateException("not a blob of this key");
            String[] parts = new String(blob, StandardCharsets.UTF_8).split("~");
            byte[] plaintext = Base64.getDecoder().decode(parts[2]);
            unwrapped.add(plaintext);
            return plaintext;
        }
    }

    /** One cache under test, with its own topic, clock and wrapping. */
    private static final class Fixture {
        final AtomicLong nanos = new AtomicLong(1_000_000_000L);
        final KeptWrapping wrapping = new KeptWrapping();
        final ActorRef<Topic.Command<KeyChanged>> topic =
                testKit.spawn(Topic.create(KeyChanged.class, "key-changes-" + UUID.randomUUID()));
        final ActorRef<DataKeyCache.Command> cache;

        Fixture(long maxRecords, int maxEntries, Duration sweepInterval) {
            cache = testKit.spawn(DataKeyCache.create(new DataKeyCache.Limits(MAX_AGE, maxRecords, maxEntries, sweepInterval),
                    wrapping, topic, nanos::get));
        }

        Fixture() {
            this(10, 1000, Duration.ofHours(1));
        }

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }

        DataKeyCache.DataKey producerKey(KeyEntity.KeyView key, Map<String, String> context, String principal, int records) {
            return producerReply(key, context, principal, records).getValue();
        }

        StatusReply<DataKeyCache.DataKey> producerReply(KeyEntity.KeyView key, Map<String, String> context, String principal,
                                                        int records) {
            TestProbe<StatusReply<DataKeyCache.DataKey>> probe = testKit.createTestProbe();
            cache.tell(new DataKeyCache.ProducerKey(key, context, principal, records, probe.ref()));
            return probe.receiveMessage();
        }

        StatusReply<DataKeyCache.Unwrapped> consumerReply(KeyEntity.KeyView key, byte[] blob, String principal) {
            TestProbe<StatusReply<DataKeyCache.Unwrapped>> probe = testKit.createTestProbe();
            cache.tell(new DataKeyCache.ConsumerKeys(List.of(new DataKeyCache.Wrapped(key, blob)), STREAM_A, principal, probe.ref()));
            return probe.receiveMessage();
        }

        DataKeyCache.Unwrapped consumerKey(KeyEntity.KeyView key, byte[] blob, String principal) {
            return consumerReply(key, blob, principal).getValue();
        }

        int entries() {
            TestProbe<Integer> probe = testKit.createTestProbe();
            cache.tell(new DataKeyCache.CountEntries(probe.ref()));
            return probe.receiveMessage();
        }

        void awaitEntries(int expected) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int seen;
            while ((seen = entries()) != expected) {
                assertTrue(System.nanoTime() < deadline, "the cache still holds " + seen + " entries, expected " + expected);
                sleep(20);
            }
        }

        /** Publishes once the topic has found itself and the cache subscribed (before that a publish is dropped). */
        void publish(KeyChanged change) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (true) {
                TestProbe<Topic.TopicStats> probe = testKit.createTestProbe();
                topic.tell(Topic.getTopicStats(probe.ref()));
                Topic.TopicStats stats = probe.receiveMessage();
                if (stats.localSubscriberCount() >= 1 && stats.topicInstanceCount() >= 1) break;
                assertTrue(System.nanoTime() < deadline, "the cache never subscribed to the topic");
                sleep(20);
            }
            topic.tell(Topic.publish(change));
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static KeyEntity.KeyView key(String keyId, String state, int version) {
        return new KeyEntity.KeyView(keyId, "arn:aws:kms:us-east-1:000000000000:key/" + keyId, "d", 0, "CUSTOMER", state,
                0, 0, false, 365, 0, List.of(), version + 1);
    }

    private static KeyEntity.KeyView enabled(String keyId) {
        return key(keyId, "Enabled", 0);
    }

    private static boolean zeroed(byte[] array) {
        for (byte b : array) if (b != 0) return false;
        return true;
    }

    @Test
    void reusesADataKeyWithinItsAgeAndUsesAndNeverBeyondEither() {
        Fixture f = new Fixture();
        KeyEntity.KeyView k = enabled("k1");

        DataKeyCache.DataKey first = f.producerKey(k, STREAM_A, ALICE, 4);
        assertTrue(first.generated());
        assertEquals(32, first.plaintext().length);
        DataKeyCache.DataKey second = f.producerKey(k, STREAM_A, ALICE, 6);
        assertFalse(second.generated(), "10 of 10 uses: still the same key");
        assertArrayEquals(first.blob(), second.blob());
        assertArrayEquals(first.plaintext(), second.plaintext());

        DataKeyCache.DataKey third = f.producerKey(k, STREAM_A, ALICE, 1);
        assertTrue(third.generated(), "an 11th use needs a new key");
        assertFalse(Arrays.equals(first.blob(), third.blob()));
        assertTrue(zeroed(f.wrapping.generated.get(0)), "the used-up key's plaintext is overwritten");

        f.advance(MAX_AGE.minusNanos(1));
        assertFalse(f.producerKey(k, STREAM_A, ALICE, 1).generated(), "within its age the key is reused");
        f.advance(Duration.ofNanos(1));
        DataKeyCache.DataKey aged = f.producerKey(k, STREAM_A, ALICE, 1);
        assertTrue(aged.generated(), "at its age the key is replaced");
        assertFalse(Arrays.equals(third.blob(), aged.blob()));

        assertTrue(f.producerKey(k, STREAM_A, ALICE, 11).generated(), "a request larger than the limit gets a key of its own");
        assertTrue(f.producerKey(k, STREAM_A, ALICE, 1).generated(), "which nothing reuses");
    }

    @Test
    void twoCallersNeverShareAProducerOrConsumerKey() {
        Fixture f = new Fixture();
        KeyEntity.KeyView k = enabled("k1");
        DataKeyCache.DataKey alice = f.producerKey(k, STREAM_A, ALICE, 1);
        DataKeyCache.DataKey bob = f.producerKey(k, STREAM_A, BOB, 1);
        assertTrue(bob.generated());
        assertFalse(Arrays.equals(alice.blob(), bob.blob()));
        assertFalse(Arrays.equals(alice.plaintext(), bob.plaintext()));
        assertTrue(f.producerKey(k, STREAM_B, ALICE, 1).generated(), "another stream, another key");
        assertFalse(f.producerKey(k, STREAM_A, ALICE, 1).generated());
        assertFalse(f.producerKey(k, STREAM_A, BOB, 1).generated());

        DataKeyCache.Unwrapped aliceReads = f.consumerKey(k, alice.blob(), ALICE);
        assertEquals(1, aliceReads.unwrapped());
        assertArrayEquals(alice.plaintext(), aliceReads.plaintexts().get(0));
        assertEquals(0, f.consumerKey(k, alice.blob(), ALICE).unwrapped(), "alice's unwrapped key is cached for alice");
        DataKeyCache.Unwrapped bobReads = f.consumerKey(k, alice.blob(), BOB);
        assertEquals(1, bobReads.unwrapped(), "bob never gets the key alice unwrapped");
        assertEquals(2, f.wrapping.unwrapped.size());
        assertNotSame(f.wrapping.unwrapped.get(0), f.wrapping.unwrapped.get(1));
    }

    @Test
    void repliesCarryCopiesNeverTheCachedArray() {
        Fixture f = new Fixture();
        KeyEntity.KeyView k = enabled("k1");
        DataKeyCache.DataKey dk = f.producerKey(k, STREAM_A, ALICE, 1);
        assertNotSame(f.wrapping.generated.get(0), dk.plaintext());
        Arrays.fill(dk.plaintext(), (byte) 0);
        assertFalse(zeroed(f.producerKey(k, STREAM_A, ALICE, 1).plaintext()), "what an asker does to its copy stays there");
        DataKeyCache.Unwrapped read = f.consumerKey(k, dk.blob(), ALICE);
        assertNotSame(f.wrapping.unwrapped.get(0), read.plaintexts().get(0));
    }

    @Test
    void aKeyChangedOnTheTopicEvictsEveryEntryOfThatKey() {
        Fixture f = new Fixture();
        KeyEntity.KeyView k1 = enabled("k1");
        KeyEntity.KeyView k2 = enabled("k2");
        DataKeyCache.DataKey produced = f.producerKey(k1, STREAM_A, ALICE, 1);
        byte[] expected = produced.plaintext().clone();
        f.consumerKey(k1, produced.blob(), BOB);
        f.producerKey(k2, STREAM_A, ALICE, 1);
        assertEquals(3, f.entries());

        f.publish(new KeyChanged("k1"));
        f.awaitEntries(1);
        assertTrue(zeroed(f.wrapping.generated.get(0)));
        assertTrue(zeroed(f.wrapping.unwrapped.get(0)));
        assertFalse(zeroed(f.wrapping.generated.get(1)), "another key's entries stay");
        assertArrayEquals(expected, produced.plaintext(), "a copy already handed out stays intact");
        assertTrue(f.producerKey(k1, STREAM_A, ALICE, 1).generated());
        assertEquals(1, f.consumerKey(k1, produced.blob(), BOB).unwrapped());
        assertFalse(f.producerKey(k2, STREAM_A, ALICE, 1).generated());
    }

    @Test
    void aDisabledOrPendingDeletionViewEvictsTheKeyAndIsRefused() {
        Fixture f = new Fixture();
        DataKeyCache.DataKey produced = f.producerKey(enabled("k1"), STREAM_A, ALICE, 1);
        f.consumerKey(enabled("k1"), produced.blob(), ALICE);
        assertEquals(2, f.entries());

        StatusReply<DataKeyCache.DataKey> refused = f.producerReply(key("k1", "Disabled", 0), STREAM_A, ALICE, 1);
        assertTrue(refused.isError());
        assertEquals(0, f.entries());
        assertTrue(zeroed(f.wrapping.generated.get(0)));
        assertTrue(zeroed(f.wrapping.unwrapped.get(0)));
        assertTrue(f.consumerReply(key("k1", "PendingDeletion", 0), produced.blob(), ALICE).isError());

        // the data path tells the cache of a view it refused itself, without asking for a key
        assertTrue(f.producerKey(enabled("k1"), STREAM_A, ALICE, 1).generated());
        f.cache.tell(new DataKeyCache.KeySeen(key("k1", "PendingDeletion", 0)));
        assertEquals(0, f.entries());
    }

    @Test
    void aRotatedViewEvictsTheKeysEntriesAndAStaleViewIsServedButNotCached() {
        Fixture f = new Fixture();
        DataKeyCache.DataKey v0 = f.producerKey(key("k1", "Enabled", 0), STREAM_A, ALICE, 1);
        f.consumerKey(key("k1", "Enabled", 0), v0.blob(), ALICE);
        f.producerKey(key("k1", "Enabled", 0), STREAM_A, BOB, 1);
        assertEquals(3, f.entries());

        DataKeyCache.DataKey v1 = f.producerKey(key("k1", "Enabled", 1), STREAM_A, ALICE, 1);
        assertTrue(v1.generated());
        assertEquals(1, f.entries(), "the rotation took every entry of the key made under version 0");
        assertTrue(zeroed(f.wrapping.generated.get(0)));
        assertTrue(zeroed(f.wrapping.generated.get(1)));
        assertTrue(zeroed(f.wrapping.unwrapped.get(0)));

        // a request that fetched its view before the rotation still gets a key, one nobody keeps
        assertTrue(f.producerKey(key("k1", "Enabled", 0), STREAM_A, ALICE, 1).generated());
        assertTrue(f.producerKey(key("k1", "Enabled", 0), STREAM_A, ALICE, 1).generated());
        assertEquals(1, f.entries());
        assertFalse(f.producerKey(key("k1", "Enabled", 1), STREAM_A, ALICE, 1).generated());
    }

    @Test
    void expiredEntriesAreSweptByTheTimerAndZeroedWhileCopiesStayIntact() {
        Fixture f = new Fixture(10, 1000, Duration.ofMillis(20));
        KeyEntity.KeyView k = enabled("k1");
        DataKeyCache.DataKey produced = f.producerKey(k, STREAM_A, ALICE, 1);
        DataKeyCache.Unwrapped read = f.consumerKey(k, produced.blob(), BOB);
        byte[] producedCopy = produced.plaintext().clone();
        byte[] readCopy = read.plaintexts().get(0).clone();

        f.advance(MAX_AGE.minusSeconds(1));
        sleep(200);
        assertEquals(2, f.entries(), "nothing is swept before its age");

        f.advance(Duration.ofSeconds(1));
        f.awaitEntries(0);
        assertTrue(zeroed(f.wrapping.generated.get(0)), "the swept producer key is overwritten");
        assertTrue(zeroed(f.wrapping.unwrapped.get(0)), "the swept consumer key is overwritten");
        assertArrayEquals(producedCopy, produced.plaintext());
        assertArrayEquals(readCopy, read.plaintexts().get(0));
        assertFalse(zeroed(produced.plaintext()));
    }

    @Test
    void theCacheNeverHoldsMoreEntriesThanItsBound() {
        Fixture f = new Fixture(10, 3, Duration.ofHours(1));
        KeyEntity.KeyView k = enabled("k1");
        for (int i = 0; i < 5; i++) {
            f.producerKey(k, STREAM_A, "caller-" + i, 1);
            assertTrue(f.entries() <= 3);
        }
        assertEquals(3, f.entries());
        assertTrue(zeroed(f.wrapping.generated.get(0)), "the eldest went first");
        assertTrue(zeroed(f.wrapping.generated.get(1)));
        for (int i = 2; i < 5; i++) {
            assertFalse(f.producerKey(k, STREAM_A, "caller-" + i, 1).generated(), "the newest stay");
        }
        assertTrue(f.producerKey(k, STREAM_A, "caller-0", 1).generated());
        assertEquals(3, f.entries());
    }

    @Test
    void aBlobThatDoesNotOpenFailsTheReadAndIsNotCached() {
        Fixture f = new Fixture();
        KeyEntity.KeyView k = enabled("k1");
        byte[] blob = f.producerKey(k, STREAM_A, ALICE, 1).blob();
        f.wrapping.refuseOpen = true;
        assertTrue(f.consumerReply(k, blob, ALICE).isError());
        assertEquals(1, f.entries());
    }

    @Test
    void keyChangedCrossesNodesAsCbor() {
        testKit.serializationTestKit().verifySerialization(new KeyChanged("0b7d1a52-1111-4222-8333-944455556666"), true);
    }

    @Test
    void dataKeysNeverPrintTheirPlaintext() {
        byte[] plaintext = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        String one = new DataKeyCache.DataKey(plaintext, new byte[] {1}, true).toString();
        String many = new DataKeyCache.Unwrapped(List.of(plaintext), 1).toString();
        for (String printed : List.of(one, many)) {
            assertFalse(printed.contains(Base64.getEncoder().encodeToString(plaintext)), printed);
            assertFalse(printed.contains(java.util.HexFormat.of().formatHex(plaintext)), printed);
        }
        assertTrue(one.contains("plaintext=<redacted>") && one.contains("generated=true"), one);
        assertTrue(many.contains("plaintexts=<redacted>") && many.contains("unwrapped=1"), many);
    }
}
