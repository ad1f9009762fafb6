package io.sluice.node.runtime;

import io.sluice.node.TestConfigs;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** An entity's rejection reaches the node that asked as the same typed error, with the node's real serialization config. */
class RejectionSerializerTest {
    private static final ActorTestKit testKit = ActorTestKit.create(TestConfigs.entityTests(""));

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @SuppressWarnings("unchecked")
    private static StatusReply<Object> roundTrip(StatusReply<Object> reply) {
        Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
        byte[] bytes = serialization.serialize(reply).get();
        var serializer = serialization.findSerializerFor(reply);
        String manifest = Serializers.manifestFor(serializer, reply);
        return (StatusReply<Object>) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    }

    @Test
    void everyCatalogueErrorCrossesNodesTypedWithItsMessage() {
        for (AwsError error : AwsError.values()) {
            String message = "Stream s-" + error.ordinal() + " under account 123456789012 not found: ünïcode, colons: too";
            StatusReply<Object> back = roundTrip(StatusReply.error(error.exception(message)));
            assertTrue(back.isError());
            ApiException e = assertInstanceOf(ApiException.class, back.getError());
            assertEquals(error, e.error());
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    void keepsANullMessageApartFromAnEmptyOne() {
        ApiException none = (ApiException) roundTrip(StatusReply.error(AwsError.InvalidCiphertextException.exception(null))).getError();
        assertEquals(AwsError.InvalidCiphertextException, none.error());
        assertNull(none.getMessage());
        ApiException empty = (ApiException) roundTrip(StatusReply.error(AwsError.NotFoundException.exception(""))).getError();
        assertEquals("", empty.getMessage());
    }

    @Test
    void looksErrorsUpByWireName() {
        assertEquals(AwsError.KMSAccessDeniedException, AwsError.forName("KMSAccessDeniedException").orElseThrow());
        assertTrue(AwsError.forName("NoSuchError").isEmpty());
        assertEquals(AwsError.Fault.SERVER, AwsError.ServiceUnavailable.fault());
        assertEquals(AwsError.Fault.CLIENT, AwsError.ResourceNotFoundException.fault());
    }
}
