package io.sluice.protocol.dynamodb;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The Jackson form of {@link AttributeValue}, the same for the wire (JSON with base64 binaries, CBOR
 * with byte strings) and for Pekko's cluster messages and journal. Reading checks the value as
 * DynamoDB does and throws its {@code ValidationException}s; {@code WireFormat.read} passes those on.
 */
final class AttributeValueJson {
    private AttributeValueJson() {}

    public static final class Writer extends JsonSerializer<AttributeValue> {
        @Override
        public void serialize(AttributeValue value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            write(value, gen);
        }

        private static void write(AttributeValue value, JsonGenerator gen) throws IOException {
            gen.writeStartObject();
            gen.writeFieldName(value.type());
            if (value instanceof AttributeValue.S s) {
                gen.writeString(s.value());
            } else if (value instanceof AttributeValue.N n) {
                gen.writeString(n.canonical());
            } else if (value instanceof AttributeValue.B b) {
                gen.writeBinary(b.shared());
            } else if (value instanceof AttributeValue.Bool b) {
                gen.writeBoolean(b.value());
            } else if (value instanceof AttributeValue.Null) {
                gen.writeBoolean(true);
            } else if (value instanceof AttributeValue.M m) {
                gen.writeStartObject();
                for (Map.Entry<String, AttributeValue> e : m.value().entrySet()) {
                    gen.writeFieldName(e.getKey());
                    write(e.getValue(), gen);
                }
                gen.writeEndObject();
            } else if (value instanceof AttributeValue.L l) {
                gen.writeStartArray();
                for (AttributeValue v : l.value()) write(v, gen);
                gen.writeEndArray();
            } else if (value instanceof AttributeValue.SS ss) {
                gen.writeStartArray();
                for (String s : ss.value()) gen.writeString(s);
                gen.writeEndArray();
            } else if (value instanceof AttributeValue.NS ns) {
                gen.writeStartArray();
                for (BigDecimal n : ns.value()) gen.writeString(Numbers.canonical(n));
                gen.writeEndArray();
            } else if (value instanceof AttributeValue.BS bs) {
                gen.writeStartArray();
                for (byte[] b : bs.shared()) gen.writeBinary(b);
                gen.writeEndArray();
            }
            gen.writeEndObject();
        }
    }

    public static final class Reader extends JsonDeserializer<AttributeValue> {
        @Override
        public AttributeValue deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            return read(p);
        }

        /**
         * A JSON null where a value belongs (in a list, a map, an Item or AttributeValueList) is an empty
         * value to DynamoDB; left as null it would reach the evaluator.
         */
        /** An absent member (ExpectedAttributeValue without a Value) is simply absent. */
        @Override
        public Object getAbsentValue(DeserializationContext ctx) {
            return null;
        }

        @Override
        public AttributeValue getNullValue(DeserializationContext ctx) {
            throw io.sluice.protocol.AwsError.ValidationException.exception(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        }
    }

    /** Reads one value; the parser is on its START_OBJECT and is left on its END_OBJECT. */
    static AttributeValue read(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw mismatch(p, "AttributeValue");
        }
        List<AttributeValue> found = new ArrayList<>(1);
        for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
            JsonToken token = p.nextToken();
            if (token == JsonToken.VALUE_NULL) {
                continue;
            }
            AttributeValue value = switch (field) {
                case "S" -> new AttributeValue.S(text(p, "String"));
                case "N" -> new AttributeValue.N(Numbers.parse(text(p, "String")));
                case "B" -> new AttributeValue.B(binary(p));
                case "BOOL" -> new AttributeValue.Bool(bool(p));
                case "NULL" -> {
                    if (!bool(p)) {
                        throw invalid("One or more parameter values were invalid: Null attribute value types must have the value of true");
                    }
                    yield new AttributeValue.Null();
                }
                case "M" -> map(p);
                case "L" -> list(p);
                case "SS" -> stringSet(p);
                case "NS" -> numberSet(p);
                case "BS" -> binarySet(p);
                default -> {
                    p.skipChildren();
                    yield null;
                }
            };
            if (value != null) {
                found.add(value);
            }
        }
        if (found.isEmpty()) {
            throw invalid("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        }
        if (found.size() > 1) {
            throw invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
        }
        return found.get(0);
    }

    private static AttributeValue.M map(JsonParser p) throws IOException {
        expect(p, JsonToken.START_OBJECT, "Map");
        Map<String, AttributeValue> value = new LinkedHashMap<>();
        for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
            if (p.nextToken() == JsonToken.VALUE_NULL) {
                continue;
            }
            value.put(field, read(p));
        }
        return new AttributeValue.M(value);
    }

    private static AttributeValue.L list(JsonParser p) throws IOException {
        expect(p, JsonToken.START_ARRAY, "List");
        List<AttributeValue> value = new ArrayList<>();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.VALUE_NULL) {
                value.add(read(p));
            }
        }
        return new AttributeValue.L(value);
    }

    private static AttributeValue.SS stringSet(JsonParser p) throws IOException {
        expect(p, JsonToken.START_ARRAY, "List");
        List<String> value = new ArrayList<>();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            value.add(text(p, "String"));
        }
        if (value.isEmpty()) {
            throw invalid("One or more parameter values were invalid: An string set  may not be empty");
        }
        if (new HashSet<>(value).size() != value.size()) {
            throw invalid("One or more parameter values were invalid: Input collection " + value + " contains duplicates.");
        }
        return new AttributeValue.SS(value);
    }

    private static AttributeValue.NS numberSet(JsonParser p) throws IOException {
        expect(p, JsonToken.START_ARRAY, "List");
        List<BigDecimal> value = new ArrayList<>();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            value.add(Numbers.parse(text(p, "String")));
        }
        if (value.isEmpty()) {
            throw invalid("One or more parameter values were invalid: An number set  may not be empty");
        }
        if (value.stream().map(Numbers::normalize).collect(Collectors.toSet()).size() != value.size()) {
            throw invalid("Input collection contains duplicates");
        }
        return new AttributeValue.NS(value);
    }

    private static AttributeValue.BS binarySet(JsonParser p) throws IOException {
        expect(p, JsonToken.START_ARRAY, "List");
        List<byte[]> value = new ArrayList<>();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            value.add(binary(p));
        }
        if (value.isEmpty()) {
            throw invalid("One or more parameter values were invalid: Binary sets should not be empty");
        }
        Set<ByteBuffer> distinct = value.stream().map(ByteBuffer::wrap).collect(Collectors.toSet());
        if (distinct.size() != value.size()) {
            throw invalid("One or more parameter values were invalid: Input collection "
                    + value.stream().map(b -> Base64.getEncoder().encodeToString(b)).toList()
                    + "of type BS contains duplicates.");
        }
        return new AttributeValue.BS(value);
    }

    private static String text(JsonParser p, String target) throws IOException {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw mismatch(p, target);
        }
        return p.getText();
    }

    private static boolean bool(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
            throw mismatch(p, "Boolean");
        }
        return t == JsonToken.VALUE_TRUE;
    }

    private static byte[] binary(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            try {
                return Base64.getDecoder().decode(p.getText());
            } catch (IllegalArgumentException e) {
                throw AwsError.SerializationException.exception("Base64 encoded length is expected a multiple of 4 bytes but found: "
                        + p.getText().length());
            }
        }
        if (t == JsonToken.VALUE_EMBEDDED_OBJECT) {
            return p.getBinaryValue();
        }
        throw mismatch(p, "Blob");
    }

    private static void expect(JsonParser p, JsonToken token, String target) throws IOException {
        if (p.currentToken() != token) {
            throw mismatch(p, target);
        }
    }

    /** AWS's wording for a JSON token of the wrong kind, e.g. "NUMBER_VALUE cannot be converted to String". */
    private static ApiException mismatch(JsonParser p, String target) {
        JsonToken t = p.currentToken();
        String found = t == null ? "null" : switch (t) {
            case VALUE_STRING -> "STRING_VALUE";
            case VALUE_NUMBER_INT -> "NUMBER_VALUE";
            case VALUE_NUMBER_FLOAT -> "DECIMAL_VALUE";
            case VALUE_TRUE -> "TRUE_VALUE";
            case VALUE_FALSE -> "FALSE_VALUE";
            case START_OBJECT -> "START_OBJECT";
            case START_ARRAY -> "START_ARRAY";
            case VALUE_EMBEDDED_OBJECT -> "BLOB_VALUE";
            default -> t.name();
        };
        return AwsError.SerializationException.exception(found + " cannot be converted to " + target);
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
