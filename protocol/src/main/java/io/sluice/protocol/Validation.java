package io.sluice.protocol;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Collects constraint violations of one request and reports them all at once in AWS's words:
 * {@code 2 validation errors detected: Value null at 'streamName' failed to satisfy constraint:
 * Member must not be null; Value ...}. Member paths are the model's names in camel case.
 */
public final class Validation {
    private final List<String> violations = new ArrayList<>();

    public Validation required(String member, Object value) {
        if (value == null) {
            violations.add("Value null at '" + member + "' failed to satisfy constraint: Member must not be null");
        }
        return this;
    }

    public Validation length(String member, String value, int min, int max) {
        if (value != null && (value.length() < min || value.length() > max)) {
            violations.add(at(value, member) + "Member must have length "
                    + (value.length() < min ? "greater than or equal to " + min : "less than or equal to " + max));
        }
        return this;
    }

    public Validation bytes(String member, byte[] value, int max) {
        return value == null ? this : bytes(member, value.length, max);
    }

    /** A blob member whose size as counted by the service ({@code length}) may not pass {@code max}. */
    public Validation bytes(String member, long length, long max) {
        if (length > max) {
            violations.add("Value at '" + member + "' failed to satisfy constraint: Member must have length less than or equal to " + max);
        }
        return this;
    }

    public Validation size(String member, Collection<?> value, int min, int max) {
        return sizeOf(member, value == null ? -1 : value.size(), min, max);
    }

    public Validation size(String member, Map<?, ?> value, int min, int max) {
        return sizeOf(member, value == null ? -1 : value.size(), min, max);
    }

    private Validation sizeOf(String member, int size, int min, int max) {
        if (size >= 0 && (size < min || size > max)) {
            violations.add("Value at '" + member + "' failed to satisfy constraint: Member must have length "
                    + (size < min ? "greater than or equal to " + min : "less than or equal to " + max));
        }
        return this;
    }

    public Validation pattern(String member, String value, Pattern pattern) {
        if (value != null && !pattern.matcher(value).matches()) {
            violations.add(at(value, member) + "Member must satisfy regular expression pattern: " + pattern.pattern());
        }
        return this;
    }

    public Validation range(String member, Number value, long min, long max) {
        if (value != null && (value.longValue() < min || value.longValue() > max)) {
            violations.add("Value '" + value + "' at '" + member + "' failed to satisfy constraint: Member must have value "
                    + (value.longValue() < min ? "greater than or equal to " + min : "less than or equal to " + max));
        }
        return this;
    }

    public Validation oneOf(String member, String value, List<String> allowed) {
        if (value != null && !allowed.contains(value)) {
            violations.add(at(value, member) + "Member must satisfy enum value set: " + allowed);
        }
        return this;
    }

    /** Throws the collected violations as one ValidationException; returns quietly when there are none. */
    public void check() {
        if (violations.isEmpty()) {
            return;
        }
        String count = violations.size() == 1 ? "1 validation error detected: "
                : violations.size() + " validation errors detected: ";
        throw AwsError.ValidationException.exception(count + String.join("; ", violations));
    }

    private static String at(String value, String member) {
        return "Value '" + value + "' at '" + member + "' failed to satisfy constraint: ";
    }
}
