package io.sluice.node.runtime;

import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.cleanup.Cleanup;
import scala.jdk.javaapi.FutureConverters;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Deletes from the Cassandra journal through the plugin's {@link Cleanup}, which is made on first
 * use: most nodes rarely delete, and tests on the in-memory journal never do.
 */
public final class JournalCleanup {
    private final ActorSystem<?> system;
    private final AtomicReference<Cleanup> cleanup = new AtomicReference<>();

    public JournalCleanup(ActorSystem<?> system) {
        this.system = system;
    }

    /** Every event, snapshot and the journal's metadata of an id that is never used again. */
    public CompletionStage<Done> deleteAll(String persistenceId) {
        return Futures.direct(FutureConverters.asJava(cleanup().deleteAll(persistenceId, true)));
    }

    /** Every event and snapshot of an id that will be used again (a DynamoDB table name): its sequence numbers go on. */
    public CompletionStage<Done> deleteAllReusable(String persistenceId) {
        return Futures.direct(FutureConverters.asJava(cleanup().deleteAll(persistenceId, false)));
    }

    /** The events up to a sequence number. */
    public CompletionStage<Done> deleteEventsTo(String persistenceId, long toSequenceNr) {
        return Futures.direct(FutureConverters.asJava(cleanup().deleteEventsTo(persistenceId, toSequenceNr)));
    }

    private Cleanup cleanup() {
        return cleanup.updateAndGet(c -> c != null ? c : new Cleanup(system));
    }
}
