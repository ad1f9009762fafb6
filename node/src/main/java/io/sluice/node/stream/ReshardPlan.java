package io.sluice.node.stream;

import io.sluice.node.stream.StreamEntity.ShardRange;
import io.sluice.protocol.kinesis.HashKeys;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How a stream's open shards become a target layout, one wave at a time. A target is the list of
 * starting hash keys of the open shards wanted (the first is 0); every reshard is one: SplitShard adds
 * a start, MergeShards removes one, UpdateShardCount asks for a uniform layout.
 *
 * <p>A wave is a set of independent steps on open shards, each a split (one parent, two children)
 * or a merge (two adjacent parents, one child), the only lineage Kinesis consumers know. First every
 * open shard with target starts inside splits at the middle one (one split per shard and wave); then
 * the open shards inside each target range merge pairwise. The next wave follows from the open shards
 * and the target alone, so a stream entity recovering mid-reshard finds the same wave again.
 */
public final class ReshardPlan {
    private ReshardPlan() {}

    /** A split of {@code parent} with the upper child starting at {@code splitAt}, or a merge of {@code parent} and {@code adjacent}. */
    public record Step(int parent, Integer adjacent, String splitAt) {
        public boolean isMerge() {
            return adjacent != null;
        }

        /** The parents this step closes. */
        public List<Integer> parents() {
            return adjacent == null ? List.of(parent) : List.of(parent, adjacent);
        }
    }

    /** The open shards, lowest hash keys first. */
    public static List<ShardRange> open(List<ShardRange> shards) {
        return shards.stream().filter(ShardRange::open)
                .sorted(Comparator.comparing(s -> new BigInteger(s.startingHashKey()))).toList();
    }

    /**
     * The uniform layout of {@code count} shards, each start moved onto an open shard's start when it
     * is within a 2^-32 part of a shard's width of it, so that 2 → 4 → 2 reshards by exact splits and
     * merges and creates no sliver shards. {@link HashKeys#evenRanges} rounds a start of n shards up to
     * n hash keys below its exact place, so two counts may round a boundary they share a little more
     * than either count apart (52 and 28 shards: 33 keys); the tolerance is far above any shard count,
     * and still far below any shard's width.
     */
    public static List<String> uniform(List<ShardRange> openShards, int count) {
        List<BigInteger> existing = openShards.stream().map(s -> new BigInteger(s.startingHashKey())).toList();
        BigInteger tolerance = HashKeys.MAX.divide(BigInteger.valueOf(count)).shiftRight(32);
        List<String> starts = new ArrayList<>(count);
        for (BigInteger[] range : HashKeys.evenRanges(count)) {
            BigInteger start = range[0];
            for (BigInteger e : existing) {
                if (e.subtract(start).abs().compareTo(tolerance) <= 0) {
                    start = e;
                    break;
                }
            }
            starts.add(start.toString());
        }
        return starts;
    }

    /** The open shards' starts with one shard split at {@code at}. */
    public static List<String> split(List<ShardRange> openShards, String at) {
        List<String> starts = new ArrayList<>(openShards.stream().map(ShardRange::startingHashKey).toList());
        starts.add(at);
        starts.sort(Comparator.comparing(BigInteger::new));
        return starts;
    }

    /** The open shards' starts with the boundary between two adjacent shards removed. */
    public static List<String> merge(List<ShardRange> openShards, ShardRange a, ShardRange b) {
        String boundary = new BigInteger(a.startingHashKey()).compareTo(new BigInteger(b.startingHashKey())) < 0
                ? b.startingHashKey() : a.startingHashKey();
        return openShards.stream().map(ShardRange::startingHashKey).filter(s -> !s.equals(boundary)).toList();
    }

    /**
     * The next wave from the open shards (sorted) to the target, empty when the open shards are the
     * target. {@code mergeParent}, when given, is the shard a merge names as its parent (MergeShards'
     * ShardToMerge); otherwise the lower shard of a pair is the parent.
     */
    public static List<Step> nextWave(List<ShardRange> openShards, List<String> target, Integer mergeParent) {
        List<BigInteger> starts = target.stream().map(BigInteger::new).toList();
        List<Step> splits = new ArrayList<>();
        for (ShardRange s : openShards) {
            BigInteger lo = new BigInteger(s.startingHashKey());
            BigInteger hi = new BigInteger(s.endingHashKey());
            List<BigInteger> inside = new ArrayList<>();
            for (BigInteger t : starts) {
                if (t.compareTo(lo) > 0 && t.compareTo(hi) <= 0) inside.add(t);
            }
            if (!inside.isEmpty()) {
                // at the middle start, so that k starts inside a shard take ⌈log2(k+1)⌉ waves, not k
                inside.sort(null);
                splits.add(new Step(s.index(), null, inside.get((inside.size() - 1) / 2).toString()));
            }
        }
        if (!splits.isEmpty()) {
            return splits;
        }
        List<Step> merges = new ArrayList<>();
        int i = 0;
        while (i < openShards.size()) {
            // the open shards inside the target range that starts at openShards[i]
            int j = i + 1;
            while (j < openShards.size() && !starts.contains(new BigInteger(openShards.get(j).startingHashKey()))) {
                j++;
            }
            for (int k = i; k + 1 < j; k += 2) {
                ShardRange lower = openShards.get(k);
                ShardRange upper = openShards.get(k + 1);
                boolean upperNamed = mergeParent != null && mergeParent == upper.index();
                merges.add(upperNamed ? new Step(upper.index(), lower.index(), null) : new Step(lower.index(), upper.index(), null));
            }
            i = j;
        }
        return merges;
    }

    /**
     * The child shards of a wave, numbered from {@code nextIndex} in step order, opened at {@code atMillis}.
     * A split's lower child comes first.
     */
    public static List<ShardRange> children(List<ShardRange> shards, List<Step> wave, int nextIndex, long atMillis) {
        List<ShardRange> out = new ArrayList<>();
        int index = nextIndex;
        for (Step step : wave) {
            ShardRange parent = byIndex(shards, step.parent());
            if (step.isMerge()) {
                ShardRange adjacent = byIndex(shards, step.adjacent());
                boolean parentLower = new BigInteger(parent.startingHashKey()).compareTo(new BigInteger(adjacent.startingHashKey())) < 0;
                ShardRange lower = parentLower ? parent : adjacent;
                ShardRange upper = parentLower ? adjacent : parent;
                out.add(ShardRange.child(index++, lower.startingHashKey(), upper.endingHashKey(), parent.index(), adjacent.index(), atMillis));
            } else {
                BigInteger at = new BigInteger(step.splitAt());
                out.add(ShardRange.child(index++, parent.startingHashKey(), at.subtract(BigInteger.ONE).toString(), parent.index(), null, atMillis));
                out.add(ShardRange.child(index++, step.splitAt(), parent.endingHashKey(), parent.index(), null, atMillis));
            }
        }
        return out;
    }

    static ShardRange byIndex(List<ShardRange> shards, int index) {
        for (ShardRange s : shards) {
            if (s.index() == index) return s;
        }
        throw new IllegalArgumentException("no shard " + index);
    }
}
