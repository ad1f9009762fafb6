package io.sluice.node.table;

import io.sluice.node.runtime.CborSerializable;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.AttributeValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a DynamoDB table is, apart from its items: key schema, attribute types, billing, global
 * secondary indexes, tags, backups and deletion protection. Immutable; every change returns a new one.
 * Also the one place that checks a key or an item against the schema, in DynamoDB's words.
 */
public record TableSchema(String name, String tableId, long createdAtMillis, KeyAttribute hash, KeyAttribute range,
                          String billingMode, long readCapacity, long writeCapacity, long billingChangedAtMillis,
                          boolean deletionProtection, List<Index> indexes, Map<String, String> tags,
                          boolean pointInTimeRecovery, int recoveryPeriodDays, String tableClass)
        implements CborSerializable {

    /** A key attribute: its name and scalar type (S, N or B). */
    public record KeyAttribute(String name, String type) implements CborSerializable {}

    /** A global secondary index; its items are the table's items that carry its key attributes. */
    public record Index(String name, KeyAttribute hash, KeyAttribute range, String projectionType,
                        List<String> nonKeyAttributes, long readCapacity, long writeCapacity) implements CborSerializable {}

    public static final String PAY_PER_REQUEST = "PAY_PER_REQUEST";
    public static final String PROVISIONED = "PROVISIONED";

    public Set<String> keyAttributes() {
        Set<String> out = new LinkedHashSet<>();
        out.add(hash.name());
        if (range != null) out.add(range.name());
        return out;
    }

    /** Every attribute that appears in a key of the table or of an index, with its type: what DescribeTable lists. */
    public Map<String, String> attributeDefinitions() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(hash.name(), hash.type());
        if (range != null) out.put(range.name(), range.type());
        for (Index i : indexes) {
            out.put(i.hash().name(), i.hash().type());
            if (i.range() != null) out.put(i.range().name(), i.range().type());
        }
        return out;
    }

    public Optional<Index> index(String indexName) {
        return indexes.stream().filter(i -> i.name().equals(indexName)).findFirst();
    }

    public TableSchema withIndex(Index index) {
        List<Index> more = new ArrayList<>(indexes);
        more.add(index);
        return with(List.copyOf(more), tags, deletionProtection, billingMode, readCapacity, writeCapacity, billingChangedAtMillis);
    }

    public TableSchema withoutIndex(String indexName) {
        return with(indexes.stream().filter(i -> !i.name().equals(indexName)).toList(), tags, deletionProtection,
                billingMode, readCapacity, writeCapacity, billingChangedAtMillis);
    }

    public TableSchema withTags(Map<String, String> newTags) {
        return with(indexes, Map.copyOf(newTags), deletionProtection, billingMode, readCapacity, writeCapacity,
                billingChangedAtMillis);
    }

    public TableSchema withSettings(boolean protection, String billing, long read, long write, long changedAt) {
        return with(indexes, tags, protection, billing, read, write, changedAt);
    }

    public TableSchema withBackups(boolean enabled, int periodDays) {
        return new TableSchema(name, tableId, createdAtMillis, hash, range, billingMode, readCapacity, writeCapacity,
                billingChangedAtMillis, deletionProtection, indexes, tags, enabled, periodDays, tableClass);
    }

    private TableSchema with(List<Index> newIndexes, Map<String, String> newTags, boolean protection, String billing,
                             long read, long write, long changedAt) {
        return new TableSchema(name, tableId, createdAtMillis, hash, range, billing, read, write, changedAt, protection,
                newIndexes, newTags, pointInTimeRecovery, recoveryPeriodDays, tableClass);
    }

    // ---- keys and items

    /** A request's {@code Key}: exactly the key attributes, each of its declared type. */
    public ItemKey keyOf(Map<String, AttributeValue> key) {
        if (key == null || key.size() != keyAttributes().size() || !key.keySet().equals(keyAttributes())) {
            throw AwsError.ValidationException.exception("The provided key element does not match the schema");
        }
        for (KeyAttribute k : keys()) {
            AttributeValue v = key.get(k.name());
            if (!v.type().equals(k.type())) {
                throw AwsError.ValidationException.exception("The provided key element does not match the schema");
            }
            requireNonEmpty(k.name(), v);
        }
        return ItemKey.of(key.get(hash.name()), range == null ? null : key.get(range.name()));
    }

    /** The key of an item to be written, checking that it has every key attribute with its type, and typed index keys. */
    public ItemKey keyOfItem(Map<String, AttributeValue> item) {
        for (KeyAttribute k : keys()) {
            AttributeValue v = item.get(k.name());
            if (v == null) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: Missing the key "
                        + k.name() + " in the item");
            }
            if (!v.type().equals(k.type())) {
                throw AwsError.ValidationException.exception("One or more parameter values were invalid: Type mismatch for key "
                        + k.name() + " expected: " + k.type() + " actual: " + v.type());
            }
            requireNonEmpty(k.name(), v);
        }
        for (Index i : indexes) {
            for (KeyAttribute k : i.range() == null ? List.of(i.hash()) : List.of(i.hash(), i.range())) {
                AttributeValue v = item.get(k.name());
                if (v != null && !v.type().equals(k.type())) {
                    throw AwsError.ValidationException.exception("One or more parameter values were invalid: Type mismatch for Index Key "
                            + k.name() + " Expected: " + k.type() + " Actual: " + v.type() + " IndexName: " + i.name());
                }
                if (v != null) requireNonEmpty(k.name(), v);
            }
        }
        return ItemKey.of(item.get(hash.name()), range == null ? null : item.get(range.name()));
    }

    /** The key attributes of an item, as a {@code Key} or {@code LastEvaluatedKey} names them. */
    public Map<String, AttributeValue> keyPart(Map<String, AttributeValue> item) {
        Map<String, AttributeValue> out = new LinkedHashMap<>();
        for (String k : keyAttributes()) out.put(k, item.get(k));
        return out;
    }

    private List<KeyAttribute> keys() {
        return range == null ? List.of(hash) : List.of(hash, range);
    }

    private static void requireNonEmpty(String name, AttributeValue v) {
        boolean empty = (v instanceof AttributeValue.S s && s.value().isEmpty())
                || (v instanceof AttributeValue.B b && b.value().length == 0);
        if (empty) {
            throw AwsError.ValidationException.exception("One or more parameter values are not valid. The AttributeValue for a key "
                    + "attribute cannot contain an empty " + (v instanceof AttributeValue.S ? "string" : "binary") + " value. Key: " + name);
        }
    }
}
