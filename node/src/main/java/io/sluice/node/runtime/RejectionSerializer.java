package io.sluice.node.runtime;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;

/**
 * Carries an entity's typed rejection ({@code StatusReply.error(ApiException)}) to the node that
 * asked: the manifest is the error's wire name, the bytes its message. Pekko serializes the error
 * of a {@code StatusReply} with the serializer bound to the exception's class, so the asking node
 * gets the same {@link AwsError} back, looked up by name, and nothing is parsed out of text.
 */
public final class RejectionSerializer extends SerializerWithStringManifest {
    private static final String NO_MESSAGE = "-";

    public RejectionSerializer(ExtendedActorSystem system) {
    }

    @Override
    public int identifier() {
        return 733_101;
    }

    @Override
    public String manifest(Object o) {
        ApiException e = (ApiException) o;
        // a null message (InvalidCiphertextException has none) is told apart from an empty one
        return e.getMessage() == null ? e.error().wireName() + NO_MESSAGE : e.error().wireName();
    }

    @Override
    public byte[] toBinary(Object o) {
        String message = ((ApiException) o).getMessage();
        return message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        boolean noMessage = manifest.endsWith(NO_MESSAGE);
        String name = noMessage ? manifest.substring(0, manifest.length() - NO_MESSAGE.length()) : manifest;
        AwsError error = AwsError.forName(name).orElseThrow(() -> new NotSerializableException("unknown AWS error " + name));
        return error.exception(noMessage ? null : new String(bytes, StandardCharsets.UTF_8));
    }
}
