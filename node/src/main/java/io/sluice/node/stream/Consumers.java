package io.sluice.node.stream;

import com.typesafe.config.Config;
import io.sluice.node.runtime.CborSerializable;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.kinesis.ConsumerArn;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The consumers registered on one incarnation of a stream for enhanced fan-out, by name, and the
 * rules that change them. A consumer is CREATING, then ACTIVE after {@code activation-delay};
 * deregistered, it is DELETING and gone after {@code deletion-delay}. Its ARN carries its creation
 * time in seconds, so a consumer registered again under an old name never answers to the old ARN:
 * {@code retired} remembers, per name, the creation second of a consumer removed within the current
 * second, and a new one of that name is then dated the next second.
 */
public record Consumers(List<Consumer> registered, Map<String, Long> retired) implements CborSerializable {
    public static final Consumers NONE = new Consumers(List.of(), Map.of());

    public Consumers {
        registered = registered == null ? List.of()
                : registered.stream().sorted(Comparator.comparing(Consumer::name)).toList();
        retired = retired == null ? Map.of() : Map.copyOf(retired);
    }

    /** One registered consumer: what SubscribeToShard needs to know of it, and its tags. */
    public record Consumer(String name, String arn, String status, long createdAtMillis, Map<String, String> tags)
            implements CborSerializable {
        public Consumer {
            tags = tags == null ? Map.of() : new TreeMap<>(tags);
        }

        public boolean active() {
            return status.equals("ACTIVE");
        }

        long createdAtSeconds() {
            return Math.floorDiv(createdAtMillis, 1000L);
        }

        Consumer with(String next) {
            return new Consumer(name, arn, next, createdAtMillis, tags);
        }
    }

    /**
     * {@code sluice.stream.consumers}: consumers per stream (AWS: 20), consumers CREATING at once per
     * stream (AWS: 5), and how long CREATING and DELETING last.
     */
    public record Limits(int maxPerStream, int maxCreating, Duration activationDelay, Duration deletionDelay) {
        public static Limits from(Config root) {
            Config c = root.getConfig("sluice.stream.consumers");
            return new Limits(c.getInt("max-per-stream"), c.getInt("max-creating"), c.getDuration("activation-delay"),
                    c.getDuration("deletion-delay"));
        }
    }

    // ---- lookups

    public Consumer byName(String name) {
        for (Consumer c : registered) if (c.name().equals(name)) return c;
        return null;
    }

    /** The consumer this exact ARN names: not one of an older incarnation of the stream or of the name. */
    public Consumer byArn(String arn) {
        for (Consumer c : registered) if (c.arn().equals(arn)) return c;
        return null;
    }

    public int size() {
        return registered.size();
    }

    /** Consumers that are not on their way out: a stream having any may be deleted only by force. */
    boolean anyInUse() {
        return registered.stream().anyMatch(c -> !c.status().equals("DELETING"));
    }

    // ---- rules

    /**
     * A new consumer on a stream, or AWS's refusal: the stream must take registrations (ACTIVE or
     * UPDATING), the name be free, and the stream's limits leave room.
     */
    StreamEntity.ConsumerRegistered register(StreamEntity.StreamInfo stream, String name, Map<String, String> tags,
                                             long nowMillis, Limits limits, String accountId) {
        if (!stream.acceptsData()) {
            throw AwsError.ResourceInUseException.exception("Stream " + stream.name() + " under account " + accountId
                    + " not ACTIVE, instead in state " + stream.status());
        }
        if (byName(name) != null) {
            throw AwsError.ResourceInUseException.exception("Consumer " + name + " under stream " + stream.name()
                    + " and account " + accountId + " already exists.");
        }
        if (registered.size() >= limits.maxPerStream()) {
            throw AwsError.LimitExceededException.exception("Stream " + stream.name() + " under account " + accountId
                    + " already has " + registered.size() + " registered consumers. Limit: " + limits.maxPerStream() + ".");
        }
        long creating = registered.stream().filter(c -> c.status().equals("CREATING")).count();
        if (creating >= limits.maxCreating()) {
            throw AwsError.LimitExceededException.exception("Stream " + stream.name() + " under account " + accountId
                    + " already has " + creating + " consumers in CREATING status. Only " + limits.maxCreating()
                    + " consumers can be created at the same time.");
        }
        long createdAt = nowMillis;
        Long retiredSecond = retired.get(name);
        if (retiredSecond != null && Math.floorDiv(createdAt, 1000L) <= retiredSecond) {
            createdAt = (retiredSecond + 1) * 1000L;
        }
        return new StreamEntity.ConsumerRegistered(name, createdAt, tags == null ? Map.of() : new TreeMap<>(tags));
    }

    /**
     * The consumer a deregistration names, by name and, when the caller gave one, by exact ARN; or
     * AWS's ResourceNotFoundException.
     */
    Consumer named(StreamEntity.StreamInfo stream, String name, ConsumerArn arn, String accountId) {
        Consumer c = byName(name);
        if (c == null || (arn != null && !c.arn().equals(arn.toString()))) {
            throw arn != null ? notFound(arn, accountId) : notFound(stream.name(), name, accountId);
        }
        return c;
    }

    /** AWS's ResourceNotFoundException for a consumer named by its stream and name. */
    public static ApiException notFound(String streamName, String consumerName, String accountId) {
        return AwsError.ResourceNotFoundException.exception("Consumer " + consumerName + " under stream " + streamName
                + " and account " + accountId + " not found.");
    }

    /** AWS's ResourceNotFoundException for a consumer named by its ARN. */
    public static ApiException notFound(ConsumerArn arn, String accountId) {
        return AwsError.ResourceNotFoundException.exception("Consumer " + arn.consumerName() + " with creation timestamp "
                + arn.creationEpochSeconds() + " under stream " + arn.streamName() + " and account " + accountId
                + " not found.");
    }

    // ---- changes, applied by the entity's event handlers (pure)

    Consumers registered(String streamArn, StreamEntity.ConsumerRegistered e) {
        List<Consumer> next = new ArrayList<>(registered);
        long second = Math.floorDiv(e.createdAtMillis(), 1000L);
        next.add(new Consumer(e.name(), ConsumerArn.format(streamArn, e.name(), second), "CREATING", e.createdAtMillis(),
                e.tags()));
        // a name retired in an earlier second can no longer collide: new consumers are dated now or later
        Map<String, Long> stillRetired = new HashMap<>();
        retired.forEach((name, at) -> {
            if (!name.equals(e.name()) && at >= second) stillRetired.put(name, at);
        });
        return new Consumers(next, stillRetired);
    }

    /**
     * The consumer {@code name} created at {@code createdAtMillis} moved to status {@code to}, if it is in
     * status {@code from} (any status when null).
     */
    Consumers moved(String name, long createdAtMillis, String from, String to) {
        List<Consumer> next = new ArrayList<>(registered.size());
        for (Consumer c : registered) {
            boolean it = c.name().equals(name) && c.createdAtMillis() == createdAtMillis
                    && (from == null || c.status().equals(from));
            next.add(it ? c.with(to) : c);
        }
        return new Consumers(next, retired);
    }

    Consumers removed(String name, long createdAtMillis) {
        List<Consumer> next = new ArrayList<>(registered.size());
        Map<String, Long> nowRetired = new HashMap<>(retired);
        for (Consumer c : registered) {
            if (c.name().equals(name) && c.createdAtMillis() == createdAtMillis) {
                nowRetired.merge(name, c.createdAtSeconds(), Math::max);
            } else {
                next.add(c);
            }
        }
        return new Consumers(next, nowRetired);
    }

    /** Every consumer DELETING: the stream is being deleted, and its consumers with it. */
    Consumers allDeleting() {
        return new Consumers(registered.stream().map(c -> c.with("DELETING")).toList(), retired);
    }
}
