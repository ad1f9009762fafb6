package io.sluice.protocol.admin;

/**
 * Request shapes of the node's operator API, {@code GET /admin/stats} ({@code sluice:GetNodeStats})
 * and {@code GET /admin/cluster} ({@code sluice:DescribeCluster}). Neither takes input; their answers
 * are JSON documents of the node's counters and of its view of the cluster.
 */
public final class Admin {
    private Admin() {}

    public record GetNodeStatsRequest() {}

    public record DescribeClusterRequest() {}
}
