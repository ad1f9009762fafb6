package io.sluice.node.kms;

import io.sluice.protocol.AwsError;
import io.sluice.protocol.ApiException;
import com.typesafe.config.Config;
import io.sluice.node.MutableClock;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.TestConfigs;
import io.sluice.node.crypto.RootKey;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.Done;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.*;

class KeyEntityTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final NodeSettings SETTINGS = TestConfigs.settings(CONFIG);
    private static final RootKey ROOT = RootKey.fromBase64(Base64.getEncoder().encodeToString(new byte[32]));
    private static final String ID = "0b7d1a52-1111-4222-8333-944455556666";

    private final MutableClock clock = new MutableClock();
    private final InMemoryKeyMaterialStore store = new InMemoryKeyMaterialStore();
    private final List<String> erased = new ArrayList<>();
    private EventSourcedBehaviorTestKit<KeyEntity.Command, KeyEntity.Event, KeyEntity.State> key;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        key = EventSourcedBehaviorTestKit.create(testKit.system(), KeyEntity.create(ID, SETTINGS, ROOT, clock, store, pid -> {
            synchronized (erased) {
                erased.add(pid);
            }
            return CompletableFuture.completedFuture(Done.getInstance());
        }));
        key.clear();
    }

    /** The error a rejected command replied with; typed, as it crosses nodes. */
    private static AwsError rejection(StatusReply<?> reply) {
        assertTrue(reply.isError(), () -> "expected a rejection, got " + reply);
        return ((ApiException) reply.getError()).error();
    }

    private StatusReply<KeyEntity.KeyView> run(java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<StatusReply<KeyEntity.KeyView>>, KeyEntity.Command> c) {
        return key.<StatusReply<KeyEntity.KeyView>>runCommand(c::apply).reply();
    }

    private KeyEntity.KeyView created() {
        return run(r -> new KeyEntity.Create("d", "CUSTOMER", false, r)).getValue();
    }

    private byte[] material(KeyEntity.KeyView view, int version) {
        return ROOT.unwrap(store.rowsOf(ID).get(version), KeyEntity.wrapContext(view.arn(), version));
    }

    @Test
    void createsAnEnabledKeyWhoseMaterialIsInTheStoreWrappedByTheRootKeyAndNeverInAnEvent() {
        var result = key.<StatusReply<KeyEntity.KeyView>>runCommand(r -> new KeyEntity.Create("d", "CUSTOMER", false, r));
        KeyEntity.KeyView view = result.reply().getValue();
        assertEquals("Enabled", view.keyState());
        assertEquals("arn:aws:kms:us-east-1:000000000000:key/" + ID, view.arn());
        assertEquals(1, view.versions());
        assertEquals(List.of(), view.wrappedVersions());
        assertEquals(32, material(view, 0).length);
        var event = (KeyEntity.Created) result.event();
        assertNull(event.wrappedMaterial(), "material must not be in the event log");
    }

    @Test
    void refusesASecondCreateUnlessIfAbsent() {
        created();
        assertEquals(AwsError.AlreadyExistsException, rejection(run(r -> new KeyEntity.Create("d", "CUSTOMER", false, r))));
        assertTrue(run(r -> new KeyEntity.Create("d", "CUSTOMER", true, r)).isSuccess());
    }

    @Test
    void rotationAddsVersionsAndKeepsOldOnes() {
        KeyEntity.KeyView first = created();
        byte[] v0 = material(first, 0);
        KeyEntity.KeyView rotated = run(KeyEntity.RotateNow::new).getValue();
        assertEquals(2, rotated.versions());
        assertEquals(1, rotated.currentVersion());
        assertArrayEquals(v0, material(rotated, 0));
        assertFalse(java.util.Arrays.equals(v0, material(rotated, 1)));
        key.restart();
        assertEquals(2, run(KeyEntity.Get::new).getValue().versions());
    }

    @Test
    void aCommandThatFindsARotationDueIsAppliedAfterTheRotationNotDropped() {
        created();
        run(r -> new KeyEntity.SetRotation(true, 90, r));
        clock.advance(Duration.ofDays(91));
        var result = key.<StatusReply<KeyEntity.KeyView>>runCommand(r -> new KeyEntity.SetEnabled(false, r));
        KeyEntity.KeyView view = result.reply().getValue();
        assertEquals("Disabled", view.keyState(), "DisableKey was acknowledged but not applied");
        assertEquals(2, view.versions(), "the due rotation did not happen");
        assertEquals(List.of(KeyEntity.Rotated.class, KeyEntity.EnabledChanged.class),
                result.events().stream().map(Object::getClass).toList());

        // the same for a deletion scheduled when a rotation is due
        run(r -> new KeyEntity.SetEnabled(true, r));
        clock.advance(Duration.ofDays(91));
        KeyEntity.KeyView pending = run(r -> new KeyEntity.ScheduleDeletion(7, r)).getValue();
        assertEquals("PendingDeletion", pending.keyState());
        assertEquals(3, pending.versions());
    }

    @Test
    void aRotationDueWhenRotatingOnDemandMakesTwoVersions() {
        created();
        run(r -> new KeyEntity.SetRotation(true, 90, r));
        clock.advance(Duration.ofDays(91));
        assertEquals(3, run(KeyEntity.RotateNow::new).getValue().versions());
        assertEquals(3, store.rowsOf(ID).size());
    }

    @Test
    void whenMaterialCannotBeStoredTheCommandIsRefusedRetryablyAndNothingIsPersisted() {
        store.failWrites.set(true);
        var result = key.<StatusReply<KeyEntity.KeyView>>runCommand(r -> new KeyEntity.Create("d", "CUSTOMER", false, r));
        assertEquals(AwsError.KMSInternalException, rejection(result.reply()));
        assertTrue(result.hasNoEvents());
        assertEquals(AwsError.Fault.SERVER, AwsError.KMSInternalException.fault());
        store.failWrites.set(false);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        StatusReply<KeyEntity.KeyView> reply;
        do {
            reply = run(r -> new KeyEntity.Create("d", "CUSTOMER", false, r));
        } while (reply.isError() && System.nanoTime() < deadline);
        assertTrue(reply.isSuccess(), "the key was not created once the store was back: " + reply);
    }

    @Test
    void disabledKeysCannotRotateAndPendingDeletionCannotBeEnabled() {
        created();
        run(r -> new KeyEntity.SetEnabled(false, r));
        assertEquals(AwsError.DisabledException, rejection(run(KeyEntity.RotateNow::new)));
        run(r -> new KeyEntity.ScheduleDeletion(7, r));
        assertEquals(AwsError.KMSInvalidStateException, rejection(run(r -> new KeyEntity.SetEnabled(true, r))));
        assertEquals("Disabled", run(KeyEntity.CancelDeletion::new).getValue().keyState());
    }

    @Test
    void destructionDeletesTheMaterialAndTheKeysEventsOnceTheDeletionDateHasPassed() throws Exception {
        created();
        run(KeyEntity.RotateNow::new);
        KeyEntity.KeyView pending = run(r -> new KeyEntity.ScheduleDeletion(7, r)).getValue();
        assertEquals("PendingDeletion", pending.keyState());
        assertEquals(2, store.rowsOf(ID).size());
        clock.advance(Duration.ofDays(7).plusMinutes(1));
        var result = key.<StatusReply<KeyEntity.KeyView>>runCommand(KeyEntity.Get::new);
        assertEquals(AwsError.NotFoundException, rejection(result.reply()));
        assertInstanceOf(KeyEntity.MaterialDestroyed.class, result.event());
        assertInstanceOf(KeyEntity.Destroyed.class, result.state());
        awaitErased(1);
        assertEquals(java.util.Map.of(), store.rowsOf(ID), "material left in the store");
        assertEquals(List.of("Key|" + ID), erasedSoFar());
        // a recovery in the destroyed state (a crash before the erasure finished) erases again
        key.restart();
        assertTrue(run(KeyEntity.Get::new).isError());
        awaitErased(2);
    }

    private List<String> erasedSoFar() {
        synchronized (erased) {
            return List.copyOf(erased);
        }
    }

    private void awaitErased(int times) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (erasedSoFar().size() < times && System.nanoTime() < deadline) Thread.sleep(20);
        assertEquals(times, erasedSoFar().size(), "the key's events were not erased");
    }

    @Test
    void keysMadeWithMaterialInTheirEventsStillOpenAndCountTheirVersions() {
        byte[] legacy = ROOT.wrap(new byte[32], KeyEntity.wrapContext(KeyEntity.arn(SETTINGS, ID), 0));
        var view = new KeyEntity.KeyView(ID, KeyEntity.arn(SETTINGS, ID), "", 0, "CUSTOMER", "Enabled", 0, 0, false, 365, 0,
                List.of(legacy), 0);
        assertEquals(1, view.versions());
        assertArrayEquals(legacy, view.loggedMaterial(0));
        assertNull(view.loggedMaterial(1));
    }

    @Test
    void awsManagedKeysCannotBeDeletedOrRotatedByHand() {
        run(r -> new KeyEntity.Create("managed", "AWS", true, r));
        assertEquals(AwsError.UnsupportedOperationException, rejection(run(r -> new KeyEntity.ScheduleDeletion(7, r))));
        assertTrue(run(KeyEntity.RotateNow::new).isError());
    }
}
