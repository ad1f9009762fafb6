package io.sluice.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One page of a listing ordered by key: the items after {@code after} (exclusive; null for the
 * first page), at most {@code limit} of them, and whether more follow. Every paginated AWS
 * operation that pages by "exclusive start" key (streams, shards, tags) pages this way.
 */
public record Page<T>(List<T> items, boolean more) {

    public static <T> Page<T> after(Iterable<T> sorted, Function<T, String> key, String after, int limit) {
        List<T> items = new ArrayList<>();
        for (T item : sorted) {
            if (after != null && key.apply(item).compareTo(after) <= 0) continue;
            if (items.size() == limit) {
                return new Page<>(items, true);
            }
            items.add(item);
        }
        return new Page<>(items, false);
    }

    /** The key of the last item, what the next page starts after. */
    public T last() {
        return items.get(items.size() - 1);
    }
}
