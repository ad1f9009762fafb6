package io.sluice.node.table;

import io.sluice.protocol.dynamodb.AttributeValue;
import io.sluice.protocol.dynamodb.Expressions;
import scala.collection.immutable.TreeMap;
import scala.math.Ordering;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;

/**
 * The items of one table, in {@link ItemKey} order, with the count and size DescribeTable reports,
 * and the one loop that pages through them for Scan and Query, on the table or on a global
 * secondary index. Immutable: a write returns new Items sharing all but O(log n) of the tree with
 * the old (Scala's persistent red-black tree, on the classpath with Pekko), so a snapshot being
 * written while the table changes sees one consistent table, and a write does not copy the table.
 */
final class Items {
    /** DynamoDB stops a Scan or Query page after this much data has been read (1 MB). */
    static final long PAGE_BYTES = 1024 * 1024;

    private static final Ordering<ItemKey> ORDER = Ordering.comparatorToOrdering(Comparator.<ItemKey>naturalOrder());
    static final Items EMPTY = new Items(scala.collection.immutable.TreeMap$.MODULE$.<ItemKey, Map<String, AttributeValue>>empty(ORDER), 0);

    private final TreeMap<ItemKey, Map<String, AttributeValue>> byKey;
    private final long bytes;

    private Items(TreeMap<ItemKey, Map<String, AttributeValue>> byKey, long bytes) {
        this.byKey = byKey;
        this.bytes = bytes;
    }

    Map<String, AttributeValue> get(ItemKey key) {
        return byKey.get(key).getOrElse(() -> null);
    }

    Items put(ItemKey key, Map<String, AttributeValue> item) {
        Map<String, AttributeValue> before = get(key);
        return new Items(byKey.updated(key, item),
                bytes + AttributeValue.itemSize(item) - (before == null ? 0 : AttributeValue.itemSize(before)));
    }

    Items remove(ItemKey key) {
        Map<String, AttributeValue> before = get(key);
        return before == null ? this : new Items(byKey.removed(key), bytes - AttributeValue.itemSize(before));
    }

    int count() {
        return byKey.size();
    }

    long bytes() {
        return bytes;
    }

    List<Map<String, AttributeValue>> all() {
        List<Map<String, AttributeValue>> out = new ArrayList<>(byKey.size());
        scala.collection.Iterator<Map<String, AttributeValue>> it = byKey.valuesIterator();
        while (it.hasNext()) out.add(it.next());
        return out;
    }

    /** How many items carry an index's key attributes, and their size: what DescribeTable says of the index. */
    long[] indexStats(TableSchema.Index index) {
        long n = 0, size = 0;
        for (Map<String, AttributeValue> item : all()) {
            if (inIndex(index, item)) {
                n++;
                size += AttributeValue.itemSize(item);
            }
        }
        return new long[] {n, size};
    }

    /**
     * One Scan or Query page.
     *
     * @param hashValue     a Query's hash key value; null for a Scan
     * @param segment       a parallel Scan's segment, with {@code totalSegments}; null for all
     */
    Page page(TableSchema schema, TableSchema.Index index, AttributeValue hashValue, Expressions.KeyCondition keyCondition,
              boolean forward, Map<String, AttributeValue> exclusiveStartKey, int limit, Integer segment, Integer totalSegments,
              Expressions.ItemCondition filter, Expressions.Projection projection, boolean countOnly) {
        TableSchema.KeyAttribute hashKey = index == null ? schema.hash() : index.hash();
        TableSchema.KeyAttribute rangeKey = index == null ? schema.range() : index.range();
        NavigableMap<Position, Map<String, AttributeValue>> ordered = ordered(schema, index, hashValue);
        Position start = exclusiveStartKey == null ? null : positionOf(schema, index, exclusiveStartKey);
        if (segment != null) {
            long lo = segment * ItemKey.TOKENS / totalSegments;
            long hi = (segment + 1L) * ItemKey.TOKENS / totalSegments;
            if (start != null && (start.key().token() < lo || start.key().token() >= hi)) {
                throw io.sluice.protocol.AwsError.ValidationException.exception("The provided Exclusive start key does not map "
                        + "to the provided Segment and TotalSegments values.");
            }
            ordered = ordered.subMap(new Position(ItemKey.bound(lo), null), true, new Position(ItemKey.bound(hi), null), false);
        }
        if (!forward) ordered = ordered.descendingMap();
        if (start != null) {
            ordered = ordered.tailMap(start, false);
        }
        List<Map<String, AttributeValue>> out = new ArrayList<>();
        int scanned = 0;
        long read = 0;
        Map<String, AttributeValue> last = null;
        Iterator<Map<String, AttributeValue>> it = ordered.values().iterator();
        while (it.hasNext() && scanned < limit && read < PAGE_BYTES) {
            Map<String, AttributeValue> item = it.next();
            if (hashValue != null && rangeKey != null && keyCondition != null && !keyCondition.rangeMatches(item.get(rangeKey.name()))) {
                continue;
            }
            scanned++;
            read += AttributeValue.itemSize(item);
            last = item;
            if (filter == null || filter.test(item)) {
                Map<String, AttributeValue> visible = index == null ? item : projected(schema, index, item);
                out.add(countOnly ? Map.of() : projection == null ? visible : projection.apply(visible));
            }
        }
        boolean more = last != null && hasMatchingNext(it, hashValue, rangeKey, keyCondition);
        Map<String, AttributeValue> lastKey = null;
        if (more) {
            lastKey = new LinkedHashMap<>(schema.keyPart(last));
            if (index != null) {
                lastKey.put(hashKey.name(), last.get(hashKey.name()));
                if (rangeKey != null) lastKey.put(rangeKey.name(), last.get(rangeKey.name()));
            }
        }
        return new Page(countOnly ? List.of() : out, out.size(), scanned, lastKey, read);
    }

    private static boolean hasMatchingNext(Iterator<Map<String, AttributeValue>> it, AttributeValue hashValue,
                                           TableSchema.KeyAttribute rangeKey, Expressions.KeyCondition keyCondition) {
        while (it.hasNext()) {
            Map<String, AttributeValue> item = it.next();
            if (hashValue == null || rangeKey == null || keyCondition == null || keyCondition.rangeMatches(item.get(rangeKey.name()))) {
                return true;
            }
        }
        return false;
    }

    /** One page: the items (or none when counting), Count, ScannedCount, LastEvaluatedKey, and the bytes read. */
    record Page(List<Map<String, AttributeValue>> items, int count, int scannedCount,
                Map<String, AttributeValue> lastEvaluatedKey, long bytesRead) {}

    /** An item's place in a table or an index: the index key first (for an index), then the table key. */
    private record Position(ItemKey key, ItemKey tableKey) implements Comparable<Position> {
        private static final Comparator<ItemKey> NULLS_FIRST = Comparator.nullsFirst(Comparator.naturalOrder());

        @Override
        public int compareTo(Position o) {
            int c = key.compareTo(o.key);
            return c != 0 ? c : NULLS_FIRST.compare(tableKey, o.tableKey);
        }
    }

    private NavigableMap<Position, Map<String, AttributeValue>> ordered(TableSchema schema, TableSchema.Index index,
                                                                        AttributeValue hashValue) {
        java.util.TreeMap<Position, Map<String, AttributeValue>> out = new java.util.TreeMap<>();
        if (index == null) {
            // a Query reads one hash key's items, which are contiguous; a Scan reads them all
            TreeMap<ItemKey, Map<String, AttributeValue>> range = byKey;
            if (hashValue != null) {
                long token = ItemKey.tokenOf(hashValue);
                range = byKey.range(new ItemKey(token, hashValue, null), ItemKey.bound(token + 1));
            }
            scala.collection.Iterator<scala.Tuple2<ItemKey, Map<String, AttributeValue>>> it = range.iterator();
            while (it.hasNext()) {
                scala.Tuple2<ItemKey, Map<String, AttributeValue>> e = it.next();
                if (hashValue == null || e._1().hash().equals(hashValue)) {
                    out.put(new Position(e._1(), null), e._2());
                }
            }
            return out;
        }
        scala.collection.Iterator<scala.Tuple2<ItemKey, Map<String, AttributeValue>>> it = byKey.iterator();
        while (it.hasNext()) {
            scala.Tuple2<ItemKey, Map<String, AttributeValue>> e = it.next();
            Map<String, AttributeValue> item = e._2();
            if (inIndex(index, item) && (hashValue == null || item.get(index.hash().name()).equals(hashValue))) {
                ItemKey indexKey = ItemKey.of(item.get(index.hash().name()), index.range() == null ? null : item.get(index.range().name()));
                out.put(new Position(indexKey, e._1()), item);
            }
        }
        return out;
    }

    private static Position positionOf(TableSchema schema, TableSchema.Index index, Map<String, AttributeValue> startKey) {
        Set<String> expected = new java.util.LinkedHashSet<>(schema.keyAttributes());
        if (index != null) {
            expected.add(index.hash().name());
            if (index.range() != null) expected.add(index.range().name());
        }
        if (!startKey.keySet().equals(expected)) {
            throw io.sluice.protocol.AwsError.ValidationException.exception("The provided starting key is invalid: "
                    + "The provided key element does not match the schema");
        }
        ItemKey tableKey = schema.keyOf(schema.keyPart(startKey));
        if (index == null) return new Position(tableKey, null);
        return new Position(ItemKey.of(startKey.get(index.hash().name()),
                index.range() == null ? null : startKey.get(index.range().name())), tableKey);
    }

    static boolean inIndex(TableSchema.Index index, Map<String, AttributeValue> item) {
        return item.containsKey(index.hash().name()) && (index.range() == null || item.containsKey(index.range().name()));
    }

    /** What an index holds of an item: everything (ALL), the keys (KEYS_ONLY), or the keys and named attributes (INCLUDE). */
    static Map<String, AttributeValue> projected(TableSchema schema, TableSchema.Index index, Map<String, AttributeValue> item) {
        if ("ALL".equals(index.projectionType())) return item;
        Map<String, AttributeValue> out = new LinkedHashMap<>(schema.keyPart(item));
        out.put(index.hash().name(), item.get(index.hash().name()));
        if (index.range() != null) out.put(index.range().name(), item.get(index.range().name()));
        if ("INCLUDE".equals(index.projectionType()) && index.nonKeyAttributes() != null) {
            for (String name : index.nonKeyAttributes()) {
                if (item.containsKey(name)) out.put(name, item.get(name));
            }
        }
        return out;
    }
}
