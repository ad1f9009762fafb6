package io.sluice.node.kcl;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What a KCL worker process did, one tab-separated line per event, appended to a file of its own: the worker
 * writes it, the test reads it back. A batch's lines are flushed before its checkpoint is written, so a worker
 * killed with SIGKILL has logged every record that its checkpoints cover.
 */
public final class ProcessedLog implements AutoCloseable {

    /** One line of the log. */
    public sealed interface Event permits Initialized, Processed, Checkpointed, LeaseLost, ShardEnded {
        String shardId();

        /** The fields of its line, the tag first. */
        List<String> fields();
    }

    /** A processor started on a shard, from this checkpoint (a sequence number or a sentinel such as TRIM_HORIZON). */
    public record Initialized(String shardId, String checkpoint) implements Event {
        public List<String> fields() {
            return List.of("INITIALIZED", shardId, checkpoint);
        }
    }

    public record Processed(String shardId, String sequenceNumber, String partitionKey, byte[] data, String encryptionType)
            implements Event {
        public List<String> fields() {
            return List.of("PROCESSED", shardId, sequenceNumber, partitionKey, Base64.getEncoder().encodeToString(data),
                    encryptionType);
        }
    }

    /** A checkpoint stored: a batch's last sequence number, or {@code SHARD_END} once the shard's end was reached. */
    public record Checkpointed(String shardId, String sequenceNumber) implements Event {
        public List<String> fields() {
            return List.of("CHECKPOINTED", shardId, sequenceNumber);
        }
    }

    public record LeaseLost(String shardId) implements Event {
        public List<String> fields() {
            return List.of("LEASE_LOST", shardId);
        }
    }

    public record ShardEnded(String shardId) implements Event {
        public List<String> fields() {
            return List.of("SHARD_ENDED", shardId);
        }
    }

    private final BufferedWriter out;

    private ProcessedLog(BufferedWriter out) {
        this.out = out;
    }

    public static ProcessedLog appendingTo(Path file) {
        try {
            return new ProcessedLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the events as one flush: processors run on several threads, and their lines must not interleave. */
    public synchronized void write(List<? extends Event> events) {
        try {
            for (Event e : events) {
                out.write(String.join("\t", e.fields()));
                out.newLine();
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void write(Event event) {
        write(List.of(event));
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    static Event parse(String line) {
        String[] f = line.split("\t", -1);
        return switch (f[0]) {
            case "INITIALIZED" -> new Initialized(f[1], f[2]);
            case "PROCESSED" -> new Processed(f[1], f[2], f[3], Base64.getDecoder().decode(f[4]), f[5]);
            case "CHECKPOINTED" -> new Checkpointed(f[1], f[2]);
            case "LEASE_LOST" -> new LeaseLost(f[1]);
            case "SHARD_ENDED" -> new ShardEnded(f[1]);
            default -> throw new IllegalArgumentException("not a processed-log line: " + line);
        };
    }

    /**
     * The events of a log so far. A worker killed mid-write leaves at most a partial last line, which is
     * dropped: its batch was not checkpointed, so it is processed again elsewhere.
     */
    public static List<Event> read(Path file) {
        List<Event> events = new ArrayList<>();
        if (!Files.exists(file)) return events;
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length - 1; i++) { // the last piece is "" or an unfinished line
                if (!lines[i].isEmpty()) events.add(parse(lines[i]));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return events;
    }
}
