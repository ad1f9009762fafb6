package io.sluice.node;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.runtime.Timings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.sluice.node.api.FrontEnd;
import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.IamBootstrap;
import io.sluice.node.api.IamService;
import io.sluice.node.api.StsService;
import io.sluice.node.auth.IdentityDirectory;
import io.sluice.node.auth.IdentityEntity;
import io.sluice.node.auth.RootCredentials;
import io.sluice.node.auth.SigV4Verifier;
import io.sluice.node.cluster.CassandraSchema;
import io.sluice.node.api.ClusterView;
import io.sluice.node.crypto.RootKey;
import io.sluice.node.kms.DataKeyCache;
import io.sluice.node.kms.KeyCatalog;
import io.sluice.node.kms.KeyChanged;
import io.sluice.node.kms.KeyDeletionSweeper;
import io.sluice.node.kms.KeyEntity;
import io.sluice.node.kms.KeyMaterialStore;
import io.sluice.node.kms.KeyRing;
import io.sluice.node.api.KinesisConsumers;
import io.sluice.node.api.KinesisFanOut;
import io.sluice.node.api.KinesisRecords;
import io.sluice.node.api.KinesisStreams;
import io.sluice.node.api.KmsService;
import io.sluice.node.api.DynamoDbService;
import io.sluice.node.runtime.JournalCleanup;
import io.sluice.node.table.TableCatalog;
import io.sluice.node.table.TableEntity;
import io.sluice.node.api.NodeAdmin;
import io.sluice.node.api.StreamTraffic;
import io.sluice.node.traffic.NodeTraffic;
import io.sluice.node.traffic.TrafficCounters;
import io.sluice.node.api.Operations;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamCrypto;
import io.sluice.node.stream.RetentionSweeper;
import io.sluice.node.shard.AppendBatcher;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardReader;
import io.sluice.node.stream.StreamCatalog;
import io.sluice.node.stream.StreamEntity;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import io.sluice.node.tls.ServerCertificate;
import io.sluice.node.tls.TlsPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Starts one Sluice node: applies the Cassandra schema, joins the Pekko cluster, starts the
 * sharded entities, and binds the HTTP front end. {@link #main} reads SLUICE_* environment
 * variables on top of {@code application.conf}; tests call {@link #start} with their own config.
 */
public final class SluiceNode {
    static {
        // With one or two CPUs the JDK sizes its common pool at parallelism 1, and CompletableFuture then
        // starts a new thread for every async callback: libraries (Pekko's Java ask, Scala's future
        // adapters) schedule some there. Two workers make that an ordinary pool (see Futures).
        String parallelism = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(parallelism) == null && Runtime.getRuntime().availableProcessors() <= 2) {
            System.setProperty(parallelism, "2");
        }
    }

    private static final Logger log = LoggerFactory.getLogger(SluiceNode.class);

    /**
     * A running node, for tests and the launcher.
     *
     * @param httpsBinding the HTTPS listener's binding, empty when {@code sluice.http.tls-port} is off
     * @param tlsCertificate the certificate that listener presents
     */
    public record Running(ActorSystem<Void> system, NodeSettings settings, RootCredentials credentials,
                          ServerBinding binding, Optional<ServerBinding> httpsBinding,
                          Optional<ServerCertificate> tlsCertificate) {
        public int httpPort() {
            return binding.localAddress().getPort();
        }

        /** @throws IllegalStateException if the node has no HTTPS listener */
        public int httpsPort() {
            return httpsBinding.orElseThrow(() -> new IllegalStateException("the HTTPS listener is off")).localAddress().getPort();
        }

        public void stop() {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("Node did not stop within 30 s", e);
            }
        }
    }

    /** The bound listeners: the plain one and, unless it is off, the HTTPS one. */
    private record Listeners(ServerBinding http, Optional<ServerBinding> https) {}

    public static void main(String[] args) throws Exception {
        // a node process ends with its actor system (e.g. when the Split Brain Resolver downs it), so a
        // supervisor (the local script, Kubernetes) sees it and starts it again
        Config overrides = ConfigFactory.parseMap(fromEnvironment(System.getenv()))
                .withFallback(ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on"));
        Running node = start(config(overrides), Clock.systemUTC());
        log.info("Sluice node up: http://{}:{}{}", node.settings().httpInterface(), node.httpPort(),
                node.httpsBinding().isPresent() ? " and https://" + node.settings().httpInterface() + ":" + node.httpsPort() : "");
        if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
            log.warn("The JVM's common pool has parallelism {}: asynchronous callbacks each start a thread; "
                    + "start the JVM with -Djava.util.concurrent.ForkJoinPool.common.parallelism=2",
                    java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
        }
        node.system().getWhenTerminated().toCompletableFuture().join();
        System.exit(0);
    }

    /**
     * The node's configuration: the given overrides on top of application.conf and the libraries'
     * reference.conf, resolved together so that overrides reach substitutions such as the keyspace.
     */
    public static Config config(Config overrides) {
        Config app = overrides.withFallback(ConfigFactory.defaultApplication());
        List<String> points = app.hasPath("sluice.cassandra.contact-points")
                ? app.getStringList("sluice.cassandra.contact-points") : List.of("127.0.0.1:9042");
        return ConfigFactory.load(ConfigFactory.parseMap(Map.of("datastax-java-driver.basic.contact-points", points))
                .withFallback(app));
    }

    /** Maps the documented SLUICE_* variables to configuration paths. */
    public static Map<String, Object> fromEnvironment(Map<String, String> env) {
        Map<String, Object> m = new HashMap<>();
        put(m, env, "SLUICE_HTTP_PORT", "sluice.http.port");
        put(m, env, "SLUICE_HTTP_INTERFACE", "sluice.http.interface");
        put(m, env, "SLUICE_TLS_PORT", "sluice.http.tls-port");
        put(m, env, "SLUICE_TLS_CERT", "sluice.http.tls.certificate");
        put(m, env, "SLUICE_TLS_KEY", "sluice.http.tls.private-key");
        put(m, env, "SLUICE_REGION", "sluice.region");
        put(m, env, "SLUICE_ACCOUNT_ID", "sluice.account-id");
        put(m, env, "SLUICE_DATA_DIR", "sluice.data-dir");
        put(m, env, "SLUICE_ROOT_ACCESS_KEY_ID", "sluice.root-access-key-id");
        put(m, env, "SLUICE_ROOT_SECRET_ACCESS_KEY", "sluice.root-secret-access-key");
        put(m, env, "SLUICE_ITERATOR_SECRET", "sluice.iterator-secret");
        put(m, env, "SLUICE_ROOT_KEY", "sluice.kms.root-key");
        put(m, env, "SLUICE_IAM_BOOTSTRAP", "sluice.iam.bootstrap-file");
        put(m, env, "SLUICE_CASSANDRA_KEYSPACE", "sluice.cassandra.keyspace");
        put(m, env, "SLUICE_WARMUP", "sluice.warmup.duration");
        put(m, env, "SLUICE_CLUSTER_HOST", "pekko.remote.artery.canonical.hostname");
        put(m, env, "SLUICE_CLUSTER_PORT", "pekko.remote.artery.canonical.port");
        String cassandra = env.get("SLUICE_CASSANDRA");
        if (cassandra != null && !cassandra.isBlank()) {
            m.put("sluice.cassandra.contact-points", List.of(cassandra.split(",")));
        }
        String seeds = env.get("SLUICE_SEED_NODES");
        if (seeds != null && !seeds.isBlank()) {
            List<String> addresses = new ArrayList<>();
            for (String s : seeds.split(",")) addresses.add("pekko://sluice@" + s.trim());
            m.put("pekko.cluster.seed-nodes", addresses);
        }
        return m;
    }

    private static void put(Map<String, Object> m, Map<String, String> env, String var, String path) {
        String v = env.get(var);
        if (v != null && !v.isBlank()) m.put(path, v);
    }

    public static Running start(Config config, Clock clock) throws Exception {
        Config resolved = config.resolve();
        NodeSettings settings = NodeSettings.from(resolved);
        RootCredentials credentials = RootCredentials.loadOrCreate(settings.dataDir(),
                resolved.getString("sluice.root-access-key-id"), resolved.getString("sluice.root-secret-access-key"),
                resolved.getString("sluice.iterator-secret"));
        // both redact their secrets (see Redaction): what an operator may read is what the node took
        log.info("Starting with {} and {}", settings, credentials);
        if (settings.applySchema()) {
            CassandraSchema.apply(settings, Duration.ofSeconds(90));
        }
        RootKey rootKey = settings.rootKey().isEmpty() ? RootKey.loadOrCreate(settings.dataDir())
                : RootKey.fromBase64(settings.rootKey());
        // the real time, not the node's clock: clients check the certificate against theirs
        Optional<ServerCertificate> certificate = settings.tlsEnabled()
                ? Optional.of(ServerCertificate.configured(settings.tlsCertificate(), settings.tlsPrivateKey(), settings.dataDir(),
                        java.time.Instant.now()))
                : Optional.empty();
        certificate.ifPresent(c -> log.info("{}", c.describe()));
        CompletableFuture<Listeners> bound = new CompletableFuture<>();
        ActorSystem<Void> system = ActorSystem.create(guardian(settings, credentials, rootKey, clock, certificate, bound),
                "sluice", resolved);
        try {
            Listeners listeners = bound.get(120, TimeUnit.SECONDS);
            return new Running(system, settings, credentials, listeners.http(), listeners.https(), certificate);
        } catch (Exception e) {
            system.terminate();
            throw e;
        }
    }

    private static Behavior<Void> guardian(NodeSettings settings, RootCredentials credentials, RootKey rootKey, Clock clock,
                                           Optional<ServerCertificate> certificate, CompletableFuture<Listeners> bound) {
        return Behaviors.setup(ctx -> {
            ActorSystem<Void> system = ctx.getSystem();
            Cluster cluster = Cluster.get(system);
            if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
                cluster.manager().tell(Join.create(cluster.selfMember().address()));
            }
            StreamCatalog.init(system);
            StreamEntity.init(system, settings, clock);
            ShardEntity.init(system, settings, clock);
            KeyMaterialStore keyMaterial = KeyMaterialStore.cassandra(system, settings.cassandraKeyspace());
            KeyEntity.init(system, settings, rootKey, clock, keyMaterial);
            KeyCatalog.init(system, settings.region(), clock);
            IdentityEntity.init(system);
            Config dynamodb = system.settings().config().getConfig("sluice.dynamodb");
            JournalCleanup tableCleanup = new JournalCleanup(system);
            java.time.Duration deleteDelay = dynamodb.getDuration("delete-delay");
            TableEntity.init(system, dynamodb.getInt("snapshot-every"), deleteDelay, tableCleanup::deleteAllReusable);
            TableCatalog.init(system);
            ClusterSingleton.get(system).init(SingletonActor.of(
                    Behaviors.supervise(RetentionSweeper.create(settings, clock)).onFailure(SupervisorStrategy.restart()),
                    "retention-sweeper"));
            Timings timings = Timings.get(system);
            var batcher = ctx.spawn(Behaviors.supervise(AppendBatcher.create(settings)).onFailure(SupervisorStrategy.restart()),
                    "append-batcher");
            IdentityDirectory identities = new IdentityDirectory(system, settings, rootKey, settings.identityRefresh());
            Authorizer authorizer = new Authorizer(identities);
            var keyChanges = ctx.spawn(KeyChanged.topic(), "key-changes");
            KeyRing keyRing = new KeyRing(system, settings, rootKey, keyMaterial, keyChanges);
            ClusterSingleton.get(system).init(SingletonActor.of(Behaviors.supervise(
                            KeyDeletionSweeper.create(keyRing, settings.accountId(), settings.keyDeletionSweepInterval(),
                                    settings.askTimeout()))
                    .onFailure(SupervisorStrategy.restart()), "key-deletion-sweeper"));
            var dataKeys = ctx.spawn(Behaviors.supervise(DataKeyCache.create(DataKeyCache.Limits.of(settings), keyRing, keyChanges))
                    .onFailure(SupervisorStrategy.restart()), "data-keys");
            StreamCrypto crypto = new StreamCrypto(keyRing, dataKeys, system, settings.askTimeout(), authorizer, settings.accountId());
            ShardReader reader = ShardReader.cassandra(system, settings.askTimeout(), settings.maxScanEvents());
            StreamDirectory streams = new StreamDirectory(system, settings);
            TrafficCounters traffic = new TrafficCounters();
            org.apache.pekko.actor.Address self = cluster.selfMember().address();
            NodeAdmin admin = new NodeAdmin(settings.region(), settings.accountId(),
                    self.getHost().orElse("local") + ":" + self.getPort().orElse(0), new ClusterView(system), () -> {
                long[] calls = crypto.kmsCalls();
                Map<String, Object> stats = new java.util.LinkedHashMap<>();
                stats.put("node", system.address().toString());
                stats.put("kmsGenerateDataKeyCallsForStreams", calls[0]);
                stats.put("kmsDecryptCallsForStreams", calls[1]);
                // what the traffic counters hold: streams and shards with traffic in the last hour
                stats.put("trafficCounters", Map.of("streams", traffic.streamCount(), "shards", traffic.shardCount()));
                stats.putAll(timings.snapshot());
                return stats;
            });
            ctx.spawn(Behaviors.supervise(NodeTraffic.create(traffic, clock,
                            system.settings().config().getDuration("sluice.traffic.sweep-interval")))
                    .onFailure(SupervisorStrategy.restart()), "traffic");
            StreamTraffic streamTraffic = new StreamTraffic(system, settings, clock, streams);
            Operations operations = new Operations(authorizer, List.of(
                    new KinesisStreams(system, settings, clock, streams, keyRing, streamTraffic::forget).operations(),
                    new KinesisConsumers(system, settings, clock, streams).operations(),
                    new KinesisRecords(system, settings, clock, streams, batcher, reader, credentials.iteratorSecret(), crypto,
                            traffic).operations(),
                    new KinesisFanOut(system, settings, clock, streams, reader, crypto,
                            KinesisFanOut.Limits.from(system.settings().config())).operations(),
                    new KmsService(system, settings, keyRing).operations(),
                    new IamService(system, settings, rootKey, identities, clock).operations(),
                    new StsService(settings, identities).operations(),
                    new DynamoDbService(system, settings.region(), settings.accountId(), settings.askTimeout(),
                            dynamodb.getInt("table-limit"), clock).operations(),
                    admin.operations(),
                    streamTraffic.operations()));
            String bootstrap = system.settings().config().getString("sluice.iam.bootstrap-file");
            CompletionStage<?> identitiesReady = bootstrap.isEmpty() ? CompletableFuture.completedFuture(null)
                    : IamBootstrap.apply(system, settings, rootKey, java.nio.file.Path.of(bootstrap), clock)
                            .thenCompose(s -> identities.refresh());
            SigV4Verifier verifier = SigV4Verifier.forAccount(settings.region(), settings.accountId(), credentials, identities,
                    settings.clockSkew());
            java.util.concurrent.atomic.AtomicBoolean warm = new java.util.concurrent.atomic.AtomicBoolean();
            FrontEnd frontEnd = new FrontEnd(verifier, operations, timings, warm::get,
                    FrontEnd.requestTimeout(system.settings().config()))
                    .withConsole(system.settings().config().getConfig("sluice.console"), clock,
                            id -> id.equals(credentials.accessKeyId()) || identities.activeKey(id).isPresent(),
                            settings.region(), certificate.isPresent() ? settings.tlsPort() : 0, settings.clockSkew());
            Route route = frontEnd.route();
            identitiesReady
                    .thenCompose(ready -> listen(system, settings.httpInterface(), settings.httpPort(), route, Optional.empty()))
                    .thenCompose(http -> certificate.isEmpty() ? CompletableFuture.completedFuture(new Listeners(http, Optional.empty()))
                            : listen(system, settings.httpInterface(), settings.tlsPort(), route,
                                    Optional.of(TlsPolicy.serverContext(certificate.get())))
                                    .thenApply(https -> new Listeners(http, Optional.of(https))))
                    .whenComplete((listeners, failure) -> {
                        if (failure != null) {
                            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                                    ? failure.getCause() : failure;
                            log.error("{}; stopping", cause.getMessage(), cause);
                            bound.completeExceptionally(cause);
                            system.terminate();
                        } else {
                            listeners.http().addToCoordinatedShutdown(Duration.ofSeconds(10), system);
                            listeners.https().ifPresent(https -> https.addToCoordinatedShutdown(Duration.ofSeconds(10), system));
                            bound.complete(listeners);
                            new Warmup(system, settings, credentials, batcher, reader)
                                    .run(listeners.http().localAddress().getPort(), settings.warmup())
                                    .whenComplete((done, failed) -> warm.set(true));
                        }
                    });
            return Behaviors.empty();
        });
    }

    /** Binds the front end's route on one port, with TLS when given; a failure says which listener it was. */
    private static CompletionStage<ServerBinding> listen(ActorSystem<Void> system, String host, int port, Route route,
                                                         Optional<HttpsConnectionContext> tls) {
        var server = Http.get(system).newServerAt(host, port);
        if (tls.isPresent()) server = server.enableHttps(tls.get());
        String what = tls.isPresent() ? "HTTPS" : "HTTP";
        return server.bind(route).handle((binding, failure) -> {
            if (failure != null) {
                throw new CompletionException(new IllegalStateException("Cannot bind " + what + " on " + host + ":" + port, failure));
            }
            return binding;
        });
    }
}
