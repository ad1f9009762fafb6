package io.sluice.node.runtime;

import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;

import java.time.Duration;

/** What all event-sourced entities share: how they restart after a journal failure. */
public final class Entities {
    /** Back off from 200 ms up to 5 s, so a Cassandra hiccup is not answered with a retry storm. */
    public static final BackoffSupervisorStrategy RESTART =
            SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1);

    private Entities() {}
}
