package io.sluice.loadtest;

import java.util.Arrays;
import java.util.Locale;

/**
 * Latencies in nanoseconds, every sample kept (runs are bounded) and appended without boxing; and the
 * nearest-rank percentiles the benches print. Not thread-safe: one list per caller, merged at the end.
 */
final class LatencySamples {
    long[] values = new long[1024];
    int size;

    void add(long v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    void addAll(LatencySamples other) {
        for (int i = 0; i < other.size; i++) {
            add(other.values[i]);
        }
    }

    long[] sorted() {
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        return sorted;
    }

    /** {@code p50=…ms p99=…ms max=…ms} of sorted nanoseconds. */
    static String summary(long[] sortedNanos) {
        if (sortedNanos.length == 0) {
            return "p50=- p99=- max=-";
        }
        return String.format(Locale.ROOT, "p50=%.1fms p99=%.1fms max=%.0fms", percentile(sortedNanos, 0.50) / 1e6,
                percentile(sortedNanos, 0.99) / 1e6, sortedNanos[sortedNanos.length - 1] / 1e6);
    }

    // nearest rank: the smallest sample with at least p of all samples at or below it
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }
}
