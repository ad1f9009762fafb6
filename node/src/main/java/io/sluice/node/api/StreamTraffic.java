package io.sluice.node.api;

import io.sluice.node.auth.Caller;
import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.traffic.NodeTraffic;
import io.sluice.node.traffic.TrafficCounters;
import io.sluice.node.traffic.TrafficCounters.ShardSeries;
import io.sluice.protocol.Validation;
import io.sluice.protocol.admin.Admin.GetStreamTrafficRequest;
import io.sluice.protocol.kinesis.HashKeys;
import io.sluice.protocol.kinesis.KinesisLimits;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static io.sluice.node.api.Service.SLUICE;

/**
 * A stream's traffic over the last hour, minute by minute, for the whole cluster:
 * {@code GET /admin/traffic?stream=NAME} ({@code sluice:GetStreamTraffic} on the stream's ARN). The
 * node serving it asks every node's {@link NodeTraffic} (found through the receptionist) for its
 * counts within the ask timeout and sums them per shard and minute; iterator age is the largest any
 * node saw. A node that does not answer in time is left out, and {@code nodes} says how many did.
 */
public final class StreamTraffic {
    static final int PERIOD_SECONDS = 60;

    private final ActorSystem<?> system;
    private final NodeSettings settings;
    private final Clock clock;
    private final StreamDirectory streams;

    public StreamTraffic(ActorSystem<?> system, NodeSettings settings, Clock clock, StreamDirectory streams) {
        this.system = system;
        this.settings = settings;
        this.clock = clock;
        this.streams = streams;
    }

    public List<Operation<?>> operations() {
        return List.of(Operation.of(SLUICE, "GetStreamTraffic", GetStreamTrafficRequest.class,
                        (c, r) -> settings.streamArn(r.streamName()), this::traffic)
                .checkedBy(StreamTraffic::check));
    }

    /** The {@code stream} query parameter, in the words AWS validates a stream name with. */
    private static void check(GetStreamTrafficRequest r) {
        new Validation().required("stream", r.streamName()).length("stream", r.streamName(), 1, 128)
                .pattern("stream", r.streamName(), KinesisLimits.STREAM_NAME).check();
    }

    /** Every node drops the stream's counters (it was deleted); nodes that miss this drop them once idle for an hour. */
    public void forget(String streamName) {
        nodes().thenAccept(nodes -> nodes.forEach(node -> node.tell(new NodeTraffic.Forget(streamName))));
    }

    private CompletionStage<Map<String, Object>> traffic(Caller caller, GetStreamTrafficRequest r, String arn) {
        long now = clock.millis();
        long lastMinute = TrafficCounters.minuteOf(now);
        return streams.describe(r.streamName()).thenCompose(info -> nodes().thenCompose(nodes -> {
            List<CompletableFuture<NodeTraffic.Counts>> answers = new ArrayList<>();
            for (ActorRef<NodeTraffic.Command> node : nodes) {
                answers.add(Futures.direct(AskPattern.<NodeTraffic.Command, NodeTraffic.Counts>ask(node,
                                replyTo -> new NodeTraffic.Read(info.name(), info.createdAtMillis(), lastMinute, replyTo),
                                settings.askTimeout(), system.scheduler()))
                        .exceptionally(silent -> null));
            }
            return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(all -> {
                List<NodeTraffic.Counts> counts = new ArrayList<>();
                for (CompletableFuture<NodeTraffic.Counts> a : answers) {
                    if (a.join() != null) counts.add(a.join());
                }
                return answer(info, now, counts);
            });
        }));
    }

    private CompletionStage<Set<ActorRef<NodeTraffic.Command>>> nodes() {
        return Futures.direct(AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                        replyTo -> Receptionist.find(NodeTraffic.KEY, replyTo), settings.askTimeout(), system.scheduler()))
                .thenApply(listing -> listing.getServiceInstances(NodeTraffic.KEY));
    }

    /** The cluster's sums per shard (every live shard, and any other with traffic in the hour) and for the stream. */
    static Map<String, Object> answer(StreamEntity.StreamInfo info, long nowMillis, List<NodeTraffic.Counts> counts) {
        int n = TrafficCounters.MINUTES;
        long lastMinute = TrafficCounters.minuteOf(nowMillis);
        TreeMap<Integer, long[][]> byShard = new TreeMap<>();
        for (StreamEntity.ShardRange shard : info.liveShards(nowMillis)) {
            byShard.put(shard.index(), empty(n));
        }
        for (NodeTraffic.Counts node : counts) {
            for (ShardSeries s : node.shards()) {
                add(byShard.computeIfAbsent(s.shardIndex(), i -> empty(n)), s);
            }
        }
        long[][] total = empty(n);
        Map<String, Object> shards = new LinkedHashMap<>();
        for (Map.Entry<Integer, long[][]> e : byShard.entrySet()) {
            add(total, new ShardSeries(e.getKey(), e.getValue()[0], e.getValue()[1], e.getValue()[2], e.getValue()[3]));
            shards.put(HashKeys.shardId(e.getKey()), series(e.getValue()));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("streamName", info.name());
        out.put("periodSeconds", PERIOD_SECONDS);
        out.put("start", (lastMinute - n + 1) * 60_000L);
        out.put("minutes", n);
        out.put("nodes", counts.size());
        out.put("total", series(total));
        out.put("shards", shards);
        return out;
    }

    private static long[][] empty(int n) {
        long[][] series = new long[4][n];
        java.util.Arrays.fill(series[3], TrafficCounters.NO_READS);
        return series;
    }

    /** Adds {@code s} into {@code into}: counts summed, iterator age the larger. */
    private static void add(long[][] into, ShardSeries s) {
        for (int k = 0; k < into[0].length; k++) {
            into[0][k] += s.incomingRecords()[k];
            into[1][k] += s.incomingBytes()[k];
            into[2][k] += s.getRecordsRecords()[k];
            into[3][k] = Math.max(into[3][k], s.iteratorAgeMillis()[k]);
        }
    }

    private static Map<String, Object> series(long[][] s) {
        List<Long> age = new ArrayList<>(s[3].length);
        for (long a : s[3]) age.add(a == TrafficCounters.NO_READS ? null : a);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("incomingRecords", boxed(s[0]));
        out.put("incomingBytes", boxed(s[1]));
        out.put("getRecordsRecords", boxed(s[2]));
        out.put("iteratorAgeMillis", age);
        return out;
    }

    private static List<Long> boxed(long[] values) {
        List<Long> out = new ArrayList<>(values.length);
        for (long v : values) out.add(v);
        return out;
    }
}
