package io.sluice.node.runtime;

import com.typesafe.config.Config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The {@code sluice { }} block of the configuration, read once at start. Its toString leaves out the root key. */
public record NodeSettings(
        String httpInterface,
        int httpPort,
        String region,
        String accountId,
        Path dataDir,
        Duration clockSkew,
        Duration askTimeout,
        int onDemandShards,
        int defaultRetentionHours,
        int shardLimit,
        int onDemandStreamLimit,
        Duration metadataCacheTtl,
        Duration deleteDrain,
        int maxBatchRecords,
        long maxBatchBytes,
        Duration maxAppendWait,
        long tailBytes,
        int snapshotEvery,
        int maxScanEvents,
        Duration retentionSweepInterval,
        List<String> cassandraContactPoints,
        String cassandraKeyspace,
        String cassandraReplication,
        boolean applySchema,
        String rootKey,
        Duration dataKeyMaxAge,
        long dataKeyMaxRecords,
        int dataKeyCacheEntries,
        Duration dataKeyCacheSweep,
        Duration keyDeletionSweepInterval,
        Duration identityRefresh,
        Duration warmup) {

    public static NodeSettings from(Config root) {
        Config c = root.getConfig("sluice");
        return new NodeSettings(
                c.getString("http.interface"),
                c.getInt("http.port"),
                c.getString("region"),
                c.getString("account-id"),
                Path.of(c.getString("data-dir")),
                c.getDuration("auth.clock-skew"),
                c.getDuration("ask-timeout"),
                c.getInt("stream.on-demand-shards"),
                c.getInt("stream.default-retention-hours"),
                c.getInt("stream.shard-limit"),
                c.getInt("stream.on-demand-stream-limit"),
                c.getDuration("stream.metadata-cache-ttl"),
                c.getDuration("stream.delete-drain"),
                c.getInt("shard.max-batch-records"),
                c.getBytes("shard.max-batch-bytes"),
                c.getDuration("shard.max-append-wait"),
                c.getBytes("shard.tail-bytes"),
                c.getInt("shard.snapshot-every"),
                c.getInt("shard.max-scan-events"),
                c.getDuration("retention.sweep-interval"),
                c.getStringList("cassandra.contact-points"),
                c.getString("cassandra.keyspace"),
                c.getString("cassandra.replication"),
                c.getBoolean("cassandra.apply-schema"),
                c.getString("kms.root-key"),
                c.getDuration("kms.data-key-max-age"),
                c.getLong("kms.data-key-max-records"),
                c.getInt("kms.data-key-cache.max-entries"),
                c.getDuration("kms.data-key-cache.sweep-interval"),
                c.getDuration("kms.deletion-sweep-interval"),
                c.getDuration("iam.refresh"),
                c.getDuration("warmup.duration"));
    }

    public String streamArn(String streamName) {
        return "arn:aws:kinesis:" + region + ":" + accountId + ":stream/" + streamName;
    }

    /** Every setting but the root key, which says only whether it is given. */
    @Override
    public String toString() {
        return Redaction.toString(this, "rootKey");
    }
}
