package io.sluice.node.stream;

import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.stream.StreamCatalog;
import io.sluice.node.stream.StreamEntity;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.time.Clock;

/**
 * Every {@code sluice.retention.sweep-interval}, tells each shard of each stream to delete the
 * records its stream's retention period has expired. Runs as a cluster singleton.
 */
public final class RetentionSweeper {
    private RetentionSweeper() {}

    public sealed interface Command {}

    private enum Tick implements Command { INSTANCE }

    /** An answer that did not come: the next tick tries again. */
    private enum Missed implements Command { INSTANCE }

    private record Listed(StreamCatalog.Listing listing) implements Command {}

    private record Described(StreamEntity.StreamInfo info) implements Command {}

    public static Behavior<Command> create(NodeSettings settings, Clock clock) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.retentionSweepInterval());
            ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
            return Behaviors.<Command>receive((c, msg) -> {
                if (msg == Tick.INSTANCE) {
                    c.ask(StreamCatalog.Listing.class, StreamCatalog.ref(c.getSystem(), settings.accountId()),
                            settings.askTimeout(), StreamCatalog.ListAll::new,
                            (listing, failure) -> listing == null ? Missed.INSTANCE : new Listed(listing));
                } else if (msg instanceof Listed l) {
                    for (String name : l.listing().streams().keySet()) {
                        c.askWithStatus(StreamEntity.StreamInfo.class, sharding.entityRefFor(StreamEntity.ENTITY_KEY, name),
                                settings.askTimeout(), StreamEntity.Describe::new,
                                (info, failure) -> info == null ? Missed.INSTANCE : new Described(info));
                    }
                } else if (msg instanceof Described d && !d.info().status().equals("DELETING")) {
                    // a DELETING stream's shards are being purged as a whole; a Trim would only wake them
                    long cutoff = clock.millis() - d.info().retentionHours() * 3_600_000L;
                    for (StreamEntity.ShardRange shard : d.info().shards()) {
                        if (!shard.open() && shard.closedAtMillis() < cutoff - 3_600_000L) {
                            // closed before the retention period: trimmed to nothing by earlier sweeps
                            continue;
                        }
                        sharding.entityRefFor(ShardEntity.ENTITY_KEY,
                                        ShardEntity.entityId(d.info().name(), d.info().createdAtMillis(), shard.index()))
                                .tell(new ShardEntity.Trim(cutoff, c.getSystem().<StatusReply<Done>>ignoreRef()));
                    }
                }
                return Behaviors.same();
            });
        }));
    }
}
