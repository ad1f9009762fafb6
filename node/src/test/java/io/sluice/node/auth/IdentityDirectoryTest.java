package io.sluice.node.auth;

import com.typesafe.config.Config;
import io.sluice.node.TestConfigs;
import io.sluice.node.crypto.RootKey;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A node's directory against reads that answer late: the states come from a real
 * {@link IdentityEntity}, the reads are futures the test completes in the order it chooses.
 */
class IdentityDirectoryTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final RootKey ROOT = RootKey.fromBase64(Base64.getEncoder().encodeToString(new byte[RootKey.KEY_BYTES]));
    private static final String ARN = "arn:aws:iam::000000000000:user/alice";

    private EventSourcedBehaviorTestKit<IdentityEntity.Command, IdentityEntity.Event, IdentityEntity.State> entity;
    private final Deque<CompletableFuture<IdentityEntity.State>> reads = new ArrayDeque<>();
    private IdentityDirectory directory;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        entity = EventSourcedBehaviorTestKit.create(testKit.system(), IdentityEntity.create("000000000000"));
        entity.clear();
        reads.clear();
        directory = new IdentityDirectory(ROOT, () -> {
            CompletableFuture<IdentityEntity.State> read = new CompletableFuture<>();
            reads.add(read);
            return read;
        });
    }

    /** A change made through this node: the entity's answer goes straight into the directory, as IamService does. */
    private IdentityEntity.State change(Function<org.apache.pekko.actor.typed.ActorRef<StatusReply<IdentityEntity.State>>,
            IdentityEntity.Command> command) {
        StatusReply<IdentityEntity.State> reply = entity.<StatusReply<IdentityEntity.State>>runCommand(command::apply).reply();
        assertTrue(reply.isSuccess(), reply::toString);
        directory.update(reply.getValue());
        return reply.getValue();
    }

    private IdentityEntity.State createAlice() {
        return change(r -> new IdentityEntity.CreateUser("alice", "AIDAALICE", ARN, 1L, r));
    }

    private IdentityEntity.State addKey(String id) {
        byte[] wrapped = ROOT.wrap("secret".getBytes(StandardCharsets.UTF_8), IdentityDirectory.secretContext(id));
        return change(r -> new IdentityEntity.AddAccessKey("alice",
                new IdentityEntity.AccessKey(id, wrapped, "Active", 2L), r));
    }

    @Test
    void aReadAskedBeforeAKeyWasCreatedDoesNotHideTheKey() {
        IdentityEntity.State before = createAlice();
        CompletionStage<IdentityEntity.State> slow = directory.refresh(); // asked now, answered late
        IdentityEntity.State after = addKey("AKIAALICE1");
        assertTrue(directory.activeKey("AKIAALICE1").isPresent());

        reads.pop().complete(before);

        assertTrue(directory.activeKey("AKIAALICE1").isPresent(), "the new key disappeared");
        assertEquals(after, directory.current());
        assertEquals(after, slow.toCompletableFuture().join(), "refresh answers with the state in force");
    }

    @Test
    void aReadAskedBeforeAPolicyWasDeletedDoesNotBringItBack() {
        createAlice();
        IdentityEntity.State withPolicy = change(r -> new IdentityEntity.PutPolicy("alice", "all",
                "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}", r));
        Caller alice = new Caller("AKIAALICE1", ARN, "alice", false);
        assertEquals(1, directory.policies(alice).size());
        directory.refresh();
        change(r -> new IdentityEntity.DeletePolicy("alice", "all", r));

        reads.pop().complete(withPolicy);

        assertEquals(0, directory.policies(alice).size(), "the deleted policy came back");
    }

    @Test
    void takesANewerStateFromARead() {
        IdentityEntity.State mine = createAlice();
        directory.refresh();
        // a change made through another node: this node learns of it only by reading
        StatusReply<IdentityEntity.State> elsewhere = entity.<StatusReply<IdentityEntity.State>>runCommand(r ->
                new IdentityEntity.AddAccessKey("alice", new IdentityEntity.AccessKey("AKIAALICE2",
                        ROOT.wrap(new byte[]{1}, IdentityDirectory.secretContext("AKIAALICE2")), "Active", 3L), r)).reply();
        assertEquals(mine, directory.current());

        reads.pop().complete(elsewhere.getValue());

        assertTrue(directory.activeKey("AKIAALICE2").isPresent());
    }

    @Test
    void slowReadsAnsweringInAnyOrderLeaveTheNewestState() {
        createAlice();
        IdentityEntity.State one = addKey("AKIAALICE1");
        directory.refresh();
        IdentityEntity.State two = change(r -> new IdentityEntity.SetAccessKeyStatus("alice", "AKIAALICE1", "Inactive", r));
        directory.refresh();
        CompletableFuture<IdentityEntity.State> askedFirst = reads.pop();
        CompletableFuture<IdentityEntity.State> askedSecond = reads.pop();

        askedSecond.complete(two);
        askedFirst.complete(one); // the read asked first answers last, with what it saw

        assertEquals(two, directory.current());
        assertTrue(directory.activeKey("AKIAALICE1").isEmpty(), "the deactivated key is active again");
    }
}
