package io.sluice.node.api;

import io.sluice.node.auth.Caller;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.stream.Consumers;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Page;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kinesis.Kinesis.Consumer;
import io.sluice.protocol.kinesis.Kinesis.ConsumerAddressed;
import io.sluice.protocol.kinesis.Kinesis.ConsumerDescription;
import io.sluice.protocol.kinesis.Kinesis.DeregisterStreamConsumerRequest;
import io.sluice.protocol.kinesis.Kinesis.DescribeStreamConsumerRequest;
import io.sluice.protocol.kinesis.Kinesis.DescribeStreamConsumerResponse;
import io.sluice.protocol.kinesis.Kinesis.DescribeStreamSummaryRequest;
import io.sluice.protocol.kinesis.Kinesis.ListStreamConsumersRequest;
import io.sluice.protocol.kinesis.Kinesis.ListStreamConsumersResponse;
import io.sluice.protocol.kinesis.Kinesis.RegisterStreamConsumerRequest;
import io.sluice.protocol.kinesis.Kinesis.RegisterStreamConsumerResponse;
import io.sluice.protocol.kinesis.KinesisLimits;
import io.sluice.protocol.kinesis.PageToken;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

import static io.sluice.node.api.Service.KINESIS;

/**
 * Kinesis enhanced fan-out consumers: register, describe, list and deregister the consumers of a
 * stream (which SubscribeToShard reads as). Validates each request as AWS does, asks the stream's
 * entity, which holds its consumers ({@link Consumers}), and shapes the answers. IAM actions apply
 * to the stream's ARN for RegisterStreamConsumer and ListStreamConsumers, to the consumer's ARN for
 * DescribeStreamConsumer and DeregisterStreamConsumer (found from the stream and name when the
 * request gives those).
 */
public final class KinesisConsumers {
    private static final Map<String, Object> EMPTY = Map.of();
    /** AWS: "A set of up to 50 key-value pairs" (the model allows a map of 200, as for streams). */
    private static final int MAX_TAGS = 50;

    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final Clock clock;
    private final StreamDirectory streams;

    public KinesisConsumers(ActorSystem<?> system, NodeSettings settings, Clock clock, StreamDirectory streams) {
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.clock = clock;
        this.streams = streams;
    }

    public List<Operation<?>> operations() {
        return List.of(
                Operation.of(KINESIS, "RegisterStreamConsumer", RegisterStreamConsumerRequest.class,
                                (c, r) -> streams.resourceOf(r), this::register)
                        .checkedBy(KinesisConsumers::checkRegister)
                        // tags are set by the registration, on the consumer it creates (whose creation time is not known yet)
                        .alsoRequires("kinesis:TagResource", (c, r) -> CompletableFuture.completedFuture(
                                r.tags() == null ? null : pendingArn(streams.nameOf(r), r.consumerName()))),
                Operation.resolving(KINESIS, "DescribeStreamConsumer", DescribeStreamConsumerRequest.class,
                                this::consumerResource, (c, r, arn) -> describe(r))
                        .checkedBy(KinesisConsumers::checkAddress),
                Operation.of(KINESIS, "ListStreamConsumers", ListStreamConsumersRequest.class,
                                (c, r) -> streams.resourceOf(r), this::list)
                        .checkedBy(KinesisConsumers::checkList),
                Operation.resolving(KINESIS, "DeregisterStreamConsumer", DeregisterStreamConsumerRequest.class,
                                this::consumerResource, (c, r, arn) -> deregister(r))
                        .checkedBy(KinesisConsumers::checkAddress));
    }

    // ---- checks before authorization: the model's constraints, and which members go together

    private static void checkRegister(RegisterStreamConsumerRequest r) {
        Validation v = new Validation().required("streamARN", r.streamARN()).required("consumerName", r.consumerName())
                .length("consumerName", r.consumerName(), 1, 128)
                .pattern("consumerName", r.consumerName(), KinesisLimits.CONSUMER_NAME)
                .length("streamId", r.streamId(), 1, 24).pattern("streamId", r.streamId(), KinesisLimits.STREAM_ID)
                .size("tags", r.tags(), 1, 200);
        if (r.tags() != null) {
            r.tags().forEach((k, val) -> v.length("tags", k, 1, 128).length("tags", val, 0, 256));
        }
        v.check();
    }

    private static void checkList(ListStreamConsumersRequest r) {
        new Validation().required("streamARN", r.streamARN())
                .length("nextToken", r.nextToken(), 1, 1_048_576)
                .range("maxResults", r.maxResults(), 1, 10_000)
                .length("streamId", r.streamId(), 1, 24).pattern("streamId", r.streamId(), KinesisLimits.STREAM_ID)
                .check();
        if (r.nextToken() != null && r.streamCreationTimestamp() != null) {
            throw AwsError.InvalidArgumentException.exception("NextToken and StreamCreationTimestamp cannot be provided together.");
        }
    }

    /**
     * A consumer is named by its ARN, or by its stream's ARN and its name, or by all three as long as
     * they agree (as AWS documents for DescribeStreamConsumer and DeregisterStreamConsumer).
     */
    private static void checkAddress(ConsumerAddressed r) {
        new Validation().length("streamARN", r.streamARN(), 1, 2048)
                .pattern("streamARN", r.streamARN(), KinesisLimits.STREAM_ARN)
                .length("consumerName", r.consumerName(), 1, 128)
                .pattern("consumerName", r.consumerName(), KinesisLimits.CONSUMER_NAME)
                .length("consumerARN", r.consumerARN(), 1, 2048)
                .pattern("consumerARN", r.consumerARN(), KinesisLimits.CONSUMER_ARN)
                .length("streamId", r.streamId(), 1, 24).pattern("streamId", r.streamId(), KinesisLimits.STREAM_ID)
                .check();
        if (r.consumerARN() == null) {
            if (r.streamARN() == null || r.consumerName() == null) {
                throw AwsError.InvalidArgumentException.exception(
                        "Either ConsumerARN or both StreamARN and ConsumerName should be provided.");
            }
            return;
        }
        // the pattern guarantees the mark and a ':' after it
        String arn = r.consumerARN();
        int mark = arn.lastIndexOf("/consumer/");
        String streamArn = arn.substring(0, mark);
        String name = arn.substring(mark + "/consumer/".length(), arn.lastIndexOf(':'));
        if (r.streamARN() != null && !r.streamARN().equals(streamArn)) {
            throw AwsError.InvalidArgumentException.exception("ConsumerARN " + arn + " is not of stream " + r.streamARN() + ".");
        }
        if (r.consumerName() != null && !r.consumerName().equals(name)) {
            throw AwsError.InvalidArgumentException.exception("ConsumerARN " + arn + " does not name consumer "
                    + r.consumerName() + ".");
        }
    }

    // ---- resources

    /** The consumer a request names: by ARN (which then is its IAM resource), or by its stream and name. */
    private record Target(String streamName, String consumerName, String consumerArn) {}

    private Target target(ConsumerAddressed r) {
        if (r.consumerARN() != null) {
            var arn = streams.consumerArnOf(r.consumerARN());
            return new Target(arn.streamName(), arn.consumerName(), r.consumerARN());
        }
        return new Target(streams.nameOf(new DescribeStreamSummaryRequest(null, r.streamARN())), r.consumerName(), null);
    }

    /**
     * The consumer's ARN, as AWS authorizes these operations on; for a consumer named by stream and
     * name, its current ARN, or (none registered) its ARN with any creation time, so that a policy on
     * one consumer's exact ARN neither allows nor reveals anything about a missing one.
     */
    private CompletionStage<String> consumerResource(Caller caller, ConsumerAddressed r) {
        Target t = target(r);
        if (t.consumerArn() != null) {
            return CompletableFuture.completedFuture(t.consumerArn());
        }
        return streams.describe(t.streamName()).handle((info, failure) -> {
            Consumers.Consumer c = info == null ? null : info.consumers().byName(t.consumerName());
            return c != null ? c.arn() : pendingArn(t.streamName(), t.consumerName());
        });
    }

    private String pendingArn(String streamName, String consumerName) {
        return settings.streamArn(streamName) + "/consumer/" + consumerName + ":*";
    }

    // ---- handlers

    private CompletionStage<?> register(Caller caller, RegisterStreamConsumerRequest r, String streamArn) {
        String name = streams.nameOf(r);
        if (r.tags() != null && r.tags().size() > MAX_TAGS) {
            throw AwsError.InvalidArgumentException.exception("Failed to register consumer " + r.consumerName()
                    + " with stream " + name + " under account " + settings.accountId()
                    + " because a given consumer cannot have more than " + MAX_TAGS + " tags.");
        }
        Map<String, String> tags = r.tags() == null ? Map.of() : r.tags();
        return this.<Consumers.Consumer>ask(name, replyTo -> new StreamEntity.RegisterConsumer(r.consumerName(), tags, replyTo))
                .thenApply(c -> new RegisterStreamConsumerResponse(consumer(c)));
    }

    private CompletionStage<?> describe(DescribeStreamConsumerRequest r) {
        Target t = target(r);
        CompletionStage<StreamDirectory.RegisteredConsumer> found = t.consumerArn() != null
                ? streams.consumerNow(t.consumerArn())
                : streams.describe(t.streamName()).thenApply(info -> {
                    Consumers.Consumer c = info.consumers().byName(t.consumerName());
                    if (c == null) throw Consumers.notFound(t.streamName(), t.consumerName(), settings.accountId());
                    return new StreamDirectory.RegisteredConsumer(info, c);
                });
        return found.thenApply(rc -> new DescribeStreamConsumerResponse(new ConsumerDescription(rc.consumer().name(),
                rc.consumer().arn(), rc.consumer().status(), Instant.ofEpochMilli(rc.consumer().createdAtMillis()),
                rc.stream().arn())));
    }

    private CompletionStage<?> list(Caller caller, ListStreamConsumersRequest r, String streamArn) {
        String name = streams.nameOf(r);
        PageToken.Consumers from = r.nextToken() == null ? null : PageToken.openConsumers(r.nextToken(), clock);
        if (from != null && !from.streamName().equals(name)) {
            throw AwsError.InvalidArgumentException.exception("Invalid NextToken.");
        }
        int limit = Math.min(r.maxResults() == null ? KinesisLimits.MAX_CONSUMERS_PER_PAGE : r.maxResults(),
                KinesisLimits.MAX_CONSUMERS_PER_PAGE);
        return streams.describe(name).thenApply(info -> {
            // a token or StreamCreationTimestamp of a stream since deleted names no stream that exists
            boolean otherIncarnation = (from != null && from.streamCreatedAtMillis() != info.createdAtMillis())
                    || (r.streamCreationTimestamp() != null && !createdAt(info, r.streamCreationTimestamp()));
            if (otherIncarnation) {
                throw AwsError.ResourceNotFoundException.exception("Stream " + name + " under account "
                        + settings.accountId() + " not found.");
            }
            Page<Consumers.Consumer> page = Page.after(info.consumers().registered(), Consumers.Consumer::name,
                    from == null ? null : from.afterConsumerName(), limit);
            String token = page.more()
                    ? PageToken.issueConsumers(name, info.createdAtMillis(), page.last().name(), clock) : null;
            return new ListStreamConsumersResponse(page.items().stream().map(KinesisConsumers::consumer).toList(), token);
        });
    }

    /**
     * Whether a StreamCreationTimestamp is this incarnation's: to the millisecond, or to the second when
     * the caller gave whole seconds (as typed on a command line).
     */
    private static boolean createdAt(StreamInfo info, Instant given) {
        long at = given.toEpochMilli();
        return at == info.createdAtMillis() || (at % 1000 == 0 && at == Math.floorDiv(info.createdAtMillis(), 1000L) * 1000);
    }

    private CompletionStage<?> deregister(DeregisterStreamConsumerRequest r) {
        Target t = target(r);
        return this.<Done>ask(t.streamName(),
                replyTo -> new StreamEntity.DeregisterConsumer(t.consumerName(), t.consumerArn(), replyTo))
                .thenApply(done -> EMPTY);
    }

    // ---- helpers

    private static Consumer consumer(Consumers.Consumer c) {
        return new Consumer(c.name(), c.arn(), c.status(), Instant.ofEpochMilli(c.createdAtMillis()));
    }

    /** Asks a stream's entity; this node's cached metadata of the stream is dropped whatever the outcome. */
    private <T> CompletionStage<T> ask(String name, Function<ActorRef<StatusReply<T>>, StreamEntity.Command> command) {
        return Futures.direct(sharding.entityRefFor(StreamEntity.ENTITY_KEY, name)
                        .<T>askWithStatus(command::apply, settings.askTimeout()))
                .whenComplete((done, failure) -> streams.forget(name));
    }
}
