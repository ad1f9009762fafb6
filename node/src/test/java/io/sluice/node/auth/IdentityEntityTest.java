package io.sluice.node.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.typesafe.config.Config;
import io.sluice.node.TestConfigs;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class IdentityEntityTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);

    private EventSourcedBehaviorTestKit<IdentityEntity.Command, IdentityEntity.Event, IdentityEntity.State> entity;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        entity = EventSourcedBehaviorTestKit.create(testKit.system(), IdentityEntity.create("000000000000"));
        entity.clear();
    }

    private StatusReply<IdentityEntity.State> createUser(String name) {
        return entity.<StatusReply<IdentityEntity.State>>runCommand(r ->
                new IdentityEntity.CreateUser(name, "AIDA" + name, "arn:aws:iam::000000000000:user/" + name, 1L, r)).reply();
    }

    @Test
    void eachEventRaisesTheRevisionAndARestartKeepsIt() {
        assertEquals(0, entity.getState().revision());
        assertEquals(1, createUser("alice").getValue().revision());
        assertEquals(2, createUser("bob").getValue().revision());
        var put = entity.<StatusReply<IdentityEntity.State>>runCommand(r -> new IdentityEntity.PutPolicy("bob", "p",
                "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}", r));
        assertEquals(3, put.reply().getValue().revision());
        var gone = entity.<StatusReply<IdentityEntity.State>>runCommand(r -> new IdentityEntity.DeleteUser("alice", r));
        assertEquals(4, gone.reply().getValue().revision());

        entity.restart();

        assertEquals(4, entity.getState().revision());
    }

    @Test
    void aRejectedCommandLeavesTheRevision() {
        createUser("alice");
        assertTrue(createUser("alice").isError());
        assertEquals(1, entity.getState().revision());
    }

    @Test
    void aSnapshotWrittenBeforeRevisionsReadsAsRevisionZero() throws Exception {
        Serialization serialization = SerializationExtension.get(testKit.system());
        IdentityEntity.State current = IdentityEntity.State.empty();
        var serializer = serialization.findSerializerFor(current);
        String manifest = Serializers.manifestFor(serializer, current);
        // the shape snapshots had before: the users and nothing else
        byte[] old = new ObjectMapper(new CBORFactory()).writeValueAsBytes(Map.of("users", Map.of()));

        Object read = serialization.deserialize(old, serializer.identifier(), manifest).get();

        assertEquals(IdentityEntity.State.empty(), read);
    }
}
