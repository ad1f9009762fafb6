package io.sluice.protocol.codec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The body encodings of the AWS JSON protocol family: JSON 1.1 (the CLI's), JSON 1.0 and CBOR (the
 * Java SDK's default for Kinesis). They differ only in how blobs and timestamps travel: base64 strings
 * and fractional epoch seconds in JSON; byte strings and CBOR tag 1 with epoch milliseconds in CBOR.
 * Responses go back in the format of the request.
 */
public enum WireFormat {
    JSON("application/x-amz-json-1.1"),
    /** AWS JSON 1.0 (DynamoDB's): the same body encoding, answered under its own media type. */
    JSON_1_0("application/x-amz-json-1.0"),
    CBOR("application/x-amz-cbor-1.1");

    private final String contentType;
    private final ObjectMapper mapper;

    WireFormat(String contentType) {
        this.contentType = contentType;
        this.mapper = configure(contentType.contains("cbor") ? CBORMapper.builder() : JsonMapper.builder(),
                contentType.contains("cbor"));
    }

    public String contentType() {
        return contentType;
    }

    /** JSON 1.1 unless the media type names CBOR or JSON 1.0; AWS also accepts plain JSON media types on JSON services. */
    public static WireFormat fromContentType(String mediaType) {
        String type = mediaType == null ? "" : mediaType.toLowerCase(Locale.ROOT);
        return type.contains("cbor") ? CBOR : type.contains("x-amz-json-1.0") ? JSON_1_0 : JSON;
    }

    /** Reads a request body; an empty body is an empty structure, as AWS treats it. */
    public <T> T read(byte[] body, Class<T> type) {
        try {
            if (body.length == 0) {
                return mapper.readValue(this == CBOR ? new byte[] {(byte) 0xa0} : "{}".getBytes(), type);
            }
            return mapper.readValue(body, type);
        } catch (IOException | RuntimeException e) {
            // a deserializer's own rejection (a DynamoDB AttributeValue's, say) arrives wrapped by Jackson
            ApiException rejection = rejectionIn(e);
            if (rejection != null) {
                throw rejection;
            }
            if (e instanceof IOException io) {
                throw AwsError.SerializationException.exception(describe(io));
            }
            throw (RuntimeException) e;
        }
    }

    private static ApiException rejectionIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ApiException api) {
                return api;
            }
        }
        return null;
    }

    public byte[] write(Object value) {
        try {
            return mapper.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public byte[] error(AwsError error, String message) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("__type", error.wireName());
        body.put("message", message);
        return write(body);
    }

    public byte[] error(ApiException e) {
        return error(e, e.error().wireName());
    }

    /** An error body whose {@code __type} is spelled {@code type} (DynamoDB prefixes its shape namespace). */
    public byte[] error(ApiException e, String type) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("__type", type);
        body.put("message", e.getMessage());
        body.putAll(e.details());
        return write(body);
    }

    private static String describe(IOException e) {
        String message = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        if (message == null) {
            return "Malformed request body";
        }
        int newline = message.indexOf('\n');
        return newline > 0 ? message.substring(0, newline) : message;
    }

    private static ObjectMapper configure(com.fasterxml.jackson.databind.cfg.MapperBuilder<?, ?> builder, boolean cbor) {
        SimpleModule timestamps = new SimpleModule("aws-timestamps");
        timestamps.addSerializer(Instant.class, cbor ? new CborTimestampSerializer() : new JsonTimestampSerializer());
        timestamps.addDeserializer(Instant.class, new TimestampDeserializer(cbor));
        if (!cbor) {
            timestamps.addDeserializer(byte[].class, new JsonBlobDeserializer());
        }
        return builder
                .propertyNamingStrategy(PropertyNamingStrategies.UPPER_CAMEL_CASE)
                .serializationInclusion(JsonInclude.Include.NON_NULL)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .addModule(timestamps)
                .build();
    }

    /**
     * Base64 blobs in JSON through {@link java.util.Base64}: Jackson's own decoder assembles the bytes one
     * triplet at a time and was the largest single cost of a JSON PutRecords (a fifth of the node's CPU).
     * Standard alphabet, padding optional, no line breaks: what the AWS SDKs and CLIs send.
     */
    private static final class JsonBlobDeserializer extends JsonDeserializer<byte[]> {
        @Override
        public byte[] deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (byte[]) ctx.handleUnexpectedToken(byte[].class, p);
            }
            String text = p.getText();
            try {
                return java.util.Base64.getDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                throw com.fasterxml.jackson.databind.exc.InvalidFormatException.from(p,
                        "Cannot decode base64 blob: " + e.getMessage(), text, byte[].class);
            }
        }
    }

    /** Fractional epoch seconds with millisecond precision, e.g. {@code 1499878905.118}. */
    private static final class JsonTimestampSerializer extends JsonSerializer<Instant> {
        @Override
        public void serialize(Instant value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeNumber(new BigDecimal(BigInteger.valueOf(value.toEpochMilli()), 3));
        }
    }

    /** CBOR tag 1 (epoch-based date/time) with integer epoch milliseconds, as the AWS SDKs write it. */
    private static final class CborTimestampSerializer extends JsonSerializer<Instant> {
        @Override
        public void serialize(Instant value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            ((CBORGenerator) gen).writeTag(1);
            gen.writeNumber(value.toEpochMilli());
        }
    }

    private static final class TimestampDeserializer extends JsonDeserializer<Instant> {
        private final boolean cbor;

        TimestampDeserializer(boolean cbor) {
            this.cbor = cbor;
        }

        @Override
        public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken token = p.currentToken();
            if (token == JsonToken.VALUE_NUMBER_INT) {
                long value = p.getLongValue();
                return cbor ? Instant.ofEpochMilli(value) : Instant.ofEpochSecond(value);
            }
            if (token == JsonToken.VALUE_NUMBER_FLOAT) {
                BigDecimal seconds = p.getDecimalValue();
                return Instant.ofEpochMilli(seconds.movePointRight(3).longValue());
            }
            if (token == JsonToken.VALUE_STRING) {
                try {
                    return Instant.parse(p.getText());
                } catch (DateTimeParseException e) {
                    // fall through to the error below
                }
            }
            return (Instant) ctxt.handleUnexpectedToken(Instant.class, p);
        }
    }
}
