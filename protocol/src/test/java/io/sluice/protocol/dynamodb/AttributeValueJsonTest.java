package io.sluice.protocol.dynamodb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.codec.WireFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.sluice.protocol.dynamodb.AttributeValue.*;
import static org.junit.jupiter.api.Assertions.*;

class AttributeValueJsonTest {
    @Test
    void anAbsentValueIsAbsentButAJsonNullWhereAValueBelongsIsRefused() {
        DynamoDb.PutItemRequest put = WireFormat.JSON_1_0.read(("{\"TableName\":\"t\",\"Item\":{\"k\":{\"S\":\"x\"}},"
                + "\"Expected\":{\"k\":{\"Exists\":false}}}").getBytes(StandardCharsets.UTF_8), DynamoDb.PutItemRequest.class);
        assertNull(put.expected().get("k").value(), "ExpectedAttributeValue without Value, as the KCL sends it");
        assertEquals(Boolean.FALSE, put.expected().get("k").exists());
        for (String body : List.of("{\"Item\":{\"k\":null}}",
                "{\"Expected\":{\"k\":{\"ComparisonOperator\":\"EQ\",\"AttributeValueList\":[null]}}}")) {
            ApiException e = assertThrows(ApiException.class,
                    () -> WireFormat.JSON_1_0.read(body.getBytes(StandardCharsets.UTF_8), DynamoDb.PutItemRequest.class), body);
            assertEquals(AwsError.ValidationException, e.error(), body);
        }
    }

    /** A request body as the wire mapper reads it: PascalCase member names. */
    record PutItem(String tableName, Map<String, AttributeValue> item) {}

    /** A cluster message or event as Pekko's jackson-cbor would carry it. */
    record Event(Map<String, AttributeValue> item, List<AttributeValue> values) {}

    static Map<String, AttributeValue> everyType() {
        Map<String, AttributeValue> nested = new LinkedHashMap<>();
        nested.put("s", s("x"));
        nested.put("list", l(List.of(n("1.50"), bool(false), nul(), b(new byte[] {0, -1, 7}))));
        Map<String, AttributeValue> item = new LinkedHashMap<>();
        item.put("S", s("héllo 🌊"));
        item.put("N", n("-12.5e3"));
        item.put("B", b(new byte[] {1, 2, 3, (byte) 0xff}));
        item.put("BOOL", bool(true));
        item.put("NULL", nul());
        item.put("M", m(Map.of("inner", m(nested))));
        item.put("L", l(List.of(s("a"), l(List.of(n(7))), m(Map.of()))));
        item.put("SS", ss("b", "a"));
        item.put("NS", ns("1", "2.5", "-3"));
        item.put("BS", bs(new byte[] {1}, new byte[] {2, 3}));
        item.put("empty", s(""));
        return item;
    }

    @Test
    void roundTripsEveryTypeThroughEachWireFormat() {
        PutItem request = new PutItem("t", everyType());
        for (WireFormat format : WireFormat.values()) {
            PutItem back = format.read(format.write(request), PutItem.class);
            assertEquals(request.item(), back.item(), format.name());
            assertEquals(List.copyOf(request.item().keySet()), List.copyOf(back.item().keySet()), "attribute order kept");
        }
    }

    @Test
    void roundTripsThroughPlainCborAndJsonMappers() throws Exception {
        Event event = new Event(everyType(), List.of(n("3"), ss("q")));
        for (ObjectMapper mapper : List.of(new CBORMapper(), new ObjectMapper())) {
            Event back = mapper.readValue(mapper.writeValueAsBytes(event), Event.class);
            assertEquals(event, back, mapper.getClass().getSimpleName());
        }
    }

    @Test
    void writesTheWireShapesAwsWrites() throws Exception {
        String json = new String(WireFormat.JSON_1_0.write(new PutItem("t", everyType())), StandardCharsets.UTF_8);
        JsonNode item = new ObjectMapper().readTree(json).get("Item");
        assertEquals("-12500", item.get("N").get("N").asText());
        assertTrue(item.get("N").get("N").isTextual(), "numbers travel as strings");
        assertEquals("AQID/w==", item.get("B").get("B").asText());
        assertTrue(item.get("BOOL").get("BOOL").asBoolean());
        assertTrue(item.get("NULL").get("NULL").asBoolean());
        assertEquals("1.5", item.get("M").get("M").get("inner").get("M").get("list").get("L").get(0).get("N").asText());
        assertEquals("[\"1\",\"2.5\",\"-3\"]", item.get("NS").get("NS").toString());
        assertEquals("AQ==", item.get("BS").get("BS").get(0).asText());
        assertEquals(1, item.get("SS").size());
    }

    @Test
    void writesBinariesAsCborByteStrings() throws Exception {
        byte[] cbor = WireFormat.CBOR.write(new PutItem("t", Map.of("b", b(new byte[] {9, 8}))));
        JsonNode node = new CBORMapper().readTree(cbor).get("Item").get("b").get("B");
        assertTrue(node.isBinary(), node.getNodeType().toString());
        assertArrayEquals(new byte[] {9, 8}, node.binaryValue());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "1.50|1.5", "100|100", "1E+2|100", "1.5E2|150", "00042|42", "-0|0", "0.000|0", "1.0|1", "3.1400|3.14",
            "-1e-130|-0.0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
            "99999999999999999999999999999999999999|99999999999999999999999999999999999999"})
    void answersNumbersInCanonicalForm(String in, String out) {
        assertEquals(out, n(in).canonical());
    }

    static void assertRejected(String body, AwsError error, String message) {
        for (WireFormat format : List.of(WireFormat.JSON, WireFormat.JSON_1_0)) {
            ApiException e = assertThrows(ApiException.class,
                    () -> format.read(("{\"TableName\":\"t\",\"Item\":{\"a\":" + body + "}}").getBytes(StandardCharsets.UTF_8), PutItem.class));
            assertEquals(error, e.error(), body);
            assertEquals(message, e.getMessage(), body);
        }
    }

    @Test
    void refusesInvalidShapesWithAwsWording() {
        AwsError v = AwsError.ValidationException;
        assertRejected("{}", v, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        assertRejected("{\"X\":\"y\"}", v, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        assertRejected("{\"S\":null}", v, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        assertRejected("{\"M\":{\"a\":{}}}", v, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        assertRejected("{\"L\":[{}]}", v, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
        assertRejected("{\"S\":\"a\",\"N\":\"1\"}", v,
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
        assertRejected("{\"N\":\"b\"}", v, "A value provided cannot be converted into a number");
        assertRejected("{\"N\":\"\"}", v, "A value provided cannot be converted into a number");
        assertRejected("{\"N\":\"NaN\"}", v, "A value provided cannot be converted into a number");
        assertRejected("{\"NS\":[\"1\",\"x\"]}", v, "A value provided cannot be converted into a number");
        assertRejected("{\"N\":\"123456789012345678901234567890123456789\"}", v, "Attempting to store more than 38 significant digits in a Number");
        assertRejected("{\"N\":\"-1.23456789012345678901234567890123456789\"}", v, "Attempting to store more than 38 significant digits in a Number");
        assertRejected("{\"N\":\"1E+126\"}", v, "Number overflow. Attempting to store a number with magnitude larger than supported range");
        assertRejected("{\"N\":\"-1e126\"}", v, "Number overflow. Attempting to store a number with magnitude larger than supported range");
        assertRejected("{\"N\":\"1e-131\"}", v, "Number underflow. Attempting to store a number with magnitude smaller than supported range");
        assertRejected("{\"NULL\":false}", v, "One or more parameter values were invalid: Null attribute value types must have the value of true");
        assertRejected("{\"SS\":[]}", v, "One or more parameter values were invalid: An string set  may not be empty");
        assertRejected("{\"NS\":[]}", v, "One or more parameter values were invalid: An number set  may not be empty");
        assertRejected("{\"BS\":[]}", v, "One or more parameter values were invalid: Binary sets should not be empty");
        assertRejected("{\"SS\":[\"a\",\"a\"]}", v, "One or more parameter values were invalid: Input collection [a, a] contains duplicates.");
        assertRejected("{\"NS\":[\"1\",\"1.0\"]}", v, "Input collection contains duplicates");
        assertRejected("{\"BS\":[\"Yg==\",\"Yg==\"]}", v, "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.");
        assertRejected("{\"S\":5}", AwsError.SerializationException, "NUMBER_VALUE cannot be converted to String");
        assertRejected("{\"BOOL\":\"yes\"}", AwsError.SerializationException, "STRING_VALUE cannot be converted to Boolean");
    }

    @Test
    void acceptsTheNumberLimits() {
        for (String text : List.of("9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
                "1E-130", "0", "12345678901234567890123456789012345678", "1000000000000000000000000000000000000000000")) {
            assertEquals(new BigDecimal(text), n(text).value(), text);
        }
    }

    @Test
    void refusesInvalidShapesInCborToo() throws Exception {
        byte[] body = new CBORMapper().writeValueAsBytes(Map.of("Item", Map.of("a", Map.of("SS", List.of()))));
        ApiException e = assertThrows(ApiException.class, () -> WireFormat.CBOR.read(body, PutItem.class));
        assertEquals("One or more parameter values were invalid: An string set  may not be empty", e.getMessage());
    }

    @Test
    void otherMalformedBodiesStaySerializationExceptions() {
        ApiException e = assertThrows(ApiException.class, () -> WireFormat.JSON.read("{\"Item\":".getBytes(), PutItem.class));
        assertEquals(AwsError.SerializationException, e.error());
    }
}
