package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A request's {@code ExpressionAttributeNames} and {@code ExpressionAttributeValues}, shared by all its
 * expressions so that one left unused by every expression can be reported.
 */
final class Placeholders {
    private static final Pattern NAME_KEY = Pattern.compile("#[0-9a-zA-Z_]+");
    private static final Pattern VALUE_KEY = Pattern.compile(":[0-9a-zA-Z_]+");

    private final Map<String, String> names;
    private final Map<String, AttributeValue> values;
    private final Set<String> usedNames = new HashSet<>();
    private final Set<String> usedValues = new HashSet<>();

    Placeholders(Map<String, String> names, Map<String, AttributeValue> values) {
        this.names = names == null ? Map.of() : names;
        this.values = values == null ? Map.of() : values;
    }

    /** AWS's checks of the maps themselves, before any expression is parsed. */
    static void checkKeys(Map<String, String> names, Map<String, AttributeValue> values) {
        if (names != null) {
            if (names.isEmpty()) throw invalid("ExpressionAttributeNames must not be empty");
            for (String key : names.keySet()) {
                if (!NAME_KEY.matcher(key).matches()) {
                    throw invalid("ExpressionAttributeNames contains invalid key: Syntax error; key: \"" + key + "\"");
                }
            }
        }
        if (values != null) {
            if (values.isEmpty()) throw invalid("ExpressionAttributeValues must not be empty");
            for (Map.Entry<String, AttributeValue> e : values.entrySet()) {
                if (!VALUE_KEY.matcher(e.getKey()).matches()) {
                    throw invalid("ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + e.getKey() + "\"");
                }
                if (e.getValue() == null) {
                    throw invalid("ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, "
                            + "must contain exactly one of the supported datatypes for key " + e.getKey());
                }
            }
        }
    }

    /** The attribute name a {@code #name} stands for, or null when the request does not define it. */
    String name(String ref) {
        String name = names.get(ref);
        if (name != null) usedNames.add(ref);
        return name;
    }

    /** The value a {@code :value} stands for, or null when the request does not define it. */
    AttributeValue value(String ref) {
        AttributeValue value = values.get(ref);
        if (value != null) usedValues.add(ref);
        return value;
    }

    void checkAllUsed() {
        List<String> unusedNames = names.keySet().stream().filter(k -> !usedNames.contains(k)).toList();
        if (!unusedNames.isEmpty()) {
            throw invalid("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + String.join(", ", unusedNames) + "}");
        }
        List<String> unusedValues = values.keySet().stream().filter(k -> !usedValues.contains(k)).toList();
        if (!unusedValues.isEmpty()) {
            throw invalid("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + String.join(", ", unusedValues) + "}");
        }
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
