package io.sluice.node.kcl;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link KplProducer} in a JVM of its own: the test class path with protobuf-java 3.25.5 (copied to
 * {@code target/kpl-lib} by the build) in place of the 4.x the KCL needs. Its output goes to a file of the
 * test's directory; {@link #close()} ends it and its children (the KPL's native {@code kinesis_producer}).
 */
public final class ProducerProcess implements AutoCloseable {
    static final String PROTOBUF_3 = "protobuf-java-3.25.5.jar";
    private static final Pattern RESULT = Pattern.compile(
            KplProducer.RESULT + " records=(\\d+) failures=(\\d+) seconds=([0-9.]+)");

    /** What the producer printed: records written, records failed, seconds from the first to the last result. */
    public record Result(int records, int failures, double seconds) {}

    public final Path output;
    private final Process process;

    private ProducerProcess(Path output, Process process) {
        this.output = output;
        this.process = process;
    }

    /** Starts writing {@code records} records to the stream at the node's HTTPS port, signing with the credentials. */
    public static ProducerProcess start(Path dir, String host, int httpsPort, String stream, int records,
                                        String accessKeyId, String secretKey) throws IOException {
        Path output = dir.resolve("kpl-producer.log");
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = List.of(java, "-Xmx512m", "-XX:+UseSerialGC", "-cp", classPath(),
                "-Dkpl.host=" + host, "-Dkpl.port=" + httpsPort, "-Dkpl.stream=" + stream, "-Dkpl.records=" + records,
                KplProducer.class.getName());
        ProcessBuilder pb = new ProcessBuilder(command);
        // credentials through the environment, not the command line that any process may read
        pb.environment().put("AWS_ACCESS_KEY_ID", accessKeyId);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
        // no instance-metadata lookups from the KPL's native daemon (it has its credentials and region)
        pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
        pb.environment().put("AWS_JAVA_V1_DISABLE_DEPRECATION_ANNOUNCEMENT", "true");
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
        return new ProducerProcess(output, pb.start());
    }

    /** The test class path, its protobuf-java 4.x replaced by {@value #PROTOBUF_3} from target/kpl-lib. */
    static String classPath() {
        List<String> entries = new ArrayList<>(List.of(WorkerProcess.testClassPath().split(File.pathSeparator)));
        Path testClasses = entries.stream().map(Path::of).filter(p -> p.endsWith(Path.of("target", "test-classes")))
                .findFirst().orElseThrow(() -> new IllegalStateException("no target/test-classes on the class path"));
        Path protobuf3 = testClasses.getParent().resolve("kpl-lib").resolve(PROTOBUF_3);
        if (!Files.isRegularFile(protobuf3)) {
            throw new IllegalStateException(protobuf3 + " is missing: the build copies it (maven-dependency-plugin, kpl-protobuf)");
        }
        int replaced = 0;
        for (int i = 0; i < entries.size(); i++) {
            if (Path.of(entries.get(i)).getFileName().toString().matches("protobuf-java-4\\..*\\.jar")) {
                entries.set(i, protobuf3.toString());
                replaced++;
            }
        }
        if (replaced != 1) throw new IllegalStateException(replaced + " protobuf-java 4.x jars on the test class path, expected one");
        return String.join(File.pathSeparator, entries);
    }

    /**
     * Waits for the producer to exit and reads its result line.
     *
     * @throws IllegalStateException if it did not exit in time, or exited without a result line
     */
    public Result await(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("the KPL producer did not finish in " + timeout + ":\n" + tail(30));
        }
        try {
            for (String line : Files.readAllLines(output)) {
                Matcher m = RESULT.matcher(line);
                if (m.find()) {
                    return new Result(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Double.parseDouble(m.group(3)));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("the KPL producer's output " + output + " is unreadable", e);
        }
        throw new IllegalStateException("the KPL producer exited " + process.exitValue() + " without a result:\n" + tail(30));
    }

    public int exitValue() {
        return process.exitValue();
    }

    /** The last lines of the producer's output, stack frames left out, for an assertion message. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(output).stream().filter(l -> !l.stripLeading().startsWith("at ")).toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no output)";
        }
    }

    /** SIGKILL to the producer and its descendants (the KPL's native daemon would outlive its JVM otherwise). */
    @Override
    public void close() throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : tree) {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("KPL process " + p.pid() + " survived SIGKILL", e);
            }
        }
    }
}
