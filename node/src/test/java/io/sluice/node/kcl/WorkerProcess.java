package io.sluice.node.kcl;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link KclWorker} in a JVM of its own, on the test's class path, with its KCL log and its
 * {@link ProcessedLog} in a directory of the test's.
 */
public final class WorkerProcess implements AutoCloseable {
    public final String workerId;
    public final Path processedLog;
    public final Path output;
    private final Process process;

    private WorkerProcess(String workerId, Path processedLog, Path output, Process process) {
        this.workerId = workerId;
        this.processedLog = processedLog;
        this.output = output;
        this.process = process;
    }

    /** Starts a worker of the given application on the stream, signing with the given credentials. */
    public static WorkerProcess start(Path dir, String workerId, URI endpoint, String stream, String application,
                                      String accessKeyId, String secretKey) throws IOException {
        return start(dir, workerId, endpoint, stream, application, accessKeyId, secretKey, List.of());
    }

    /** @param switches more of the worker's settings ({@code kcl.retrieval=fanout}, say), as {@code name=value} */
    public static WorkerProcess start(Path dir, String workerId, URI endpoint, String stream, String application,
                                      String accessKeyId, String secretKey, List<String> switches) throws IOException {
        Path processed = dir.resolve(workerId + ".processed");
        Path output = dir.resolve(workerId + ".log");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", testClassPath(),
                "-Dkcl.endpoint=" + endpoint, "-Dkcl.stream=" + stream, "-Dkcl.application=" + application,
                "-Dkcl.worker=" + workerId, "-Dkcl.log=" + processed));
        // the worker's switches (see KclWorker.Settings), given to the test run as -Dkcl.…=…
        System.getProperties().stringPropertyNames().stream().filter(KclWorker.Settings::isSwitch).sorted()
                .forEach(name -> command.add("-D" + name + "=" + System.getProperty(name)));
        switches.forEach(sw -> command.add("-D" + sw));
        command.add(KclWorker.class.getName());
        ProcessBuilder pb = new ProcessBuilder(command);
        // credentials through the environment, not the command line that any process may read
        pb.environment().put("AWS_ACCESS_KEY_ID", accessKeyId);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
        pb.environment().put("AWS_REGION", "us-east-1");
        pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        return new WorkerProcess(workerId, processed, output, pb.start());
    }

    /** Surefire names the whole test class path here; java.class.path may be its one-entry booter jar. */
    static String testClassPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: {@link Process#destroyForcibly()} sends it on Unix, so the worker gets no chance to clean up. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) throw new IllegalStateException(workerId + " survived SIGKILL");
    }

    /**
     * SIGTERM, as a service manager stops an application: the worker's shutdown hook shuts the KCL down
     * gracefully (its processors checkpoint, the leader lock is released). Killed if it has not exited in time.
     */
    public void stop(Duration timeout) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
            throw new IllegalStateException(workerId + " did not stop within " + timeout + " of SIGTERM\n" + tail(40));
        }
    }

    public List<ProcessedLog.Event> events() {
        return ProcessedLog.read(processedLog);
    }

    /** The last lines of the worker's own log, stack frames left out, for an assertion message. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(output).stream().filter(l -> !l.stripLeading().startsWith("at ")).toList();
            return workerId + (process.isAlive() ? " (running)" : " (exited " + process.exitValue() + ")") + ":\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return workerId + ": (no log)";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) kill();
    }
}
