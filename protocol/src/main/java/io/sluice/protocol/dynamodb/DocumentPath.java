package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A document path into an item: a top-level attribute name, then map keys ({@code String}) and list
 * indexes ({@code Integer}), e.g. {@code a.b[2].c} is {@code [a, b, 2, c]}. Values are immutable, so
 * writing at a path rebuilds the containers along it.
 */
record DocumentPath(List<Object> elements) {
    static final String INVALID_FOR_UPDATE = "The document path provided in the update expression is invalid for update";

    DocumentPath {
        elements = List.copyOf(elements);
        if (elements.isEmpty() || !(elements.get(0) instanceof String)) {
            throw new IllegalArgumentException("a path starts with an attribute name: " + elements);
        }
    }

    static DocumentPath of(String attribute) {
        return new DocumentPath(List.of(attribute));
    }

    String top() {
        return (String) elements.get(0);
    }

    boolean nested() {
        return elements.size() > 1;
    }

    /** The value at this path, or null when any step is missing or not a container of the right kind. */
    AttributeValue get(Map<String, AttributeValue> item) {
        AttributeValue value = item.get(top());
        for (int i = 1; i < elements.size() && value != null; i++) {
            value = step(value, elements.get(i));
        }
        return value;
    }

    private static AttributeValue step(AttributeValue container, Object element) {
        if (element instanceof String key) {
            return container instanceof AttributeValue.M m ? m.value().get(key) : null;
        }
        int index = (Integer) element;
        return container instanceof AttributeValue.L l && index < l.value().size() ? l.value().get(index) : null;
    }

    /**
     * Writes {@code value} at this path in a mutable item. A list index past the end appends, as
     * DynamoDB does; a missing or mistyped container on the way is DynamoDB's "invalid for update".
     */
    void set(Map<String, AttributeValue> item, AttributeValue value) {
        if (!nested()) {
            item.put(top(), value);
            return;
        }
        AttributeValue current = item.get(top());
        if (current == null) {
            throw invalidForUpdate();
        }
        item.put(top(), setIn(current, 1, value));
    }

    private AttributeValue setIn(AttributeValue container, int at, AttributeValue value) {
        Object element = elements.get(at);
        boolean last = at == elements.size() - 1;
        if (element instanceof String key && container instanceof AttributeValue.M m) {
            Map<String, AttributeValue> copy = new LinkedHashMap<>(m.value());
            if (last) {
                copy.put(key, value);
            } else {
                AttributeValue child = copy.get(key);
                if (child == null) throw invalidForUpdate();
                copy.put(key, setIn(child, at + 1, value));
            }
            return new AttributeValue.M(copy);
        }
        if (element instanceof Integer index && container instanceof AttributeValue.L l) {
            List<AttributeValue> copy = new ArrayList<>(l.value());
            if (last) {
                if (index < copy.size()) copy.set(index, value);
                else copy.add(value);
            } else {
                if (index >= copy.size()) throw invalidForUpdate();
                copy.set(index, setIn(copy.get(index), at + 1, value));
            }
            return new AttributeValue.L(copy);
        }
        throw invalidForUpdate();
    }

    /** Removes this path from a mutable item; a missing last step is nothing to do, a missing container is invalid. */
    void remove(Map<String, AttributeValue> item) {
        if (!nested()) {
            item.remove(top());
            return;
        }
        AttributeValue current = item.get(top());
        if (current == null) {
            throw invalidForUpdate();
        }
        item.put(top(), removeIn(current, 1));
    }

    private AttributeValue removeIn(AttributeValue container, int at) {
        Object element = elements.get(at);
        boolean last = at == elements.size() - 1;
        if (element instanceof String key && container instanceof AttributeValue.M m) {
            Map<String, AttributeValue> copy = new LinkedHashMap<>(m.value());
            if (last) {
                copy.remove(key);
            } else {
                AttributeValue child = copy.get(key);
                if (child == null) throw invalidForUpdate();
                copy.put(key, removeIn(child, at + 1));
            }
            return new AttributeValue.M(copy);
        }
        if (element instanceof Integer index && container instanceof AttributeValue.L l) {
            List<AttributeValue> copy = new ArrayList<>(l.value());
            if (last) {
                if (index < copy.size()) copy.remove((int) index);
            } else {
                if (index >= copy.size()) throw invalidForUpdate();
                copy.set(index, removeIn(copy.get(index), at + 1));
            }
            return new AttributeValue.L(copy);
        }
        throw invalidForUpdate();
    }

    /** Whether one path is a prefix of the other (or both are the same): two updates may not do that. */
    boolean overlaps(DocumentPath other) {
        int n = Math.min(elements.size(), other.elements.size());
        for (int i = 0; i < n; i++) {
            if (!elements.get(i).equals(other.elements.get(i))) return false;
        }
        return true;
    }

    /** Whether the paths use one step both as a map key and as a list index: they cannot both be right. */
    boolean conflicts(DocumentPath other) {
        int n = Math.min(elements.size(), other.elements.size());
        for (int i = 0; i < n; i++) {
            Object a = elements.get(i);
            Object b = other.elements.get(i);
            if (a.getClass() != b.getClass()) return true;
            if (!a.equals(b)) return false;
        }
        return false;
    }

    static ApiException invalidForUpdate() {
        return AwsError.ValidationException.exception(INVALID_FOR_UPDATE);
    }

    /** As AWS writes paths in messages: {@code [a, b, [2], c]}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < elements.size(); i++) {
            if (i > 0) sb.append(", ");
            Object e = elements.get(i);
            sb.append(e instanceof Integer ? "[" + e + "]" : e);
        }
        return sb.append(']').toString();
    }
}
