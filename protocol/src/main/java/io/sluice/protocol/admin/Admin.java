package io.sluice.protocol.admin;

/**
 * Request shapes of the node's operator API: {@code GET /admin/stats} ({@code sluice:GetNodeStats})
 * and {@code GET /admin/cluster} ({@code sluice:DescribeCluster}), which take no input, and
 * {@code GET /admin/traffic?stream=NAME} ({@code sluice:GetStreamTraffic}), which names a stream in
 * its query. Their answers are JSON documents: the node's counters, its view of the cluster, a
 * stream's traffic per minute over the last hour.
 */
public final class Admin {
    private Admin() {}

    public record GetNodeStatsRequest() {}

    public record DescribeClusterRequest() {}

    /** @param streamName the {@code stream} query parameter */
    public record GetStreamTrafficRequest(String streamName) {}
}
