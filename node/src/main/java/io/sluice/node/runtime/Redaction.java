package io.sluice.node.runtime;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The {@code toString} of a record that holds secrets: every component as the generated one shows
 * it, except the secret ones, which say only whether they are set. So settings, credentials and
 * keys can be logged, land in an exception message or a debugger's summary, and carry no secret.
 */
public final class Redaction {
    public static final String REDACTED = "<redacted>";

    private Redaction() {}

    /**
     * @param secretComponents the names of the components never to print; naming one the record
     *                         does not have is a bug and fails at once
     */
    public static String toString(Record record, String... secretComponents) {
        RecordComponent[] components = record.getClass().getRecordComponents();
        Set<String> secrets = Set.of(secretComponents);
        List<String> names = java.util.Arrays.stream(components).map(RecordComponent::getName).toList();
        if (!names.containsAll(secrets)) {
            throw new IllegalArgumentException(record.getClass().getSimpleName() + " has no component among " + secrets);
        }
        StringBuilder out = new StringBuilder(record.getClass().getSimpleName()).append('[');
        for (int i = 0; i < components.length; i++) {
            String name = components[i].getName();
            Object value = valueOf(record, components[i].getAccessor());
            out.append(i == 0 ? "" : ", ").append(name).append('=')
                    .append(secrets.contains(name) ? redacted(value) : String.valueOf(value));
        }
        return out.append(']').toString();
    }

    /** What may be said of a secret: whether there is one. */
    public static String redacted(Object secret) {
        boolean empty = secret == null
                || secret instanceof CharSequence s && s.isEmpty()
                || secret instanceof byte[] b && b.length == 0
                || secret instanceof Collection<?> c && c.isEmpty();
        return empty ? "<none>" : REDACTED;
    }

    private static Object valueOf(Record record, Method accessor) {
        try {
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (IllegalAccessException | InvocationTargetException e) {
            return "<unreadable>";
        }
    }
}
