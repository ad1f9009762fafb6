package io.sluice.node.kcl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchAsyncClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbAsyncClient;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClientBuilder;
import software.amazon.kinesis.common.ConfigsBuilder;
import software.amazon.kinesis.common.InitialPositionInStream;
import software.amazon.kinesis.common.InitialPositionInStreamExtended;
import software.amazon.kinesis.common.KinesisClientUtil;
import software.amazon.kinesis.common.DdbTableConfig;
import software.amazon.kinesis.coordinator.CoordinatorConfig;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.leases.LeaseManagementConfig;
import software.amazon.kinesis.metrics.MetricsConfig;
import software.amazon.kinesis.metrics.NullMetricsFactory;
import software.amazon.kinesis.retrieval.RetrievalConfig;
import software.amazon.kinesis.retrieval.polling.PollingConfig;

import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
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

    /**
     * Where and how to run. Two switches exist to try one half of Sluice before the other is served:
     * {@code kcl.dynamodb-endpoint} sends the DynamoDB calls elsewhere (a reference implementation, say), and
     * {@code kcl.kinesis-http1=true} replaces the documented HTTP/2 Kinesis client with an HTTP/1.1 one;
     * {@code kcl.provisioned-tables=true} creates the KCL's tables with provisioned capacity, for a DynamoDB
     * that has no on-demand indexes.
     */
    record Settings(URI endpoint, URI dynamoDbEndpoint, boolean kinesisHttp1, boolean provisionedTables, String stream,
                    String application, String workerId, Path log, long failoverMillis, boolean fanOut) {
        static final Set<String> SWITCHES = Set.of(
                "kcl.dynamodb-endpoint", "kcl.kinesis-http1", "kcl.provisioned-tables", "kcl.failover-millis", "kcl.retrieval");

        static Settings fromSystemProperties() {
            URI endpoint = URI.create(required("kcl.endpoint"));
            return new Settings(endpoint, URI.create(System.getProperty("kcl.dynamodb-endpoint", endpoint.toString())),
                    Boolean.getBoolean("kcl.kinesis-http1"), Boolean.getBoolean("kcl.provisioned-tables"),
                    required("kcl.stream"), required("kcl.application"),
                    required("kcl.worker"), Path.of(required("kcl.log")),
                    Long.parseLong(System.getProperty("kcl.failover-millis", "5000")),
                    "fanout".equals(System.getProperty("kcl.retrieval", "polling")));
        }

        static boolean isSwitch(String systemProperty) {
            return SWITCHES.contains(systemProperty);
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
        KinesisAsyncClientBuilder kinesisBuilder = KinesisAsyncClient.builder()
                .endpointOverride(settings.endpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
                .overrideConfiguration(c -> c.addExecutionInterceptor(new CallLog()));
        KinesisAsyncClient kinesis = settings.kinesisHttp1()
                ? kinesisBuilder.httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1)).build()
                : KinesisClientUtil.createKinesisAsyncClient(kinesisBuilder);
        DynamoDbAsyncClient dynamo = DynamoDbAsyncClient.builder()
                .endpointOverride(settings.dynamoDbEndpoint()).region(Region.US_EAST_1).credentialsProvider(credentials)
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
                coordinator(configs, settings.provisionedTables()),
                leaseManagement(configs, settings),
                configs.lifecycleConfig(),
                metrics(configs),
                configs.processorConfig(),
                retrieval(configs, settings, kinesis));

        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping.set(true);
            try {
                scheduler.startGracefulShutdown().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("graceful shutdown did not finish", e);
            }
        }, "kcl-worker-shutdown"));

        log.info("KCL worker {} starting: {}", settings.workerId(), settings);
        scheduler.run(); // returns when the scheduler shuts down
        if (!stopping.get()) {
            log.error("KCL worker {}: the scheduler stopped by itself", settings.workerId());
            System.exit(SCHEDULER_STOPPED); // the SDK's Netty threads would keep the JVM alive
        }
    }

    /**
     * Short lease timings: a lease not renewed for {@code failoverMillis} is expired, the leader assigns leases
     * every {@code failoverMillis / 2} (at least a second), and a worker whose metrics are two reports old is dead.
     * The shard-sync "interval" is in fact the KCL's pause after each shard sync, its start-up's included.
     * Worker metrics are off: off EC2 the KCL would probe the instance-metadata endpoint for each worker.
     */
    private static LeaseManagementConfig leaseManagement(ConfigsBuilder configs, Settings settings) {
        long failoverMillis = settings.failoverMillis();
        LeaseManagementConfig lease = configs.leaseManagementConfig()
                .failoverTimeMillis(failoverMillis)
                .leaseAssignmentIntervalMillis(Math.max(1000L, failoverMillis / 2))
                .shardSyncIntervalMillis(1000L);
        lease.workerUtilizationAwareAssignmentConfig()
                .disableWorkerMetrics(true)
                .workerMetricsReporterFreqInMillis(2000L);
        if (settings.provisionedTables()) {
            lease.billingMode(BillingMode.PROVISIONED);
            provisioned(lease.workerUtilizationAwareAssignmentConfig().workerMetricsTableConfig());
        }
        return lease;
    }

    /** A child shard's processor checks every second (not ten) whether its parents have reached their ends. */
    private static CoordinatorConfig coordinator(ConfigsBuilder configs, boolean provisionedTables) {
        CoordinatorConfig coordinator = configs.coordinatorConfig().parentShardPollIntervalMillis(1000L);
        if (provisionedTables) provisioned(coordinator.coordinatorStateTableConfig());
        return coordinator;
    }

    private static void provisioned(DdbTableConfig table) {
        table.billingMode(BillingMode.PROVISIONED).readCapacity(10).writeCapacity(10);
    }

    private static MetricsConfig metrics(ConfigsBuilder configs) {
        return configs.metricsConfig().metricsFactory(new NullMetricsFactory());
    }

    /**
     * From the oldest record. With {@code kcl.retrieval=fanout}, the KCL's default retrieval: enhanced fan-out (it
     * registers a consumer named after the application and subscribes to each shard); otherwise polling in small
     * batches, so that a shard's records span several checkpoints.
     */
    private static RetrievalConfig retrieval(ConfigsBuilder configs, Settings settings, KinesisAsyncClient kinesis) {
        RetrievalConfig retrieval = configs.retrievalConfig()
                .initialPositionInStreamExtended(InitialPositionInStreamExtended.newInitialPosition(InitialPositionInStream.TRIM_HORIZON));
        if (settings.fanOut()) return retrieval;
        return retrieval.retrievalSpecificConfig(new PollingConfig(settings.stream(), kinesis).maxRecords(25)
                .idleTimeBetweenReadsInMillis(250L));
    }
}
