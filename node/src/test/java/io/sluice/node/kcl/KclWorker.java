package io.sluice.node.kcl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.common.KinesisClientUtil;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.leases.LeaseManagementConfig;
import software.amazon.kinesis.metrics.MetricsConfig;
import software.amazon.kinesis.metrics.NullMetricsFactory;
import software.amazon.kinesis.retrieval.RetrievalConfig;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Kinesis Client Library application, run as a process of its own (so that a test can SIGKILL it) and built
 * the way the KCL documents: an HTTP/2 Kinesis client from {@link KinesisClientUtil}, a DynamoDB client for
 * the lease, coordinator-state and worker-metrics tables, a CloudWatch client that is never called (metrics
 * go to a {@link NullMetricsFactory}), polling retrieval from TRIM_HORIZON. Every client points at the one
 * Sluice endpoint. Timings are short so that a test sees balancing and failover within seconds.
 *
 * <p>Settings come from system properties ({@code kcl.endpoint}, {@code kcl.stream}, {@code kcl.application},
 * {@code kcl.worker}, {@code kcl.log}, optionally {@code kcl.failover-millis}); the credentials from
 * {@code AWS_ACCESS_KEY_ID} and {@code AWS_SECRET_ACCESS_KEY}, used as static credentials. Processed records
 * go to the {@link ProcessedLog} named by {@code kcl.log}; the KCL's own log to standard output.
 */
public final class KclWorker {
    private static final Logger log = LoggerFactory.getLogger(KclWorker.class);

    /** Exit status when the scheduler stopped by itself, e.g. after its initialization attempts all failed. */
    static final int SCHEDULER_STOPPED = 3;

    record Settings(URI endpoint, String stream, String application, String workerId, Path log, long failoverMillis) {
        static Settings fromSystemProperties() {
            return new Settings(URI.create(required("kcl.endpoint")), required("kcl.stream"), required("kcl.application"),
                    required("kcl.worker"), Path.of(required("kcl.log")),
                    Long.parseLong(System.getProperty("kcl.failover-millis", "5000")));
        }

        private static String required(String name) {
            String value = System.getProperty(name);
            if (value == null || value.isBlank()) throw new IllegalArgumentException("system property " + name + " is required");
            return value;
        }
    }

    private KclWorker() {}

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.fromSystemProperties();
        AwsCredentialsProvider credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(
                System.getenv("AWS_ACCESS_KEY_ID"), System.getenv("AWS_SECRET_ACCESS_KEY")));
        KinesisAsyncClient kinesis = KinesisClientUtil.createKinesisAsyncClient(KinesisAsyncClient.builder()
                .endpointOverride(settings.endpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
                .overrideConfiguration(c -> c.addExecutionInterceptor(new CallLog())));
        DynamoDbAsyncClient dynamo = DynamoDbAsyncClient.builder()
                .endpointOverride(settings.endpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
                .overrideConfiguration(c -> c.addExecutionInterceptor(new CallLog()))
                .build();
        // required by ConfigsBuilder; pointed at Sluice too so that nothing could ever reach AWS
        CloudWatchAsyncClient cloudWatch = CloudWatchAsyncClient.builder()
                .endpointOverride(settings.endpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
                .build();

        ProcessedLog processed = ProcessedLog.appendingTo(settings.log());
        ConfigsBuilder configs = new ConfigsBuilder(settings.stream(), settings.application(), kinesis, dynamo, cloudWatch,
                settings.workerId(), RecordingProcessor.factory(processed));
        Scheduler scheduler = new Scheduler(
                configs.checkpointConfig(),
                configs.coordinatorConfig(),
                leaseManagement(configs, settings.failoverMillis()),
                configs.lifecycleConfig(),
                metrics(configs),
                configs.processorConfig(),
                retrieval(configs, settings.stream(), kinesis));

        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            try {
                scheduler.startGracefulShutdown().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("graceful shutdown did not finish", e);
            }
        }, "kcl-worker-shutdown"));

        log.info("KCL worker {} starting on {} (stream {}, application {})", settings.workerId(), settings.endpoint(),
                settings.stream(), settings.application());
        scheduler.run(); // returns when the scheduler shuts down
        if (!stopping.get()) {
            log.error("KCL worker {}: the scheduler stopped by itself", settings.workerId());
            System.exit(SCHEDULER_STOPPED); // the SDK's Netty threads would keep the JVM alive
        }
    }

    /**
     * Short lease timings: a lease not renewed for {@code failoverMillis} is expired, the leader assigns leases
     * every {@code failoverMillis / 2} (at least a second), and a worker whose metrics are two reports old is dead.
     * Worker metrics are off: off EC2 the KCL would probe the instance-metadata endpoint for each worker.
     */
    private static LeaseManagementConfig leaseManagement(ConfigsBuilder configs, long failoverMillis) {
        LeaseManagementConfig lease = configs.leaseManagementConfig()
                .failoverTimeMillis(failoverMillis)
                .leaseAssignmentIntervalMillis(Math.max(1000L, failoverMillis / 2))
                .shardSyncIntervalMillis(10_000L);
        lease.workerUtilizationAwareAssignmentConfig()
                .disableWorkerMetrics(true)
                .workerMetricsReporterFreqInMillis(2000L);
        return lease;
    }

    private static MetricsConfig metrics(ConfigsBuilder configs) {
        return configs.metricsConfig().metricsFactory(new NullMetricsFactory());
    }

    /** Polling, small batches (so a shard's records span several checkpoints), from the oldest record. */
    private static RetrievalConfig retrieval(ConfigsBuilder configs, String stream, KinesisAsyncClient kinesis) {
        return configs.retrievalConfig()
                .initialPositionInStreamExtended(InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON))
                .retrievalSpecificConfig(new PollingConfig(stream, kinesis).maxRecords(25).idleTimeBetweenReadsInMillis(250L));
    }
}
