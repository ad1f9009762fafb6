package io.sluice.node.traffic;

import io.sluice.node.runtime.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * A node's {@link TrafficCounters} as the cluster sees them: one actor per node, registered with the
 * receptionist under {@link #KEY}, so that whichever node serves {@code GET /admin/traffic} asks
 * every node for its counts of the stream and sums them. It also sweeps its counters once a minute
 * (idle shards and streams go) and forgets a deleted stream's on request.
 */
public final class NodeTraffic {
    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "sluice-traffic");

    public sealed interface Command extends CborSerializable {}

    /**
     * The stream's counts in the {@link TrafficCounters#MINUTES} minutes ending with {@code lastMinute} (epoch
     * minutes of the asking node's clock), for the stream of that name created at {@code createdAtMillis}.
     */
    public record Read(String streamName, long createdAtMillis, long lastMinute, ActorRef<Counts> replyTo) implements Command {}

    /** The stream was deleted: its counters go. */
    public record Forget(String streamName) implements Command {}

    /** The time to drop idle counters. */
    record Sweep() implements Command {}

    /** One node's counts of one stream, the shards with traffic in the window. */
    public record Counts(List<TrafficCounters.ShardSeries> shards) implements CborSerializable {}

    private NodeTraffic() {}

    public static Behavior<Command> create(TrafficCounters counters, Clock clock, Duration sweepInterval) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return Behaviors.withTimers(timers -> {
                timers.startTimerWithFixedDelay(new Sweep(), sweepInterval);
                return Behaviors.receive(Command.class)
                        .onMessage(Read.class, r -> {
                            r.replyTo().tell(new Counts(counters.series(r.streamName(), r.createdAtMillis(), r.lastMinute())));
                            return Behaviors.same();
                        })
                        .onMessage(Forget.class, f -> {
                            counters.forget(f.streamName());
                            return Behaviors.same();
                        })
                        .onMessage(Sweep.class, s -> {
                            counters.sweep(clock.millis());
                            return Behaviors.same();
                        })
                        .build();
            });
        });
    }
}
