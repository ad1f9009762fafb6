package io.sluice.node.kms;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.MutableClock;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.crypto.RootKey;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Two nodes in one JVM (a Pekko cluster on the in-memory journal), each with its KeyRing and the
 * production wiring of the KeyChanged topic: a key command on one node empties the other node's
 * data keys and key view at once. The view cache is set to an hour, so nothing but the topic can
 * make the second node see the change within the test.
 */
class KeyChangesAcrossNodesTest {
    private static final RootKey ROOT = RootKey.fromBase64(Base64.getEncoder().encodeToString(new byte[32]));
    private static final MutableClock clock = new MutableClock();
    private static final InMemoryKeyMaterialStore STORE = new InMemoryKeyMaterialStore();
    private static Node a;
    private static Node b;

    private record Node(ActorTestKit kit, NodeSettings settings, ActorRef<Topic.Command<KeyChanged>> topic, KeyRing keyRing,
                        ActorRef<DataKeyCache.Command> dataKeys) {
        static Node start() {
            Config config = ConfigFactory.parseString("""
                    pekko.actor.provider = cluster
                    pekko.remote.artery.canonical.hostname = "127.0.0.1"
                    pekko.remote.artery.canonical.port = 0
                    pekko.cluster.seed-nodes = []
                    pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                    sluice.stream.metadata-cache-ttl = 1 hour
                    """)
                    .withFallback(EventSourcedBehaviorTestKit.config())
                    .withFallback(ConfigFactory.load())
                    .resolve();
            ActorTestKit kit = ActorTestKit.create("sluice", config);
            NodeSettings settings = NodeSettings.from(config);
            KeyEntity.init(kit.system(), settings, ROOT, clock, STORE);
            ActorRef<Topic.Command<KeyChanged>> topic = kit.spawn(KeyChanged.topic(), "key-changes");
            KeyRing keyRing = new KeyRing(kit.system(), settings, ROOT, STORE, topic);
            ActorRef<DataKeyCache.Command> dataKeys = kit.spawn(DataKeyCache.create(DataKeyCache.Limits.of(settings), keyRing, topic),
                    "data-keys");
            return new Node(kit, settings, topic, keyRing, dataKeys);
        }

        DataKeyCache.DataKey producerKey(KeyEntity.KeyView key) {
            return AskPattern.<DataKeyCache.Command, DataKeyCache.DataKey>askWithStatus(dataKeys,
                    r -> new DataKeyCache.ProducerKey(key, Map.of("aws:kinesis:arn", "s"), "caller", 1, r),
                    Duration.ofSeconds(5), kit.scheduler()).toCompletableFuture().join();
        }

        int dataKeyCount() {
            return AskPattern.<DataKeyCache.Command, Integer>ask(dataKeys, DataKeyCache.CountEntries::new,
                    Duration.ofSeconds(5), kit.scheduler()).toCompletableFuture().join();
        }

        Topic.TopicStats topicStats() {
            TestProbe<Topic.TopicStats> probe = kit.createTestProbe();
            topic.tell(Topic.getTopicStats(probe.ref()));
            return probe.receiveMessage();
        }
    }

    @BeforeAll
    static void start() {
        a = Node.start();
        b = Node.start();
        Cluster.get(a.kit().system()).manager().tell(Join.create(Cluster.get(a.kit().system()).selfMember().address()));
        Cluster.get(b.kit().system()).manager().tell(Join.create(Cluster.get(a.kit().system()).selfMember().address()));
        await("both nodes Up", () -> Cluster.get(b.kit().system()).selfMember().status() == MemberStatus.up()
                && Cluster.get(a.kit().system()).selfMember().status() == MemberStatus.up());
        // a publish reaches the topic instances its node knows of: wait until each knows both
        await("topic instances found", () -> a.topicStats().topicInstanceCount() == 2 && b.topicStats().topicInstanceCount() == 2);
    }

    @AfterAll
    static void stop() {
        if (b != null) b.kit().shutdownTestKit();
        if (a != null) a.kit().shutdownTestKit();
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " within 30 s");
            sleep(50);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static KeyEntity.KeyView create(Node node) {
        return node.keyRing().ask(UUID.randomUUID().toString(), r -> new KeyEntity.Create("d", "CUSTOMER", false, r))
                .toCompletableFuture().join();
    }

    @Test
    void disablingAKeyOnOneNodeEvictsItsDataKeysAndViewOnTheOther() {
        KeyEntity.KeyView key = create(a);
        KeyEntity.KeyView seenByB = b.keyRing().cachedView(key.keyId()).toCompletableFuture().join();
        assertEquals("Enabled", seenByB.keyState());
        assertTrue(b.producerKey(seenByB).generated());
        assertEquals(1, b.dataKeyCount());

        a.keyRing().ask(key.keyId(), r -> new KeyEntity.SetEnabled(false, r)).toCompletableFuture().join();

        await("node b's data keys of the key evicted", () -> b.dataKeyCount() == 0);
        await("node b's view of the key dropped", () ->
                b.keyRing().cachedView(key.keyId()).toCompletableFuture().join().keyState().equals("Disabled"));
    }

    @Test
    void onlyCommandsThatMayChangeAKeyAreAnnounced() {
        TestProbe<KeyChanged> heard = a.kit().createTestProbe();
        int subscribers = a.topicStats().localSubscriberCount();
        a.topic().tell(Topic.subscribe(heard.ref()));
        await("probe subscribed", () -> a.topicStats().localSubscriberCount() == subscribers + 1);

        KeyEntity.KeyView key = create(a);
        a.keyRing().view(key.keyId()).toCompletableFuture().join();
        heard.expectNoMessage(Duration.ofMillis(300));

        a.keyRing().ask(key.keyId(), r -> new KeyEntity.SetRotation(true, 90, r)).toCompletableFuture().join();
        assertEquals(new KeyChanged(key.keyId()), heard.receiveMessage());
        // the KeyChanged just heard also makes node a's KeyRing drop its view; let that happen before
        // the read below caches a fresh one
        sleep(300);
        a.keyRing().view(key.keyId()).toCompletableFuture().join();
        heard.expectNoMessage(Duration.ofMillis(300));

        // time alone rotates the key, on the next command that reaches it: here a read
        clock.advance(Duration.ofDays(91));
        try {
            assertEquals(1, a.keyRing().view(key.keyId()).toCompletableFuture().join().currentVersion());
            assertEquals(new KeyChanged(key.keyId()), heard.receiveMessage());
        } finally {
            clock.advance(Duration.ofDays(-91));
        }

        String missing = UUID.randomUUID().toString();
        assertThrows(Exception.class, () -> a.keyRing().view(missing).toCompletableFuture().join());
        assertEquals(new KeyChanged(missing), heard.receiveMessage());
        a.topic().tell(Topic.unsubscribe(heard.ref()));
    }
}
