package io.sluice.protocol.codec;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The event-stream codec: generated messages with every header type survive a round trip however the
 * bytes are cut into chunks; the layout matches the framing AWS documents, checked byte by byte on one
 * message; and any corruption of a frame (a flipped bit anywhere, a cut, wrong lengths) is refused.
 */
class EventStreamTest {
    private static final long SEED = Long.getLong("sluice.seed", System.nanoTime());

    @Test
    void generatedMessagesRoundTripAcrossAnyChunking() {
        System.out.println("EventStreamTest seed " + SEED + " (-Dsluice.seed=" + SEED + ")");
        Random random = new Random(SEED);
        for (int round = 0; round < 200; round++) {
            List<EventStream.Message> sent = new ArrayList<>();
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (int m = 1 + random.nextInt(5); m > 0; m--) {
                EventStream.Message message = randomMessage(random);
                sent.add(message);
                wire.writeBytes(EventStream.encode(message));
            }
            byte[] all = wire.toByteArray();
            EventStream.Decoder decoder = new EventStream.Decoder();
            List<EventStream.Message> received = new ArrayList<>();
            for (int at = 0; at < all.length; ) {
                int n = Math.min(all.length - at, 1 + random.nextInt(random.nextBoolean() ? 7 : 4096));
                received.addAll(decoder.feed(java.util.Arrays.copyOfRange(all, at, at + n)));
                at += n;
            }
            assertEquals(0, decoder.buffered(), "seed " + SEED);
            assertEquals(sent.size(), received.size(), "seed " + SEED);
            for (int i = 0; i < sent.size(); i++) {
                assertSameMessage(sent.get(i), received.get(i));
            }
        }
    }

    @Test
    void layoutIsAwsFraming() {
        byte[] payload = "{}".getBytes(StandardCharsets.UTF_8);
        byte[] frame = EventStream.encode(EventStream.Message.event("initial-response", "application/json", payload));
        ByteBuffer in = ByteBuffer.wrap(frame);
        int total = in.getInt();
        int headersLength = in.getInt();
        int preludeCrc = in.getInt();
        assertEquals(frame.length, total);
        assertEquals((int) crc(frame, 0, 8), preludeCrc);
        // ":message-type" (13 bytes) string "event": 1 + 13 + 1 + 2 + 5 = 22
        // ":event-type" (11) "initial-response" (16): 1 + 11 + 1 + 2 + 16 = 31
        // ":content-type" (13) "application/json" (16): 1 + 13 + 1 + 2 + 16 = 33
        assertEquals(22 + 31 + 33, headersLength);
        assertEquals(13, in.get());
        byte[] name = new byte[13];
        in.get(name);
        assertEquals(":message-type", new String(name, StandardCharsets.US_ASCII));
        assertEquals(7, in.get(), "string header type");
        assertEquals(5, in.getShort());
        assertEquals(12 + headersLength + payload.length + 4, total);
        assertEquals('{', frame[12 + headersLength]);
        assertEquals((int) crc(frame, 0, frame.length - 4), ByteBuffer.wrap(frame, frame.length - 4, 4).getInt());
        EventStream.Message back = EventStream.decode(frame);
        assertEquals("event", back.header(":message-type"));
        assertEquals("initial-response", back.header(":event-type"));
        assertEquals(List.of(":message-type", ":event-type", ":content-type"), new ArrayList<>(back.headers().keySet()));
    }

    @Test
    void everyFlippedBitIsRefused() {
        byte[] frame = EventStream.encode(EventStream.Message.exception("ResourceInUseException", "application/json",
                "{\"message\":\"in use\"}".getBytes(StandardCharsets.UTF_8)));
        for (int i = 0; i < frame.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = frame.clone();
                bad[i] ^= (byte) (1 << bit);
                int at = i;
                int b = bit;
                // CRC32 catches every single-bit error: in the prelude its own CRC, after it the message's
                assertThrows(EventStream.MalformedFrameException.class, () -> new EventStream.Decoder().feed(bad),
                        "byte " + at + " bit " + b);
            }
        }
    }

    @Test
    void wellFramedButInconsistentMessagesAreRefused() {
        // the prelude's CRC is right but the lengths cannot be: headers longer than the message
        ByteBuffer b = ByteBuffer.allocate(16).putInt(16).putInt(100);
        b.putInt((int) crc(b.array(), 0, 8));
        b.putInt((int) crc(b.array(), 0, 12));
        assertThrows(EventStream.MalformedFrameException.class, () -> EventStream.decode(b.array()));
        // a header whose value runs past the headers, with both CRCs right
        byte[] headers = {4, 'n', 'a', 'm', 'e', 7, 0, 50, 'x'};
        ByteBuffer m = ByteBuffer.allocate(12 + headers.length + 4).putInt(12 + headers.length + 4).putInt(headers.length);
        m.putInt((int) crc(m.array(), 0, 8)).put(headers);
        m.putInt((int) crc(m.array(), 0, m.position()));
        assertThrows(EventStream.MalformedFrameException.class, () -> EventStream.decode(m.array()));
        // an unknown header type
        headers[5] = 42;
        ByteBuffer u = ByteBuffer.allocate(12 + headers.length + 4).putInt(12 + headers.length + 4).putInt(headers.length);
        u.putInt((int) crc(u.array(), 0, 8)).put(headers);
        u.putInt((int) crc(u.array(), 0, u.position()));
        assertThrows(EventStream.MalformedFrameException.class, () -> EventStream.decode(u.array()));
        // a cut frame is not one message
        byte[] whole = EventStream.encode(EventStream.Message.event("x", "application/json", new byte[10]));
        assertThrows(EventStream.MalformedFrameException.class,
                () -> EventStream.decode(java.util.Arrays.copyOf(whole, whole.length - 1)));
    }

    @Test
    void oversizedMessagesAreNotWritten() {
        assertThrows(IllegalArgumentException.class, () ->
                EventStream.encode(EventStream.Message.event("x", "application/json", new byte[EventStream.MAX_MESSAGE])));
        Map<String, Object> big = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) big.put("h" + i, new byte[60_000]);
        assertThrows(IllegalArgumentException.class, () -> EventStream.encode(new EventStream.Message(big, new byte[0])));
    }

    private static EventStream.Message randomMessage(Random random) {
        Map<String, Object> headers = new LinkedHashMap<>();
        for (int h = random.nextInt(8); h > 0; h--) {
            String name = ":h" + random.nextInt(1000) + "-" + "x".repeat(random.nextInt(40));
            Object value = switch (random.nextInt(10)) {
                case 0 -> Boolean.TRUE;
                case 1 -> Boolean.FALSE;
                case 2 -> (byte) random.nextInt();
                case 3 -> (short) random.nextInt();
                case 4 -> random.nextInt();
                case 5 -> random.nextLong();
                case 6 -> bytes(random, random.nextInt(300));
                case 7 -> "välue-" + random.nextInt() + "日本".repeat(random.nextInt(5));
                case 8 -> Instant.ofEpochMilli(random.nextLong() >> 20);
                default -> new UUID(random.nextLong(), random.nextLong());
            };
            headers.put(name, value);
        }
        int size = random.nextInt(10) == 0 ? random.nextInt(200_000) : random.nextInt(300);
        return new EventStream.Message(headers, bytes(random, size));
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static void assertSameMessage(EventStream.Message sent, EventStream.Message got) {
        assertEquals(new ArrayList<>(sent.headers().keySet()), new ArrayList<>(got.headers().keySet()), "seed " + SEED);
        for (Map.Entry<String, Object> h : sent.headers().entrySet()) {
            Object v = got.headers().get(h.getKey());
            if (h.getValue() instanceof byte[] b) {
                assertArrayEquals(b, (byte[]) v, "seed " + SEED);
            } else {
                assertEquals(h.getValue(), v, "seed " + SEED);
            }
        }
        assertArrayEquals(sent.payload(), got.payload(), "seed " + SEED);
    }

    private static long crc(byte[] b, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(b, offset, length);
        return crc.getValue();
    }
}
