package io.sluice.protocol.codec;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * AWS's event-stream framing ({@code application/vnd.amazon.eventstream}), the body of a SubscribeToShard
 * answer: a sequence of messages, each
 * <pre>
 * total length (uint32) | headers length (uint32) | prelude CRC32 (of the 8 bytes before it)
 * headers | payload | message CRC32 (of every byte before it)
 * </pre>
 * A header is its name's length (uint8), the name (UTF-8), a type byte and the value: 0 true, 1 false,
 * 2 byte, 3 short, 4 int, 5 long (all big-endian), 6 bytes and 7 string (uint16 length first),
 * 8 timestamp (int64 epoch milliseconds), 9 UUID (16 bytes).
 */
public final class EventStream {
    private EventStream() {}

    /** The media type of an event-stream body. */
    public static final String CONTENT_TYPE = "application/vnd.amazon.eventstream";
    private static final int PRELUDE = 12;
    private static final int MIN_MESSAGE = PRELUDE + 4;
    /** AWS's limits: 16 MiB for a whole message, 128 KiB for its headers. */
    public static final int MAX_MESSAGE = 16 * 1024 * 1024;
    public static final int MAX_HEADERS = 128 * 1024;

    /** A frame that is not a well-formed event-stream message. */
    public static final class MalformedFrameException extends IllegalArgumentException {
        MalformedFrameException(String message) {
            super(message);
        }
    }

    /**
     * One message: its headers in order (values of the Java types the header types map to: Boolean,
     * Byte, Short, Integer, Long, byte[], String, Instant, UUID) and its payload.
     */
    public record Message(Map<String, Object> headers, byte[] payload) {
        public Message {
            headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        }

        /** An event of a stream: {@code :message-type event} with its {@code :event-type}. */
        public static Message event(String eventType, String contentType, byte[] payload) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put(":message-type", "event");
            h.put(":event-type", eventType);
            h.put(":content-type", contentType);
            return new Message(h, payload);
        }

        /** A modelled error that ends a stream: {@code :message-type exception} with its {@code :exception-type}. */
        public static Message exception(String exceptionType, String contentType, byte[] payload) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put(":message-type", "exception");
            h.put(":exception-type", exceptionType);
            h.put(":content-type", contentType);
            return new Message(h, payload);
        }

        /** A header's value as text, or null when the message has no such header. */
        public String header(String name) {
            Object v = headers.get(name);
            return v == null ? null : v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v.toString();
        }
    }

    /** The wire form of one message. */
    public static byte[] encode(Message message) {
        byte[] headers = encodeHeaders(message.headers());
        if (headers.length > MAX_HEADERS) {
            throw new IllegalArgumentException("event-stream headers of " + headers.length + " bytes exceed " + MAX_HEADERS);
        }
        long total = (long) PRELUDE + headers.length + message.payload().length + 4;
        if (total > MAX_MESSAGE) {
            throw new IllegalArgumentException("event-stream message of " + total + " bytes exceeds " + MAX_MESSAGE);
        }
        ByteBuffer out = ByteBuffer.allocate((int) total);
        out.putInt((int) total).putInt(headers.length);
        out.putInt((int) crc(out.array(), 0, 8));
        out.put(headers).put(message.payload());
        out.putInt((int) crc(out.array(), 0, out.position()));
        return out.array();
    }

    /** Exactly one whole message. */
    public static Message decode(byte[] frame) {
        Decoder decoder = new Decoder();
        List<Message> messages = decoder.feed(frame);
        if (messages.size() != 1 || decoder.buffered() != 0) {
            throw new MalformedFrameException("expected exactly one event-stream message, found " + messages.size()
                    + " and " + decoder.buffered() + " bytes more");
        }
        return messages.get(0);
    }

    /**
     * Cuts messages out of a body that arrives in chunks of any size, checking both CRCs of each;
     * a malformed frame fails the whole stream (there is no way to find the next frame after one).
     */
    public static final class Decoder {
        private byte[] pending = new byte[0];

        public List<Message> feed(byte[] chunk) {
            byte[] all = new byte[pending.length + chunk.length];
            System.arraycopy(pending, 0, all, 0, pending.length);
            System.arraycopy(chunk, 0, all, pending.length, chunk.length);
            List<Message> out = new ArrayList<>();
            int at = 0;
            while (all.length - at >= PRELUDE) {
                ByteBuffer prelude = ByteBuffer.wrap(all, at, PRELUDE);
                long total = Integer.toUnsignedLong(prelude.getInt());
                long headersLength = Integer.toUnsignedLong(prelude.getInt());
                long preludeCrc = Integer.toUnsignedLong(prelude.getInt());
                if (crc(all, at, 8) != preludeCrc) {
                    throw new MalformedFrameException("event-stream prelude CRC mismatch");
                }
                if (total < MIN_MESSAGE || total > MAX_MESSAGE || headersLength > MAX_HEADERS
                        || headersLength > total - MIN_MESSAGE) {
                    throw new MalformedFrameException("event-stream lengths out of range: total " + total
                            + ", headers " + headersLength);
                }
                if (all.length - at < total) {
                    break;
                }
                int end = at + (int) total;
                long messageCrc = Integer.toUnsignedLong(ByteBuffer.wrap(all, end - 4, 4).getInt());
                if (crc(all, at, (int) total - 4) != messageCrc) {
                    throw new MalformedFrameException("event-stream message CRC mismatch");
                }
                Map<String, Object> headers = decodeHeaders(ByteBuffer.wrap(all, at + PRELUDE, (int) headersLength));
                int payloadStart = at + PRELUDE + (int) headersLength;
                byte[] payload = java.util.Arrays.copyOfRange(all, payloadStart, end - 4);
                out.add(new Message(headers, payload));
                at = end;
            }
            pending = java.util.Arrays.copyOfRange(all, at, all.length);
            return out;
        }

        /** Bytes received that do not yet make a whole message. */
        public int buffered() {
            return pending.length;
        }
    }

    private static long crc(byte[] bytes, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(bytes, offset, length);
        return crc.getValue();
    }

    private static byte[] encodeHeaders(Map<String, Object> headers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, Object> h : headers.entrySet()) {
            byte[] name = h.getKey().getBytes(StandardCharsets.UTF_8);
            if (name.length == 0 || name.length > 255) {
                throw new IllegalArgumentException("event-stream header name must be 1 to 255 bytes: " + h.getKey());
            }
            out.write(name.length);
            out.writeBytes(name);
            Object v = h.getValue();
            ByteBuffer value;
            if (v instanceof Boolean b) {
                value = ByteBuffer.allocate(1).put((byte) (b ? 0 : 1));
            } else if (v instanceof Byte b) {
                value = ByteBuffer.allocate(2).put((byte) 2).put(b);
            } else if (v instanceof Short s) {
                value = ByteBuffer.allocate(3).put((byte) 3).putShort(s);
            } else if (v instanceof Integer i) {
                value = ByteBuffer.allocate(5).put((byte) 4).putInt(i);
            } else if (v instanceof Long l) {
                value = ByteBuffer.allocate(9).put((byte) 5).putLong(l);
            } else if (v instanceof byte[] bytes) {
                value = withLength(6, bytes);
            } else if (v instanceof String s) {
                value = withLength(7, s.getBytes(StandardCharsets.UTF_8));
            } else if (v instanceof Instant t) {
                value = ByteBuffer.allocate(9).put((byte) 8).putLong(t.toEpochMilli());
            } else if (v instanceof UUID u) {
                value = ByteBuffer.allocate(17).put((byte) 9).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
            } else {
                throw new IllegalArgumentException("no event-stream header type for " + (v == null ? "null" : v.getClass().getName()));
            }
            out.writeBytes(value.array());
        }
        return out.toByteArray();
    }

    private static ByteBuffer withLength(int type, byte[] bytes) {
        if (bytes.length > 0xFFFF) {
            throw new IllegalArgumentException("event-stream header value longer than 65535 bytes");
        }
        return ByteBuffer.allocate(3 + bytes.length).put((byte) type).putShort((short) bytes.length).put(bytes);
    }

    private static Map<String, Object> decodeHeaders(ByteBuffer in) {
        Map<String, Object> headers = new LinkedHashMap<>();
        try {
            while (in.hasRemaining()) {
                int nameLength = Byte.toUnsignedInt(in.get());
                if (nameLength == 0) {
                    throw new MalformedFrameException("event-stream header with an empty name");
                }
                byte[] name = new byte[nameLength];
                in.get(name);
                int type = in.get();
                Object value = switch (type) {
                    case 0 -> Boolean.TRUE;
                    case 1 -> Boolean.FALSE;
                    case 2 -> in.get();
                    case 3 -> in.getShort();
                    case 4 -> in.getInt();
                    case 5 -> in.getLong();
                    case 6 -> bytes(in);
                    case 7 -> new String(bytes(in), StandardCharsets.UTF_8);
                    case 8 -> Instant.ofEpochMilli(in.getLong());
                    case 9 -> new UUID(in.getLong(), in.getLong());
                    default -> throw new MalformedFrameException("unknown event-stream header type " + type);
                };
                headers.put(new String(name, StandardCharsets.UTF_8), value);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new MalformedFrameException("event-stream header runs past the headers' length");
        }
        return headers;
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(b);
        return b;
    }
}
