package io.sluice.protocol.dynamodb;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A compiled projection: keeps exactly the named paths of an item. A nested path keeps only the named
 * part of its containers ({@code a.b} of {@code {a: {b: 1, c: 2}}} is {@code {a: {b: 1}}}); list
 * elements kept from one list stay in index order and close up, as DynamoDB answers them.
 */
final class Projector implements Expressions.Projection {
    /** One step of the paths: kept whole, or some of its children by key or index. */
    private static final class Node {
        boolean whole;
        final Map<String, Node> keys = new LinkedHashMap<>();
        final TreeMap<Integer, Node> indexes = new TreeMap<>();
    }

    private final Node root = new Node();

    Projector(List<DocumentPath> paths) {
        for (DocumentPath path : paths) {
            Node node = root;
            for (Object element : path.elements()) {
                node = element instanceof String key
                        ? node.keys.computeIfAbsent(key, k -> new Node())
                        : node.indexes.computeIfAbsent((Integer) element, k -> new Node());
            }
            node.whole = true;
        }
    }

    @Override
    public Map<String, AttributeValue> apply(Map<String, AttributeValue> item) {
        return pick(item, root);
    }

    private static Map<String, AttributeValue> pick(Map<String, AttributeValue> map, Node node) {
        Map<String, AttributeValue> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : node.keys.entrySet()) {
            AttributeValue value = map.get(e.getKey());
            AttributeValue kept = value == null ? null : keep(value, e.getValue());
            if (kept != null) out.put(e.getKey(), kept);
        }
        return out;
    }

    private static AttributeValue keep(AttributeValue value, Node node) {
        if (node.whole) {
            return value;
        }
        if (value instanceof AttributeValue.M m && !node.keys.isEmpty()) {
            Map<String, AttributeValue> picked = pick(m.value(), node);
            return picked.isEmpty() ? null : new AttributeValue.M(picked);
        }
        if (value instanceof AttributeValue.L l && !node.indexes.isEmpty()) {
            List<AttributeValue> picked = new ArrayList<>();
            for (Map.Entry<Integer, Node> e : node.indexes.entrySet()) {
                if (e.getKey() < l.value().size()) {
                    AttributeValue kept = keep(l.value().get(e.getKey()), e.getValue());
                    if (kept != null) picked.add(kept);
                }
            }
            return picked.isEmpty() ? null : new AttributeValue.L(picked);
        }
        return null;
    }
}
