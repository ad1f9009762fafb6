package io.sluice.node.api;

import io.sluice.node.runtime.Futures;
import io.sluice.node.kms.KeyEntity;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.table.TableEntity;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The operator's view of the cluster from one node: members and their status, the leader, and the
 * entities (stream shards, streams, keys, DynamoDB tables) this node hosts. Served at {@code GET /admin/cluster};
 * asking every node shows where each shard lives.
 */
public final class ClusterView {
    private final ActorSystem<?> system;

    public ClusterView(ActorSystem<?> system) {
        this.system = system;
    }

    public CompletionStage<Map<String, Object>> describe() {
        Cluster cluster = Cluster.get(system);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("self", cluster.selfMember().address().toString());
        out.put("selfStatus", cluster.selfMember().status().toString());
        out.put("leader", cluster.state().getLeader() == null ? null : cluster.state().getLeader().toString());
        List<Map<String, String>> members = new ArrayList<>();
        for (Member m : cluster.state().getMembers()) {
            members.add(Map.of("address", m.address().toString(), "status", m.status().toString()));
        }
        out.put("members", members);
        out.put("unreachable", cluster.state().getUnreachable().stream().map(m -> m.address().toString()).toList());
        CompletableFuture<List<String>> shards = local(ShardEntity.ENTITY_KEY).toCompletableFuture();
        CompletableFuture<List<String>> streams = local(StreamEntity.ENTITY_KEY).toCompletableFuture();
        CompletableFuture<List<String>> keys = local(KeyEntity.ENTITY_KEY).toCompletableFuture();
        CompletableFuture<List<String>> tables = local(TableEntity.ENTITY_KEY).toCompletableFuture();
        return CompletableFuture.allOf(shards, streams, keys, tables).thenApply(v -> {
            out.put("hostedStreamShards", shards.join());
            out.put("hostedStreams", streams.join());
            out.put("hostedKeys", keys.join());
            out.put("hostedTables", tables.join());
            return out;
        });
    }

    private CompletionStage<List<String>> local(EntityTypeKey<?> key) {
        return Futures.direct(AskPattern.<Object, ShardRegion.CurrentShardRegionState>ask(
                        ClusterSharding.get(system).shardState().unsafeUpcast(),
                        replyTo -> new GetShardRegionState(key, replyTo), Duration.ofSeconds(5), system.scheduler()))
                .thenApply(state -> {
                    TreeSet<String> ids = new TreeSet<>();
                    for (ShardRegion.ShardState s : state.getShards()) ids.addAll(s.getEntityIds());
                    return List.copyOf(ids);
                });
    }
}
