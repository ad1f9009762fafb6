package io.sluice.node.api;

import io.sluice.protocol.admin.Admin.DescribeClusterRequest;
import io.sluice.protocol.admin.Admin.GetNodeStatsRequest;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import static io.sluice.node.api.Service.SLUICE;

/**
 * The node's operator API as operations of the table, so they are signed and authorized like any
 * call: {@code sluice:GetNodeStats} ({@code GET /admin/stats}, where the node's time goes) on the
 * node's ARN, and {@code sluice:DescribeCluster} ({@code GET /admin/cluster}, members and the
 * entities this node hosts, stream names among them) on the cluster's.
 */
public final class NodeAdmin {
    private final String nodeArn;
    private final String clusterArn;
    private final ClusterView cluster;
    private final Supplier<Map<String, Object>> stats;

    /** @param node this node's cluster address, {@code host:port} */
    public NodeAdmin(String region, String accountId, String node, ClusterView cluster, Supplier<Map<String, Object>> stats) {
        this.clusterArn = "arn:aws:sluice:" + region + ":" + accountId + ":cluster";
        this.nodeArn = "arn:aws:sluice:" + region + ":" + accountId + ":node/" + node;
        this.cluster = cluster;
        this.stats = stats;
    }

    public List<Operation<?>> operations() {
        return List.of(
                Operation.of(SLUICE, "GetNodeStats", GetNodeStatsRequest.class, (c, r) -> nodeArn,
                        (c, r, arn) -> CompletableFuture.completedFuture(stats.get())),
                Operation.of(SLUICE, "DescribeCluster", DescribeClusterRequest.class, (c, r) -> clusterArn,
                        (c, r, arn) -> cluster.describe()));
    }
}
