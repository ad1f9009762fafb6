package io.sluice.protocol.codec;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The AWS Query protocol (IAM, later STS): a form-encoded request ({@code Action=CreateUser&UserName=ann},
 * lists as {@code Tags.member.1.Key}, nested structures as {@code Outer.Inner}) read into a request
 * record, and XML answers and errors in the service's namespace. Records are walked by their
 * components in declaration order, named in Pascal case; absent members are null and left out.
 */
public final class AwsQuery {
    private static final XMLOutputFactory XML = XMLOutputFactory.newDefaultFactory();
    private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
            return Shape.of(type);
        }
    };

    private AwsQuery() {}

    /**
     * The form's parameters, in order; a repeated name keeps its last value.
     *
     * @throws ApiException InvalidQueryParameter when a name or value is not percent-encoded properly
     */
    public static Map<String, String> form(byte[] body) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            try {
                out.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw AwsError.InvalidQueryParameter.exception("The form parameter '" + abbreviated(pair)
                        + "' is not properly percent-encoded.");
            }
        }
        return out;
    }

    /**
     * The request record a form describes; parameters the record has no member for (Action, Version)
     * are ignored.
     *
     * @throws ApiException InvalidQueryParameter when a value does not fit its member's type
     */
    public static <T> T read(Map<String, String> form, Class<T> type) {
        return type.cast(readRecord(form, "", type));
    }

    /**
     * {@code <{Action}Response xmlns=ns><{Action}Result>members</{Action}Result><ResponseMetadata>...}.
     *
     * @param result the operation's response record, or null for an operation without output (then there is
     *               no Result element, as AWS answers such operations)
     */
    public static String answer(String namespace, String action, Object result, String requestId) {
        return document(w -> {
            w.writeStartElement(action + "Response");
            w.writeDefaultNamespace(namespace);
            if (result != null) {
                w.writeStartElement(action + "Result");
                writeMembers(w, result);
                w.writeEndElement();
            }
            w.writeStartElement("ResponseMetadata");
            element(w, "RequestId", requestId);
            w.writeEndElement();
            w.writeEndElement();
        });
    }

    /** {@code <ErrorResponse xmlns=ns><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/>}. */
    public static String error(String namespace, ApiException e, String requestId) {
        return document(w -> {
            w.writeStartElement("ErrorResponse");
            w.writeDefaultNamespace(namespace);
            w.writeStartElement("Error");
            element(w, "Type", e.error().fault() == AwsError.Fault.SERVER ? "Receiver" : "Sender");
            element(w, "Code", e.error().wireName());
            element(w, "Message", e.getMessage() == null ? "" : e.getMessage());
            w.writeEndElement();
            element(w, "RequestId", requestId);
            w.writeEndElement();
        });
    }

    // ---- reading

    private static Object readRecord(Map<String, String> form, String prefix, Class<?> type) {
        Shape shape = SHAPES.get(type);
        Object[] values = new Object[shape.names.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = readValue(form, prefix + shape.names.get(i), shape.types.get(i));
        }
        return shape.construct(values);
    }

    private static Object readValue(Map<String, String> form, String key, Type type) {
        Class<?> raw = raw(type);
        if (raw == List.class) {
            return readList(form, key, ((ParameterizedType) type).getActualTypeArguments()[0]);
        }
        if (raw.isRecord()) {
            return hasKeysUnder(form, key + ".") ? readRecord(form, key + ".", raw) : null;
        }
        String kind = raw == String.class ? "string" : raw == Integer.class ? "integer" : raw == Long.class ? "long"
                : raw == Boolean.class ? "boolean" : raw == Instant.class ? "timestamp" : null;
        if (kind == null) {
            throw new IllegalArgumentException("The Query codec cannot read a " + type.getTypeName() + " (" + key + ")");
        }
        String text = form.get(key);
        if (text == null || raw == String.class) return text;
        try {
            if (raw == Integer.class) return Integer.valueOf(text);
            if (raw == Long.class) return Long.valueOf(text);
            if (raw == Instant.class) return Instant.parse(text);
            if (text.equals("true") || text.equals("false")) return Boolean.valueOf(text);
        } catch (NumberFormatException | DateTimeParseException e) {
            // answered below
        }
        throw AwsError.InvalidQueryParameter.exception("Value '" + abbreviated(text) + "' for parameter " + key
                + " is not a valid " + kind + ".");
    }

    /** {@code Key.member.1}, {@code Key.member.2}, ... until one is missing; {@code Key=} alone is the empty list. */
    private static List<Object> readList(Map<String, String> form, String key, Type element) {
        List<Object> out = new ArrayList<>();
        for (int n = 1; ; n++) {
            String member = key + ".member." + n;
            if (!form.containsKey(member) && !hasKeysUnder(form, member + ".")) break;
            out.add(readValue(form, member, element));
        }
        if (out.isEmpty()) {
            return form.containsKey(key) ? List.of() : null;
        }
        return Collections.unmodifiableList(out);
    }

    private static boolean hasKeysUnder(Map<String, String> form, String prefix) {
        for (String k : form.keySet()) {
            if (k.startsWith(prefix)) return true;
        }
        return false;
    }

    // ---- writing

    private interface Body {
        void write(XMLStreamWriter w) throws XMLStreamException;
    }

    private static String document(Body body) {
        StringWriter out = new StringWriter();
        try {
            XMLStreamWriter w = XML.createXMLStreamWriter(out);
            body.write(w);
            w.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("Cannot write a Query answer", e);
        }
        return out.toString();
    }

    private static void element(XMLStreamWriter w, String name, String text) throws XMLStreamException {
        w.writeStartElement(name);
        w.writeCharacters(text);
        w.writeEndElement();
    }

    private static void writeMembers(XMLStreamWriter w, Object record) throws XMLStreamException {
        Shape shape = SHAPES.get(record.getClass());
        for (int i = 0; i < shape.names.size(); i++) {
            Object value = shape.get(record, i);
            if (value == null) continue;
            w.writeStartElement(shape.names.get(i));
            writeValue(w, value);
            w.writeEndElement();
        }
    }

    private static void writeValue(XMLStreamWriter w, Object value) throws XMLStreamException {
        if (value instanceof Record) {
            writeMembers(w, value);
        } else if (value instanceof List<?> list) {
            for (Object member : list) {
                w.writeStartElement("member");
                writeValue(w, member);
                w.writeEndElement();
            }
        } else if (value instanceof Instant instant) {
            w.writeCharacters(instant.truncatedTo(ChronoUnit.SECONDS).toString());
        } else if (value instanceof byte[] blob) {
            w.writeCharacters(Base64.getEncoder().encodeToString(blob));
        } else if (value instanceof String || value instanceof Number || value instanceof Boolean || value instanceof Enum<?>) {
            w.writeCharacters(value.toString());
        } else {
            throw new IllegalArgumentException("The Query codec cannot write a " + value.getClass().getName());
        }
    }

    // ---- records

    private static Class<?> raw(Type type) {
        return type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    }

    private static String abbreviated(String text) {
        return text.length() <= 64 ? text : text.substring(0, 64) + "...";
    }

    /** A record's members as the wire names them, in declaration order, with how to read and build them. */
    private record Shape(List<String> names, List<Type> types, List<Method> accessors, Constructor<?> constructor) {
        static Shape of(Class<?> type) {
            if (!type.isRecord()) {
                throw new IllegalArgumentException("The Query codec reads and writes records, not " + type.getName());
            }
            RecordComponent[] components = type.getRecordComponents();
            List<String> names = new ArrayList<>();
            List<Type> types = new ArrayList<>();
            List<Method> accessors = new ArrayList<>();
            Class<?>[] raw = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                String name = components[i].getName();
                names.add(Character.toUpperCase(name.charAt(0)) + name.substring(1));
                types.add(components[i].getGenericType());
                Method accessor = components[i].getAccessor();
                accessor.setAccessible(true);
                accessors.add(accessor);
                raw[i] = components[i].getType();
            }
            try {
                Constructor<?> constructor = type.getDeclaredConstructor(raw);
                constructor.setAccessible(true);
                return new Shape(List.copyOf(names), List.copyOf(types), List.copyOf(accessors), constructor);
            } catch (NoSuchMethodException e) {
                throw new IllegalArgumentException("No canonical constructor in " + type.getName(), e);
            }
        }

        Object get(Object record, int member) {
            try {
                return accessors.get(member).invoke(record);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("Cannot read " + names.get(member) + " of " + record.getClass().getName(), e);
            }
        }

        Object construct(Object[] values) {
            try {
                return constructor.newInstance(values);
            } catch (InstantiationException | IllegalAccessException e) {
                throw new IllegalStateException("Cannot build " + constructor.getDeclaringClass().getName(), e);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw new IllegalStateException("Cannot build " + constructor.getDeclaringClass().getName(), e.getCause());
            }
        }
    }
}
