package io.sluice.node.kms;

import io.sluice.protocol.AwsError;
import io.sluice.protocol.ApiException;
import com.typesafe.config.Config;
import io.sluice.node.MutableClock;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.TestConfigs;
import io.sluice.node.crypto.RootKey;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.*;

class KeyEntityTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final NodeSettings SETTINGS = TestConfigs.settings(CONFIG);
    private static final RootKey ROOT = RootKey.fromBase64(Base64.getEncoder().encodeToString(new byte[32]));
    private static final String ID = "0b7d1a52-1111-4222-8333-944455556666";

    private final MutableClock clock = new MutableClock();
    private EventSourcedBehaviorTestKit<KeyEntity.Command, KeyEntity.Event, KeyEntity.State> key;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        key = EventSourcedBehaviorTestKit.create(testKit.system(), KeyEntity.create(ID, SETTINGS, ROOT, clock));
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

    @Test
    void createsAnEnabledKeyWhoseMaterialIsWrappedByTheRootKey() {
        var result = key.<StatusReply<KeyEntity.KeyView>>runCommand(r -> new KeyEntity.Create("d", "CUSTOMER", false, r));
        KeyEntity.KeyView view = result.reply().getValue();
        assertEquals("Enabled", view.keyState());
        assertEquals("arn:aws:kms:us-east-1:000000000000:key/" + ID, view.arn());
        assertEquals(1, view.wrappedVersions().size());
        byte[] material = ROOT.unwrap(view.wrappedVersions().get(0), KeyEntity.wrapContext(view.arn(), 0));
        assertEquals(32, material.length);
        var event = (KeyEntity.Created) result.event();
        assertFalse(java.util.Arrays.equals(material, event.wrappedMaterial()), "material must not be stored in the clear");
    }

    @Test
    void refusesASecondCreateUnlessIfAbsent() {
        created();
        assertEquals(AwsError.AlreadyExistsException, rejection(run(r -> new KeyEntity.Create("d", "CUSTOMER", false, r))));
        assertTrue(run(r -> new KeyEntity.Create("d", "CUSTOMER", true, r)).isSuccess());
    }

    @Test
    void rotationAddsVersionsAndKeepsOldOnes() {
        created();
        KeyEntity.KeyView rotated = run(KeyEntity.RotateNow::new).getValue();
        assertEquals(2, rotated.wrappedVersions().size());
        assertEquals(1, rotated.currentVersion());
        key.restart();
        assertEquals(2, run(KeyEntity.Get::new).getValue().wrappedVersions().size());
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
    void materialIsDestroyedOnceTheDeletionDateHasPassed() {
        created();
        KeyEntity.KeyView pending = run(r -> new KeyEntity.ScheduleDeletion(7, r)).getValue();
        assertEquals("PendingDeletion", pending.keyState());
        clock.advance(Duration.ofDays(7).plusMinutes(1));
        var result = key.<StatusReply<KeyEntity.KeyView>>runCommand(KeyEntity.Get::new);
        assertEquals(AwsError.NotFoundException, rejection(result.reply()));
        assertInstanceOf(KeyEntity.MaterialDestroyed.class, result.event());
        assertInstanceOf(KeyEntity.Destroyed.class, result.state());
        key.restart();
        assertTrue(run(KeyEntity.Get::new).isError());
    }

    @Test
    void awsManagedKeysCannotBeDeletedOrRotatedByHand() {
        run(r -> new KeyEntity.Create("managed", "AWS", true, r));
        assertEquals(AwsError.UnsupportedOperationException, rejection(run(r -> new KeyEntity.ScheduleDeletion(7, r))));
        assertTrue(run(KeyEntity.RotateNow::new).isError());
    }
}
