package io.sluice.deploy.cassandra;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts the real server twice on one data folder: the CQL port answers, a 20 MiB mutation (over
 * Cassandra's default 16 MiB limits) is accepted, and the row is there after a stop and a restart.
 * Talks CQL through a tiny native-protocol v4 client below, so that no driver's jars get mixed
 * into this module's dependency resolution.
 */
class EmbeddedCassandraTest {

    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    @Test
    @Timeout(180)
    void startsStopsAndStartsAgainOnTheSameData() throws Exception {
        int cqlPort = EmbeddedCassandra.freePort();
        int storagePort = EmbeddedCassandra.freePort();
        byte[] big = new byte[20 * 1024 * 1024];
        new Random(42).nextBytes(big);

        EmbeddedCassandra first = EmbeddedCassandra.start(dir, cqlPort, storagePort, START_TIMEOUT);
        try {
            assertTrue(first.isRunning());
            assertEquals(cqlPort, first.cqlPort());
            assertTrue(EmbeddedCassandra.accepts(cqlPort, 1000), "CQL port accepts TCP");
            assertEquals(Long.toString(first.pid()), Files.readString(dir.resolve("cassandra.pid")).trim());
            assertTrue(Files.exists(dir.resolve("conf/cassandra.yaml")));
            // one server per data folder
            assertThrows(IllegalStateException.class, () -> EmbeddedCassandra.start(dir,
                    EmbeddedCassandra.freePort(), EmbeddedCassandra.freePort(), START_TIMEOUT));

            try (Cql cql = Cql.connect(cqlPort)) {
                cql.query("CREATE KEYSPACE sluice_test WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
                cql.query("CREATE TABLE sluice_test.kv (k text PRIMARY KEY, v blob)");
                byte[] insert = cql.prepare("INSERT INTO sluice_test.kv (k, v) VALUES (?, ?)");
                cql.execute(insert, "small".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
                cql.execute(insert, "big".getBytes(StandardCharsets.UTF_8), big);
            }
        } finally {
            first.stop();
        }
        assertFalse(first.isRunning());
        assertFalse(Files.exists(dir.resolve("cassandra.pid")));
        assertFalse(EmbeddedCassandra.accepts(cqlPort, 500));
        first.stop(); // idempotent

        try (EmbeddedCassandra second = EmbeddedCassandra.start(dir, cqlPort, storagePort, START_TIMEOUT)) {
            assertTrue(second.pid() != first.pid());
            try (Cql cql = Cql.connect(cqlPort)) {
                List<List<byte[]>> small = cql.query("SELECT v FROM sluice_test.kv WHERE k = 'small'");
                assertEquals(1, small.size());
                assertArrayEquals(new byte[] {1, 2, 3}, small.get(0).get(0));
                List<List<byte[]>> rows = cql.query("SELECT v FROM sluice_test.kv WHERE k = 'big'");
                assertEquals(1, rows.size());
                assertArrayEquals(big, rows.get(0).get(0));
            }
        }
        assertFalse(Files.exists(dir.resolve("cassandra.pid")));
    }

    @Test
    void refusesAPortThatIsTaken() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThrows(IllegalStateException.class, () -> EmbeddedCassandra.start(dir.resolve("x"),
                    taken.getLocalPort(), EmbeddedCassandra.freePort(), START_TIMEOUT));
        }
    }

    @Test
    void writesTheConfigurationAskedFor() {
        String yaml = EmbeddedCassandra.cassandraYaml(Path.of("/d"), 9142, 7100);
        assertTrue(yaml.contains("native_transport_port: 9142\n"));
        assertTrue(yaml.contains("storage_port: 7100\n"));
        assertTrue(yaml.contains("- seeds: \"127.0.0.1:7100\""));
        assertTrue(yaml.contains("commitlog_segment_size: 64MiB\n"));
        assertTrue(yaml.contains("commitlog_directory: '/d/commitlog'\n"));
    }

    /** Just enough of the CQL native protocol v4 for this test: STARTUP, QUERY, PREPARE, EXECUTE. */
    private static final class Cql implements Closeable {
        private static final int ERROR = 0x00, STARTUP = 0x01, READY = 0x02, QUERY = 0x07, RESULT = 0x08,
                PREPARE = 0x09, EXECUTE = 0x0A;
        private static final short ONE = 0x0001;

        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;

        private Cql(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
            this.out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
        }

        static Cql connect(int port) throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(60_000);
            Cql cql = new Cql(s);
            Body body = new Body();
            body.shortInt(1).string("CQL_VERSION").string("3.0.0");
            ByteBuffer reply = cql.request(STARTUP, body, READY);
            assertEquals(0, reply.remaining());
            return cql;
        }

        List<List<byte[]>> query(String statement) throws IOException {
            Body body = new Body().longString(statement).shortInt(ONE).oneByte(0);
            return rows(request(QUERY, body, RESULT));
        }

        byte[] prepare(String statement) throws IOException {
            ByteBuffer reply = request(PREPARE, new Body().longString(statement), RESULT);
            assertEquals(4, reply.getInt(), "Prepared");
            byte[] id = new byte[reply.getShort()];
            reply.get(id);
            return id;
        }

        void execute(byte[] id, byte[]... values) throws IOException {
            Body body = new Body().shortInt(id.length).bytes(id).shortInt(ONE).oneByte(0x01).shortInt(values.length);
            for (byte[] v : values) {
                body.integer(v.length).bytes(v);
            }
            ByteBuffer reply = request(EXECUTE, body, RESULT);
            assertEquals(1, reply.getInt(), "Void");
        }

        private ByteBuffer request(int opcode, Body body, int expected) throws IOException {
            byte[] payload = body.toByteArray();
            out.writeByte(0x04);      // version 4, request
            out.writeByte(0);         // flags
            out.writeShort(0);        // stream
            out.writeByte(opcode);
            out.writeInt(payload.length);
            out.write(payload);
            out.flush();
            int version = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            in.readShort();
            int op = in.readUnsignedByte();
            byte[] reply = new byte[in.readInt()];
            in.readFully(reply);
            assertEquals(0x84, version);
            ByteBuffer b = ByteBuffer.wrap(reply);
            if ((flags & 0x02) != 0) {
                b.position(b.position() + 16);   // tracing id
            }
            if ((flags & 0x08) != 0) {            // warnings
                int n = b.getShort();
                for (int i = 0; i < n; i++) {
                    string(b);
                }
            }
            if (op == ERROR) {
                int code = b.getInt();
                throw new IOException("CQL error 0x" + Integer.toHexString(code) + ": " + string(b));
            }
            assertEquals(expected, op, "opcode");
            return b;
        }

        private static List<List<byte[]>> rows(ByteBuffer b) {
            int kind = b.getInt();
            List<List<byte[]>> rows = new ArrayList<>();
            if (kind != 2) {
                return rows;                      // Void, Set_keyspace, Schema_change
            }
            int flags = b.getInt();
            int columns = b.getInt();
            if ((flags & 0x0002) != 0) {          // paging state
                int n = b.getInt();
                b.position(b.position() + Math.max(n, 0));
            }
            if ((flags & 0x0004) == 0) {          // column specs follow
                boolean global = (flags & 0x0001) != 0;
                if (global) {
                    string(b);
                    string(b);
                }
                for (int i = 0; i < columns; i++) {
                    if (!global) {
                        string(b);
                        string(b);
                    }
                    string(b);
                    int type = b.getShort();
                    assertTrue(type > 0 && type < 0x20, "simple column types only");
                }
            }
            int count = b.getInt();
            for (int r = 0; r < count; r++) {
                List<byte[]> row = new ArrayList<>();
                for (int c = 0; c < columns; c++) {
                    int n = b.getInt();
                    byte[] v = n < 0 ? null : new byte[n];
                    if (v != null) {
                        b.get(v);
                    }
                    row.add(v);
                }
                rows.add(row);
            }
            return rows;
        }

        private static String string(ByteBuffer b) {
            byte[] s = new byte[b.getShort() & 0xFFFF];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static final class Body {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final DataOutputStream out = new DataOutputStream(bytes);

        Body oneByte(int v) throws IOException {
            out.writeByte(v);
            return this;
        }

        Body shortInt(int v) throws IOException {
            out.writeShort(v);
            return this;
        }

        Body integer(int v) throws IOException {
            out.writeInt(v);
            return this;
        }

        Body bytes(byte[] v) throws IOException {
            out.write(v);
            return this;
        }

        Body string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return shortInt(b.length).bytes(b);
        }

        Body longString(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return integer(b.length).bytes(b);
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }
    }
}
