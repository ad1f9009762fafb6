package io.sluice.protocol.dynamodb;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * DynamoDB's expression language and its legacy equivalents, compiled once per request: condition,
 * update, projection, key-condition and filter expressions with {@code #name} and {@code :value}
 * placeholders, and {@code Expected}, {@code AttributeUpdates}, {@code KeyConditions},
 * {@code ScanFilter}/{@code QueryFilter}, {@code AttributesToGet}, turned into the same parts.
 * Bad input is an {@code ApiException} of {@code ValidationException} with AWS's wording.
 */
public final class Expressions {
    private Expressions() {}

    /** Which request an expression set belongs to: decides which parameters may appear. */
    public enum Kind { GET, PUT, UPDATE, DELETE, QUERY, SCAN }

    /**
     * Parses and cross-checks every expression of a request (unused or undefined placeholders,
     * mixed styles, parameters the kind does not take).
     *
     * @param keyAttributes the table's key attribute names: an update may not touch them
     */
    public static Compiled compile(Kind kind, ExpressionRequest request, Set<String> keyAttributes) {
        return RequestCompiler.compile(kind, request, keyAttributes);
    }

    /** A request's expressions, ready to run against items (an absent item is an empty map). */
    public interface Compiled {
        /** The write condition (ConditionExpression or Expected), if any. */
        Optional<ItemCondition> condition();

        /** The update (UpdateExpression or AttributeUpdates), if any. */
        Optional<ItemUpdate> update();

        /** The projection (ProjectionExpression or AttributesToGet), if any. */
        Optional<Projection> projection();

        /** The filter of a Query or Scan (FilterExpression, QueryFilter or ScanFilter), if any. */
        Optional<ItemCondition> filter();

        /**
         * The key condition of a Query, checked against the queried table's or index's key schema
         * ({@code ValidationException} "Query condition missed key schema element: x" and the like).
         */
        KeyCondition keyCondition(String hashKey, String rangeKey);

        /**
         * {@link #keyCondition(String, String)} that also checks the values' types against the schema's
         * ({@code S}, {@code N} or {@code B}; null leaves one unchecked): "One or more parameter values
         * were invalid: Condition parameter type does not match schema type".
         */
        default KeyCondition keyCondition(String hashKey, String hashType, String rangeKey, String rangeType) {
            return keyCondition(hashKey, rangeKey);
        }
    }

    @FunctionalInterface
    public interface ItemCondition {
        boolean test(Map<String, AttributeValue> item);
    }

    public interface ItemUpdate {
        /**
         * The item after the update ({@code ValidationException} for an operand of the wrong type, a
         * path into a missing attribute, a key attribute updated).
         */
        Updated apply(Map<String, AttributeValue> item);
    }

    /**
     * @param changed the top-level attribute names the update set, added to, deleted from or removed
     * @param touched the paths the update acted on, as a projection: what ReturnValues UPDATED_OLD and
     *                UPDATED_NEW answer of the item before and after ({@code SET m.y = :v} answers {@code m.y} only)
     */
    public record Updated(Map<String, AttributeValue> item, Set<String> changed, Projection touched) {
        /** An update that changed nothing. */
        public static Updated none(Map<String, AttributeValue> item) {
            return new Updated(item, Set.of(), any -> Map.of());
        }
    }

    @FunctionalInterface
    public interface Projection {
        Map<String, AttributeValue> apply(Map<String, AttributeValue> item);
    }

    /**
     * A Query's key condition: equality on the hash key, optionally one condition on the range key
     * ({@code =, <, <=, >, >=, BETWEEN, begins_with}).
     */
    public interface KeyCondition {
        AttributeValue hashValue();

        /** Whether an item's range key value satisfies the condition (always true when there is none). */
        boolean rangeMatches(AttributeValue rangeValue);

        /** The range condition's operator (EQ, LT, LE, GT, GE, BETWEEN, BEGINS_WITH), or null when there is none: lets a reader seek. */
        default String rangeOperator() {
            return null;
        }

        /** The range condition's values (two for BETWEEN), empty when there is none. */
        default java.util.List<AttributeValue> rangeValues() {
            return java.util.List.of();
        }
    }
}
