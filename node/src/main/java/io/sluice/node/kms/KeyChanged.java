package io.sluice.node.kms;

import io.sluice.node.runtime.CborSerializable;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Notice, to every node of the cluster, that a KMS key may have changed (disabled, rotated,
 * scheduled for deletion, destroyed, or gone missing). {@link KeyRing} publishes it after such a
 * command; whatever a node holds derived from the key (key views, unwrapped material, data keys)
 * is dropped on receipt, so a change is in force everywhere at once rather than after the data
 * path's one-second view cache runs out.
 */
public record KeyChanged(String keyId) implements CborSerializable {
    private static final String TOPIC_NAME = "sluice-key-changes";

    /** The topic actor; one per node, and the instances of all nodes find each other. */
    public static Behavior<Topic.Command<KeyChanged>> topic() {
        return Topic.create(KeyChanged.class, TOPIC_NAME);
    }
}
