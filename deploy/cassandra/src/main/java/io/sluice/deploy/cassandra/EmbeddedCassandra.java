package io.sluice.deploy.cassandra;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts a real Apache Cassandra 5.0 server (the {@code cassandra-all} artifact) in its own JVM,
 * because Cassandra's jars (Guava, Netty, Jackson, Logback, ...) conflict with the node's. The
 * server's classpath comes from the {@code cassandra.classpath} resource that the build writes next
 * to this class; config, data, commit log and {@code cassandra.log} all live under one data folder,
 * so a second start on the same folder finds the data again.
 *
 * <p>From Java: {@code try (var c = EmbeddedCassandra.start(dir, 9042, 7000, Duration.ofMinutes(2))) {...}}.
 * From scripts: {@code java -cp <this module's classes> io.sluice.deploy.cassandra.EmbeddedCassandra
 * start|stop|status --data-dir D ...}, which leaves the server running after the launcher exits.
 */
public final class EmbeddedCassandra implements AutoCloseable {

    /** Heap of the Cassandra JVM unless told otherwise (-Xms and -Xmx). */
    public static final String DEFAULT_HEAP = "1g";

    static final String MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon";
    static final String READY_MARKER = "Starting listening for CQL clients";
    static final String CLASSPATH_RESOURCE = "cassandra.classpath";
    static final String PID_FILE = "cassandra.pid";
    static final String JMX_PORT_FILE = "cassandra.jmx-port";
    static final String LOG_FILE = "cassandra.log";

    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /** Java 17 module flags from Cassandra 5.0's conf/jvm17-server.options (plus the few 11 also wanted). */
    private static final List<String> MODULE_FLAGS = List.of(
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
            "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
            "--add-exports", "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
            "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
            "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
            "--add-opens", "java.base/java.io=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens", "java.base/java.math=ALL-UNNAMED",
            "--add-opens", "java.base/java.net=ALL-UNNAMED",
            "--add-opens", "java.base/java.nio=ALL-UNNAMED",
            "--add-opens", "java.base/java.util=ALL-UNNAMED",
            "--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
            "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

    private final Process process;          // null when this launcher did not start it (CLI stop/status)
    private final ProcessHandle handle;
    private final Path dataDir;
    private final int cqlPort;
    private volatile Thread shutdownHook;

    private EmbeddedCassandra(Process process, ProcessHandle handle, Path dataDir, int cqlPort) {
        this.process = process;
        this.handle = handle;
        this.dataDir = dataDir;
        this.cqlPort = cqlPort;
    }

    /** Starts Cassandra with {@link #DEFAULT_HEAP}; see {@link #start(Path, int, int, Duration, String)}. */
    public static EmbeddedCassandra start(Path dataDir, int cqlPort, int storagePort, Duration timeout) throws IOException {
        return start(dataDir, cqlPort, storagePort, timeout, DEFAULT_HEAP);
    }

    /**
     * Writes {@code dataDir/conf/cassandra.yaml}, launches Cassandra on 127.0.0.1 and returns once it
     * accepts CQL connections on {@code cqlPort}. The server is stopped by {@link #stop()}, or when
     * this JVM exits. On failure (timeout, early exit) the server is killed and the exception
     * carries the tail of {@code dataDir/cassandra.log}.
     *
     * @param heap -Xms/-Xmx of the Cassandra JVM, such as {@code "1g"} or {@code "512m"}
     * @throws IllegalStateException if a Cassandra started from {@code dataDir} still runs, or a port is taken
     */
    public static EmbeddedCassandra start(Path dataDir, int cqlPort, int storagePort, Duration timeout, String heap)
            throws IOException {
        EmbeddedCassandra c = launch(dataDir, cqlPort, storagePort, timeout, heap, false);
        Thread hook = new Thread(c::stopOnExit, "embedded-cassandra-stop");
        c.shutdownHook = hook;
        try {
            Runtime.getRuntime().addShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            c.shutdownHook = null;
        }
        return c;
    }

    public long pid() {
        return handle.pid();
    }

    public int cqlPort() {
        return cqlPort;
    }

    /** The local JMX port of this instance (loopback only), for nodetool-style operations. */
    public int jmxPort() {
        try {
            return Integer.parseInt(Files.readString(dataDir.resolve(JMX_PORT_FILE), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            throw new IllegalStateException("no JMX port recorded in " + dataDir, e);
        }
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return dataDir.resolve(LOG_FILE);
    }

    public boolean isRunning() {
        return handle.isAlive();
    }

    /** SIGTERM (Cassandra drains and flushes), up to 30 s, then SIGKILL. Idempotent. */
    public synchronized void stop() {
        Thread hook = shutdownHook;
        shutdownHook = null;
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        terminate(handle, STOP_GRACE);
        if (process != null) {
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deletePidFileIfOurs(dataDir, handle.pid());
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "EmbeddedCassandra[pid=" + pid() + ", cql=127.0.0.1:" + cqlPort + ", dataDir=" + dataDir + "]";
    }

    private void stopOnExit() {
        terminate(handle, Duration.ofSeconds(20));
        deletePidFileIfOurs(dataDir, handle.pid());
    }

    // ------------------------------------------------------------------------------------------
    // launching

    private static EmbeddedCassandra launch(Path dataDirArg, int cqlPort, int storagePort, Duration timeout,
                                            String heap, boolean detached) throws IOException {
        Path dataDir = dataDirArg.toAbsolutePath().normalize();
        if (!heap.matches("[0-9]+[kKmMgG]?")) {
            throw new IllegalArgumentException("heap must look like 1g or 768m, was " + heap);
        }
        Optional<ProcessHandle> running = runningInstance(dataDir);
        if (running.isPresent()) {
            throw new IllegalStateException("Cassandra from " + dataDir + " already runs as pid " + running.get().pid());
        }
        for (int port : new int[] {cqlPort, storagePort}) {
            if (accepts(port, 300)) {
                throw new IllegalStateException("port 127.0.0.1:" + port + " is already in use");
            }
        }
        Path conf = dataDir.resolve("conf");
        for (String d : new String[] {"conf", "data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs"}) {
            Files.createDirectories(dataDir.resolve(d));
        }
        Path yaml = conf.resolve("cassandra.yaml");
        Files.writeString(yaml, cassandraYaml(dataDir, cqlPort, storagePort), StandardCharsets.UTF_8);
        Path logback = conf.resolve("logback.xml");
        Files.writeString(logback, LOGBACK_XML, StandardCharsets.UTF_8);

        List<String> classpath = cassandraClasspath();
        List<String> jvmArgs = new ArrayList<>();
        jvmArgs.add("-Xms" + heap);
        jvmArgs.add("-Xmx" + heap);
        jvmArgs.addAll(List.of(
                "-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled", "-XX:MaxTenuringThreshold=1",
                "-XX:G1RSetUpdatingPauseTimePercent=5", "-XX:MaxGCPauseMillis=300",
                "-XX:+PerfDisableSharedMem", "-XX:+ExitOnOutOfMemoryError"));
        jvmArgs.add("-Dcassandra.config=" + yaml.toUri());
        jvmArgs.add("-Dcassandra-foreground=yes");
        int jmxPort = freePort();
        jvmArgs.add("-Dcassandra.jmx.local.port=" + jmxPort);
        // for operators' and tests' nodetool-style calls (flush, garbage collection) on this instance
        Files.writeString(dataDir.resolve(JMX_PORT_FILE), Integer.toString(jmxPort), StandardCharsets.UTF_8);
        jvmArgs.add("-Dcassandra.storagedir=" + dataDir);
        jvmArgs.add("-Dcassandra.logdir=" + dataDir.resolve("logs"));
        // a single node has nobody to gossip with: don't wait the 5+ s for gossip to settle
        jvmArgs.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
        jvmArgs.add("-Dlogback.configurationFile=" + logback);
        jvmArgs.add("-Djava.net.preferIPv4Stack=true");
        jvmArgs.add("-Djdk.attach.allowAttachSelf=true");
        jvmArgs.add("-Dio.netty.tryReflectionSetAccessible=true");
        jvmArgs.add("-Dio.netty.allocator.useCacheForAllThreads=true");
        jvmArgs.add("-Dio.netty.allocator.maxOrder=11");
        classpath.stream().filter(p -> Path.of(p).getFileName().toString().matches("jamm-[0-9.]+\\.jar"))
                .findFirst().ifPresent(jamm -> jvmArgs.add("-javaagent:" + jamm));
        jvmArgs.addAll(MODULE_FLAGS);
        jvmArgs.add("-cp");
        jvmArgs.add(String.join(java.io.File.pathSeparator, classpath));
        // everything but the main class goes into an argument file: keeps `ps` readable
        Path argFile = conf.resolve("jvm.args");
        StringBuilder args = new StringBuilder();
        for (String a : jvmArgs) {
            args.append('"').append(a.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n");
        }
        Files.writeString(argFile, args, StandardCharsets.UTF_8);

        List<String> command = new ArrayList<>();
        if (detached) {
            // own session: Ctrl-C or a closed terminal of whoever ran the launcher doesn't reach Cassandra
            for (String setsid : new String[] {"/usr/bin/setsid", "/bin/setsid"}) {
                if (Files.isExecutable(Path.of(setsid))) {
                    command.add(setsid);
                    break;
                }
            }
        }
        command.add(javaExecutable());
        command.add("@" + argFile);
        command.add(MAIN_CLASS);

        Path log = dataDir.resolve(LOG_FILE);
        if (Files.exists(log)) {
            Files.move(log, dataDir.resolve(LOG_FILE + ".1"), StandardCopyOption.REPLACE_EXISTING);
        }
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("_JAVA_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        Process process = pb.start();
        process.getOutputStream().close();
        Files.writeString(dataDir.resolve(PID_FILE), process.pid() + "\n", StandardCharsets.UTF_8);
        EmbeddedCassandra c = new EmbeddedCassandra(process, process.toHandle(), dataDir, cqlPort);
        try {
            awaitCql(process, log, cqlPort, timeout);
            return c;
        } catch (IOException | RuntimeException e) {
            terminate(process.toHandle(), Duration.ofSeconds(5));
            deletePidFileIfOurs(dataDir, process.pid());
            throw e;
        }
    }

    /** Until the log says CQL listens and a TCP connect to it works; fails at once if the JVM exits. */
    private static void awaitCql(Process process, Path log, int cqlPort, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        LogScanner scanner = new LogScanner(log, READY_MARKER);
        while (true) {
            boolean ready = scanner.found() && accepts(cqlPort, 500);
            if (ready) {
                return;
            }
            if (!process.isAlive()) {
                throw new IOException("Cassandra exited with code " + process.exitValue() + " before CQL was up; "
                        + log + " ends with:\n" + tail(log, 60));
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("Cassandra did not open CQL on 127.0.0.1:" + cqlPort + " within " + timeout
                        + "; " + log + " ends with:\n" + tail(log, 60));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for Cassandra");
            }
        }
    }

    static String cassandraYaml(Path dataDir, int cqlPort, int storagePort) {
        return String.join("\n",
                "# written by " + EmbeddedCassandra.class.getName() + " on every start; edits are lost",
                "cluster_name: 'sluice'",
                "num_tokens: 1",
                "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
                "endpoint_snitch: SimpleSnitch",
                "commitlog_sync: periodic",
                "commitlog_sync_period: 10000ms",
                "# max_mutation_size defaults to half of this: mutations up to 32 MiB",
                "commitlog_segment_size: 64MiB",
                "data_file_directories:",
                "  - " + quote(dataDir.resolve("data")),
                "commitlog_directory: " + quote(dataDir.resolve("commitlog")),
                "saved_caches_directory: " + quote(dataDir.resolve("saved_caches")),
                "hints_directory: " + quote(dataDir.resolve("hints")),
                "cdc_raw_directory: " + quote(dataDir.resolve("cdc_raw")),
                "seed_provider:",
                "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
                "    parameters:",
                "      - seeds: \"127.0.0.1:" + storagePort + "\"",
                "listen_address: 127.0.0.1",
                "rpc_address: 127.0.0.1",
                "storage_port: " + storagePort,
                "start_native_transport: true",
                "native_transport_port: " + cqlPort,
                "native_transport_max_frame_size: 64MiB",
                "");
    }

    private static String quote(Path p) {
        return "'" + p.toString().replace("'", "''") + "'";
    }

    private static final String LOGBACK_XML = String.join("\n",
            "<configuration scan=\"false\">",
            "  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
            "    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>",
            "  </appender>",
            "  <root level=\"INFO\"><appender-ref ref=\"STDOUT\"/></root>",
            "</configuration>",
            "");

    static List<String> cassandraClasspath() throws IOException {
        String text;
        try (InputStream in = EmbeddedCassandra.class.getResourceAsStream(CLASSPATH_RESOURCE)) {
            if (in == null) {
                throw new IOException("resource io/sluice/deploy/cassandra/" + CLASSPATH_RESOURCE
                        + " is missing: build deploy/cassandra with Maven (mvn -pl deploy/cassandra install)");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        List<String> entries = new ArrayList<>();
        for (String e : text.split(java.io.File.pathSeparator)) {
            if (e.isBlank()) {
                continue;
            }
            if (!Files.exists(Path.of(e))) {
                throw new IOException("Cassandra classpath entry " + e + " does not exist: rebuild deploy/cassandra");
            }
            entries.add(e);
        }
        if (entries.stream().noneMatch(e -> Path.of(e).getFileName().toString().startsWith("cassandra-all-"))) {
            throw new IOException("cassandra-all is not on " + CLASSPATH_RESOURCE);
        }
        return entries;
    }

    static String javaExecutable() {
        Optional<String> self = ProcessHandle.current().info().command();
        if (self.isPresent() && Path.of(self.get()).getFileName().toString().matches("java(\\.exe)?")
                && Files.isExecutable(Path.of(self.get()))) {
            return self.get();
        }
        String javaHome = System.getenv("JAVA_HOME");
        if (javaHome != null && !javaHome.isBlank() && Files.isExecutable(Path.of(javaHome, "bin", "java"))) {
            return Path.of(javaHome, "bin", "java").toString();
        }
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    // ------------------------------------------------------------------------------------------
    // processes, ports, files

    /** The live Cassandra whose pid is in {@code dataDir/cassandra.pid}, if any. */
    static Optional<ProcessHandle> runningInstance(Path dataDir) {
        Path pidFile = dataDir.resolve(PID_FILE);
        long pid;
        try {
            pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).trim());
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(EmbeddedCassandra::isCassandra);
    }

    private static boolean isCassandra(ProcessHandle h) {
        Optional<String> cmd = h.info().commandLine();
        return cmd.isEmpty() || cmd.get().contains(MAIN_CLASS);  // no info: can't tell, trust the pid file
    }

    private static void terminate(ProcessHandle h, Duration grace) {
        if (!h.isAlive()) {
            return;
        }
        h.destroy();
        try {
            h.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            h.destroyForcibly();
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException ignored) {
                // nothing more to do
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        } catch (ExecutionException ignored) {
            // onExit does not fail
        } catch (InterruptedException e) {
            h.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void deletePidFileIfOurs(Path dataDir, long pid) {
        Path pidFile = dataDir.resolve(PID_FILE);
        try {
            if (Files.exists(pidFile) && Files.readString(pidFile, StandardCharsets.UTF_8).trim().equals(Long.toString(pid))) {
                Files.delete(pidFile);
            }
        } catch (IOException ignored) {
            // a stale pid file is harmless: the pid is checked before it is used
        }
    }

    static boolean accepts(int port, int timeoutMillis) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), timeoutMillis);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String tail(Path file, int lines) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            int n = (int) Math.min(len, 64 * 1024);
            byte[] buf = new byte[n];
            f.seek(len - n);
            f.readFully(buf);
            Deque<String> last = new ArrayDeque<>();
            for (String line : new String(buf, StandardCharsets.UTF_8).split("\n", -1)) {
                last.addLast(line);
                if (last.size() > lines) {
                    last.removeFirst();
                }
            }
            return String.join("\n", last);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** Reads a growing log incrementally, looking for one marker. */
    private static final class LogScanner {
        private final Path file;
        private final String marker;
        private long position;
        private String carry = "";
        private boolean found;

        LogScanner(Path file, String marker) {
            this.file = file;
            this.marker = marker;
        }

        boolean found() {
            if (found) {
                return true;
            }
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
                long len = f.length();
                if (len < position) {
                    position = 0;  // replaced
                }
                if (len == position) {
                    return false;
                }
                byte[] buf = new byte[(int) Math.min(len - position, 4 * 1024 * 1024)];
                f.seek(position);
                f.readFully(buf);
                position += buf.length;
                String text = carry + new String(buf, StandardCharsets.ISO_8859_1);
                found = text.contains(marker);
                carry = text.substring(Math.max(0, text.length() - marker.length()));
                return found;
            } catch (IOException e) {
                return false;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // command line

    /**
     * {@code start --data-dir D --cql-port P --storage-port S [--heap 1g] [--timeout SECONDS]}: starts
     * Cassandra detached (it outlives this JVM), writes {@code D/cassandra.pid}, waits for CQL and prints
     * {@code cassandra up pid=<pid> cql=127.0.0.1:<port>}; if it already runs, waits for its CQL and says so.
     * {@code stop --data-dir D}: SIGTERM, up to 30 s, then SIGKILL.
     * {@code status --data-dir D}: exit 0 when it runs, 3 when not.
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(USAGE);
            return 2;
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) {
                err.println("bad argument " + a + "\n" + USAGE);
                return 2;
            }
            opts.put(a.substring(2), args[++i]);
        }
        try {
            String dir = opts.get("data-dir");
            if (dir == null) {
                err.println("--data-dir is required\n" + USAGE);
                return 2;
            }
            Path dataDir = Path.of(dir).toAbsolutePath().normalize();
            switch (args[0]) {
                case "start":
                    return cliStart(dataDir, opts, out, err);
                case "stop":
                    return cliStop(dataDir, out);
                case "status":
                    return cliStatus(dataDir, out);
                default:
                    err.println("unknown command " + args[0] + "\n" + USAGE);
                    return 2;
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage() + "\n" + USAGE);
            return 2;
        } catch (IOException | IllegalStateException | UncheckedIOException e) {
            err.println("cassandra: " + e.getMessage());
            return 1;
        }
    }

    private static final String USAGE = String.join("\n",
            "usage: EmbeddedCassandra start  --data-dir D --cql-port P --storage-port S [--heap 1g] [--timeout 180]",
            "       EmbeddedCassandra stop   --data-dir D",
            "       EmbeddedCassandra status --data-dir D");

    private static int cliStart(Path dataDir, Map<String, String> opts, PrintStream out, PrintStream err)
            throws IOException {
        Duration timeout = Duration.ofSeconds(Long.parseLong(opts.getOrDefault("timeout", "180")));
        Optional<ProcessHandle> running = runningInstance(dataDir);
        if (running.isPresent()) {
            int port = configuredCqlPort(dataDir);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!accepts(port, 500)) {
                if (!running.get().isAlive() || System.nanoTime() > deadline) {
                    err.println("cassandra: pid " + running.get().pid() + " runs but CQL on 127.0.0.1:" + port
                            + " does not answer; " + dataDir.resolve(LOG_FILE) + " ends with:\n"
                            + tail(dataDir.resolve(LOG_FILE), 40));
                    return 1;
                }
                sleepQuietly(200);
            }
            out.println("cassandra already running pid=" + running.get().pid() + " cql=127.0.0.1:" + port);
            return 0;
        }
        int cqlPort = intOption(opts, "cql-port");
        int storagePort = intOption(opts, "storage-port");
        String heap = opts.getOrDefault("heap", DEFAULT_HEAP);
        long t0 = System.nanoTime();
        EmbeddedCassandra c = launch(dataDir, cqlPort, storagePort, timeout, heap, true);
        out.printf("cassandra up pid=%d cql=127.0.0.1:%d (%.1f s, log %s)%n", c.pid(), cqlPort,
                (System.nanoTime() - t0) / 1e9, c.logFile());
        return 0;
    }

    private static int cliStop(Path dataDir, PrintStream out) {
        Optional<ProcessHandle> running = runningInstance(dataDir);
        if (running.isEmpty()) {
            try {
                Files.deleteIfExists(dataDir.resolve(PID_FILE));
            } catch (IOException ignored) {
                // stale anyway
            }
            out.println("cassandra not running");
            return 0;
        }
        ProcessHandle h = running.get();
        terminate(h, STOP_GRACE);
        deletePidFileIfOurs(dataDir, h.pid());
        out.println(h.isAlive() ? "cassandra pid=" + h.pid() + " did not stop" : "cassandra stopped pid=" + h.pid());
        return h.isAlive() ? 1 : 0;
    }

    private static int cliStatus(Path dataDir, PrintStream out) {
        Optional<ProcessHandle> running = runningInstance(dataDir);
        if (running.isEmpty()) {
            out.println("cassandra not running");
            return 3;
        }
        int port = configuredCqlPort(dataDir);
        out.println("cassandra running pid=" + running.get().pid() + " cql=127.0.0.1:" + port
                + (port > 0 && accepts(port, 500) ? " (accepting)" : " (not accepting CQL yet)"));
        return 0;
    }

    private static int configuredCqlPort(Path dataDir) {
        try {
            for (String line : Files.readAllLines(dataDir.resolve("conf").resolve("cassandra.yaml"))) {
                if (line.startsWith("native_transport_port:")) {
                    return Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // fall through
        }
        return -1;
    }

    private static int intOption(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, was " + v);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
