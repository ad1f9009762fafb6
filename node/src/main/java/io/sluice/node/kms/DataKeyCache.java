package io.sluice.node.kms;

import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.runtime.Redaction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.pattern.StatusReply;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The node's data keys for envelope encryption, one actor per node and the only holder of their
 * plaintext. It generates producer data keys (wrapped by {@link KeyRing}, so stored blobs keep
 * their format) and reuses each for one (key version, encryption context, principal) for at most
 * {@code maxAge} and {@code maxRecords}; it unwraps consumer data keys and keeps each for one
 * (blob, context, principal) for {@code maxAge}. A principal never gets a key made for another.
 *
 * <p>Entries go when they expire (a timer sweeps them), when the cache is full (oldest first), and
 * when their KMS key changes: a request whose key view is no longer Enabled or names a newer
 * version, a {@link KeySeen}, or a {@link KeyChanged} on the cluster-wide topic. Whatever goes has
 * its plaintext overwritten with zeros, which is why every reply carries a copy: a request still
 * sealing with a key evicted meanwhile must not end up encrypting under zeros.
 *
 * <p>Each message costs a map lookup and a counter; the only crypto here wraps a new key or unwraps
 * one (once per blob, context and principal per {@code maxAge}). Records are sealed and opened by
 * the asker, off this actor.
 */
public final class DataKeyCache extends AbstractBehavior<DataKeyCache.Command> {

    public sealed interface Command {}

    /** A data key to seal {@code records} records under {@code key}'s current version, for {@code principal}. */
    public record ProducerKey(KeyEntity.KeyView key, Map<String, String> context, String principal, int records,
                              ActorRef<StatusReply<DataKey>> replyTo) implements Command {}

    /** The plaintext of each wrapped data key, in order, for {@code principal}; one message per read, not per blob. */
    public record ConsumerKeys(List<Wrapped> wrapped, Map<String, String> context, String principal,
                               ActorRef<StatusReply<Unwrapped>> replyTo) implements Command {}

    /** A wrapped data key and the current view of the KMS key that wrapped it. */
    public record Wrapped(KeyEntity.KeyView key, byte[] blob) {}

    /** A view of a key the data path refused to use (Disabled, PendingDeletion): its entries go. */
    public record KeySeen(KeyEntity.KeyView key) implements Command {}

    /** How many data keys are held now (producer and consumer), for tests and statistics. */
    public record CountEntries(ActorRef<Integer> replyTo) implements Command {}

    /**
     * A copy of a data key (the asker may overwrite it when done), its wrapped form, and whether it
     * was generated for this request (a GenerateDataKey call, as KMS would count it).
     */
    public record DataKey(byte[] plaintext, byte[] blob, boolean generated) {
        @Override
        public String toString() {
            return Redaction.toString(this, "plaintext");
        }
    }

    /** Copies of the data keys, in the order asked, and how many were unwrapped for this request (Decrypt calls). */
    public record Unwrapped(List<byte[]> plaintexts, int unwrapped) {
        @Override
        public String toString() {
            return Redaction.toString(this, "plaintexts");
        }
    }

    private record Changed(String keyId) implements Command {}

    private record Sweep() implements Command {}

    /** How data keys are wrapped and unwrapped: {@link KeyRing}'s blobs on a node, plain functions in tests. */
    public interface Wrapping {
        byte[] seal(KeyEntity.KeyView key, byte[] plaintext, Map<String, String> context);

        byte[] open(KeyEntity.KeyView key, byte[] blob, Map<String, String> context);
    }

    /** The {@code sluice.kms} limits that bound the cache. */
    public record Limits(Duration maxAge, long maxRecords, int maxEntries, Duration sweepInterval) {
        public static Limits of(NodeSettings settings) {
            return new Limits(settings.dataKeyMaxAge(), settings.dataKeyMaxRecords(), settings.dataKeyCacheEntries(),
                    settings.dataKeyCacheSweep());
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int DATA_KEY_BYTES = 32;

    private sealed interface Slot {}

    private record ProducerSlot(String keyId, int version, Map<String, String> context, String principal) implements Slot {}

    private record ConsumerSlot(String blob, Map<String, String> context, String principal) implements Slot {}

    private static final class Entry {
        final String keyId;
        final byte[] plaintext;
        final byte[] blob;
        final long expiresAtNanos;
        long uses;

        Entry(String keyId, byte[] plaintext, byte[] blob, long expiresAtNanos, long uses) {
            this.keyId = keyId;
            this.plaintext = plaintext;
            this.blob = blob;
            this.expiresAtNanos = expiresAtNanos;
            this.uses = uses;
        }
    }

    /** What the cache holds of one KMS key: the newest version it has seen, and its entries (to evict them together). */
    private static final class KnownKey {
        final int version;
        final Set<Slot> slots = new HashSet<>();

        KnownKey(int version) {
            this.version = version;
        }
    }

    private enum Admission { CURRENT, STALE, REFUSED }

    public static Behavior<Command> create(Limits limits, KeyRing keyRing, ActorRef<Topic.Command<KeyChanged>> changes) {
        return create(limits, new Wrapping() {
            @Override
            public byte[] seal(KeyEntity.KeyView key, byte[] plaintext, Map<String, String> context) {
                return keyRing.seal(key, plaintext, context);
            }

            @Override
            public byte[] open(KeyEntity.KeyView key, byte[] blob, Map<String, String> context) {
                return keyRing.open(key, blob, context);
            }
        }, changes, System::nanoTime);
    }

    /** A cache wrapping with {@code wrapping} and telling time by {@code nanos} (tests move both). */
    public static Behavior<Command> create(Limits limits, Wrapping wrapping, ActorRef<Topic.Command<KeyChanged>> changes,
                                           LongSupplier nanos) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            changes.tell(Topic.subscribe(ctx.messageAdapter(KeyChanged.class, c -> new Changed(c.keyId()))));
            timers.startTimerWithFixedDelay(new Sweep(), limits.sweepInterval());
            return new DataKeyCache(ctx, limits, wrapping, nanos);
        }));
    }

    private final Limits limits;
    private final Wrapping wrapping;
    private final LongSupplier nanos;
    // insertion order is expiry order: every entry lives maxAge from when it was stored, and an entry
    // that is replaced is removed first, so the eldest entries are the first to expire
    private final LinkedHashMap<Slot, Entry> entries = new LinkedHashMap<>();
    private final Map<String, KnownKey> keys = new HashMap<>();

    private DataKeyCache(ActorContext<Command> context, Limits limits, Wrapping wrapping, LongSupplier nanos) {
        super(context);
        this.limits = limits;
        this.wrapping = wrapping;
        this.nanos = nanos;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(ProducerKey.class, this::onProducerKey)
                .onMessage(ConsumerKeys.class, this::onConsumerKeys)
                .onMessage(KeySeen.class, this::onKeySeen)
                .onMessage(Changed.class, this::onChanged)
                .onMessage(Sweep.class, this::onSweep)
                .onMessage(CountEntries.class, this::onCountEntries)
                .build();
    }

    private Behavior<Command> onProducerKey(ProducerKey cmd) {
        KeyEntity.KeyView key = cmd.key();
        Admission admission = admit(key);
        if (admission == Admission.REFUSED) {
            cmd.replyTo().tell(StatusReply.error(unusable(key)));
            return this;
        }
        long now = nanos.getAsLong();
        ProducerSlot slot = new ProducerSlot(key.keyId(), key.currentVersion(), cmd.context(), cmd.principal());
        Entry entry = entries.get(slot);
        if (entry != null && live(entry, now) && entry.uses + cmd.records() <= limits.maxRecords()) {
            // the reservation is made here, in one place, so two requests never count on the same uses
            entry.uses += cmd.records();
            cmd.replyTo().tell(StatusReply.success(new DataKey(entry.plaintext.clone(), entry.blob, false)));
            return this;
        }
        if (entry != null) {
            evict(slot);
        }
        byte[] plaintext = new byte[DATA_KEY_BYTES];
        RANDOM.nextBytes(plaintext);
        byte[] blob;
        try {
            blob = wrapping.seal(key, plaintext, cmd.context());
        } catch (RuntimeException e) {
            Arrays.fill(plaintext, (byte) 0);
            cmd.replyTo().tell(StatusReply.error(e));
            return this;
        }
        if (admission == Admission.CURRENT) {
            // a request larger than maxRecords still gets one key (a request is never split), used by nothing else
            store(slot, new Entry(key.keyId(), plaintext, blob, now + limits.maxAge().toNanos(), cmd.records()), key, now);
            cmd.replyTo().tell(StatusReply.success(new DataKey(plaintext.clone(), blob, true)));
        } else {
            cmd.replyTo().tell(StatusReply.success(new DataKey(plaintext, blob, true)));
        }
        return this;
    }

    private Behavior<Command> onConsumerKeys(ConsumerKeys cmd) {
        long now = nanos.getAsLong();
        List<byte[]> out = new ArrayList<>(cmd.wrapped().size());
        int unwrapped = 0;
        for (Wrapped w : cmd.wrapped()) {
            Admission admission = admit(w.key());
            if (admission == Admission.REFUSED) {
                return fail(cmd, out, unusable(w.key()));
            }
            ConsumerSlot slot = new ConsumerSlot(Base64.getEncoder().encodeToString(w.blob()), cmd.context(), cmd.principal());
            Entry entry = entries.get(slot);
            if (entry != null && live(entry, now)) {
                out.add(entry.plaintext.clone());
                continue;
            }
            if (entry != null) {
                evict(slot);
            }
            byte[] plaintext;
            try {
                plaintext = wrapping.open(w.key(), w.blob(), cmd.context());
            } catch (RuntimeException e) {
                return fail(cmd, out, e);
            }
            unwrapped++;
            if (admission == Admission.CURRENT) {
                store(slot, new Entry(w.key().keyId(), plaintext, w.blob(), now + limits.maxAge().toNanos(), 0), w.key(), now);
                out.add(plaintext.clone());
            } else {
                out.add(plaintext);
            }
        }
        cmd.replyTo().tell(StatusReply.success(new Unwrapped(out, unwrapped)));
        return this;
    }

    private Behavior<Command> fail(ConsumerKeys cmd, List<byte[]> handedOut, RuntimeException failure) {
        for (byte[] copy : handedOut) Arrays.fill(copy, (byte) 0);
        cmd.replyTo().tell(StatusReply.error(failure));
        return this;
    }

    private Behavior<Command> onKeySeen(KeySeen cmd) {
        admit(cmd.key());
        return this;
    }

    private Behavior<Command> onChanged(Changed cmd) {
        evictKey(cmd.keyId());
        return this;
    }

    private Behavior<Command> onSweep(Sweep tick) {
        evictExpired(nanos.getAsLong());
        return this;
    }

    private Behavior<Command> onCountEntries(CountEntries cmd) {
        cmd.replyTo().tell(entries.size());
        return this;
    }

    /**
     * Compares a view of a key with what the cache has seen of it. A key no longer Enabled loses its
     * entries and is refused; a newer version (a rotation) evicts the key's entries made under older
     * ones; an older version than seen (a request that fetched its view before the rotation) is
     * served but not cached, so it cannot bring an outdated key back.
     */
    private Admission admit(KeyEntity.KeyView key) {
        if (!"Enabled".equals(key.keyState())) {
            evictKey(key.keyId());
            return Admission.REFUSED;
        }
        KnownKey known = keys.get(key.keyId());
        if (known == null || known.version == key.currentVersion()) {
            return Admission.CURRENT;
        }
        if (known.version < key.currentVersion()) {
            evictKey(key.keyId());
            return Admission.CURRENT;
        }
        return Admission.STALE;
    }

    /** Askers check the view first; a refusal here means one asked with a view it should not have used. */
    private static RuntimeException unusable(KeyEntity.KeyView key) {
        return new IllegalArgumentException("Key " + key.arn() + " is " + key.keyState() + "; data keys need an Enabled key.");
    }

    private static boolean live(Entry entry, long now) {
        return entry.expiresAtNanos - now > 0;
    }

    private void store(Slot slot, Entry entry, KeyEntity.KeyView key, long now) {
        if (entries.size() >= limits.maxEntries()) {
            evictExpired(now);
        }
        // still full of live keys: the eldest goes (its owner merely gets a new one next time)
        while (!entries.isEmpty() && entries.size() >= limits.maxEntries()) {
            evict(entries.keySet().iterator().next());
        }
        entries.put(slot, entry);
        keys.computeIfAbsent(entry.keyId, id -> new KnownKey(key.currentVersion())).slots.add(slot);
    }

    private void evictExpired(long now) {
        while (!entries.isEmpty()) {
            Map.Entry<Slot, Entry> eldest = entries.entrySet().iterator().next();
            if (live(eldest.getValue(), now)) {
                return;
            }
            evict(eldest.getKey());
        }
    }

    private void evict(Slot slot) {
        Entry entry = entries.remove(slot);
        if (entry == null) {
            return;
        }
        Arrays.fill(entry.plaintext, (byte) 0);
        KnownKey known = keys.get(entry.keyId);
        if (known != null) {
            known.slots.remove(slot);
            if (known.slots.isEmpty()) {
                keys.remove(entry.keyId);
            }
        }
    }

    private void evictKey(String keyId) {
        KnownKey known = keys.remove(keyId);
        if (known == null) {
            return;
        }
        for (Slot slot : known.slots) {
            Entry entry = entries.remove(slot);
            if (entry != null) {
                Arrays.fill(entry.plaintext, (byte) 0);
            }
        }
    }
}
