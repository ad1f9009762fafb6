package io.sluice.node.runtime;

import com.typesafe.config.Config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code sluice { }} block of the configuration, read once at start. Its toString leaves out the root key.
 *
 * @param tlsPort the HTTPS listener's port; 0 when it is off ({@code sluice.http.tls-port = off} or 0)
 * @param tlsCertificate PEM certificate chain for the HTTPS listener; empty: a self-signed one in {@code dataDir}
 * @param tlsPrivateKey PEM private key of that certificate (a path, never the key itself)
 */
public record NodeSettings(
        String httpInterface,
        int httpPort,
        int tlsPort,
        String tlsCertificate,
        String tlsPrivateKey,
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
        Duration updateDelay,
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
                tlsPort(c),
                c.getString("http.tls.certificate"),
                c.getString("http.tls.private-key"),
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
                c.getDuration("stream.update-delay"),
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

    private static int tlsPort(Config c) {
        String port = c.getString("http.tls-port").strip();
        if (port.equals("off") || port.equals("false") || port.equals("no")) return 0;
        try {
            int n = Integer.parseInt(port);
            if (n >= 0 && n <= 65535) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new com.typesafe.config.ConfigException.BadValue("sluice.http.tls-port", "a port (1-65535) or off, not " + port);
    }

    public boolean tlsEnabled() {
        return tlsPort > 0;
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
