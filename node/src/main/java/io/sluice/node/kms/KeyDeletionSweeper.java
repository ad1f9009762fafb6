package io.sluice.node.kms;

import io.sluice.node.runtime.Futures;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.time.Duration;

/**
 * Every {@code sluice.kms.deletion-sweep-interval}, looks at every key of the account, so that a key
 * whose scheduled deletion date has passed is destroyed even if nobody names it again (a key is
 * destroyed by the first command after its date). A key found gone is dropped from the catalogue,
 * with its aliases. Runs as a cluster singleton; looks go through the {@link KeyRing}, so every node
 * hears of a destruction and drops the key's material.
 */
public final class KeyDeletionSweeper {
    private KeyDeletionSweeper() {}

    public enum Tick { INSTANCE }

    public static Behavior<Tick> create(KeyRing keys, String accountId, Duration interval, Duration askTimeout) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
            ActorSystem<?> system = ctx.getSystem();
            return Behaviors.receiveMessage(tick -> {
                keys.catalog().thenAccept(state -> state.keys().forEach(keyId -> keys.view(keyId).whenComplete((view, failure) -> {
                    if (failure != null && ApiException.of(failure).error() == AwsError.NotFoundException) {
                        Futures.direct(KeyCatalog.ref(system, accountId).<Done>askWithStatus(
                                r -> new KeyCatalog.RemoveKey(keyId, r), askTimeout));
                    }
                })));
                return Behaviors.same();
            });
        }));
    }
}
