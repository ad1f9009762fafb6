package io.sluice.node.stream;

import io.sluice.node.stream.ReshardPlan.Step;
import io.sluice.node.stream.StreamEntity.ClosedShard;
import io.sluice.node.stream.StreamEntity.Present;
import io.sluice.node.stream.StreamEntity.ShardRange;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.node.stream.StreamEntity.WaveFinished;
import io.sluice.protocol.kinesis.HashKeys;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The reshard plan against generated layouts: random SplitShards and MergeShards from a uniform start,
 * then a random UpdateShardCount, SplitShard or MergeShards, each driven wave by wave as
 * {@link StreamEntity} drives it (close the wave's parents, add its children). Every wave must be
 * splits and merges Kinesis consumers can follow, leave the open shards covering the hash key space
 * exactly once, and the reshard must reach its target in a logarithmic number of waves. Repeat a run
 * with {@code -Dsluice.seed=<seed>}.
 */
class ReshardPlanTest {
    static final long SEED = Long.getLong("sluice.seed", System.nanoTime());
    static final BigInteger KEYS = BigInteger.ONE.shiftLeft(128);

    @Test
    void everyReshardOfAGeneratedLayoutReachesItsTargetBySplitsAndMerges() {
        System.out.println("ReshardPlanTest seed " + SEED + " (-Dsluice.seed=" + SEED + " to repeat)");
        Random random = new Random(SEED);
        for (int run = 0; run < 300; run++) {
            Layout stream = new Layout(1 + random.nextInt(random.nextBoolean() ? 8 : 64));
            int changes = random.nextInt(12);
            for (int i = 0; i < changes; i++) {
                List<ShardRange> open = stream.open();
                int waves = random.nextBoolean() || open.size() == 1
                        ? stream.reshard(randomSplit(random, open))
                        : stream.reshard(randomMerge(random, open));
                assertEquals(1, waves, "a SplitShard or a MergeShards is one step, in one wave (seed " + SEED + ")");
            }
            List<ShardRange> open = stream.open();
            List<String> target = switch (random.nextInt(4)) {
                case 0 -> randomSplit(random, open);
                case 1 -> open.size() == 1 ? randomSplit(random, open) : randomMerge(random, open);
                default -> {
                    int n = open.size();
                    int low = (n + 1) / 2;
                    yield ReshardPlan.uniform(open, low + random.nextInt(2 * n - low + 1));
                }
            };
            stream.reshard(target);
        }
    }

    @Test
    void doublingSplitsEveryShardInOneWave() {
        for (int n : new int[] {1, 2, 4, 64}) {
            Layout stream = new Layout(n);
            List<String> target = ReshardPlan.uniform(stream.open(), 2 * n);
            List<Step> wave = ReshardPlan.nextWave(stream.open(), target, null);
            assertEquals(n, wave.size(), n + " -> " + 2 * n);
            assertTrue(wave.stream().noneMatch(Step::isMerge), n + " -> " + 2 * n);
            assertEquals(1, stream.reshard(target), n + " -> " + 2 * n);
            assertEquals(n + 2 * n, stream.shards().size());
        }
    }

    @Test
    void halvingMergesPairsInOneWave() {
        for (int n : new int[] {2, 4, 128}) {
            Layout stream = new Layout(n);
            List<String> target = ReshardPlan.uniform(stream.open(), n / 2);
            List<Step> wave = ReshardPlan.nextWave(stream.open(), target, null);
            assertEquals(n / 2, wave.size(), n + " -> " + n / 2);
            assertTrue(wave.stream().allMatch(Step::isMerge), n + " -> " + n / 2);
            assertEquals(1, stream.reshard(target), n + " -> " + n / 2);
        }
    }

    @Test
    void scalingUpAndBackDownSplitsAndMergesExactlyTheSameBoundaries() {
        Layout stream = new Layout(2);
        stream.reshard(ReshardPlan.uniform(stream.open(), 4));
        stream.reshard(ReshardPlan.uniform(stream.open(), 2));
        assertEquals(2 + 4 + 2, stream.shards().size());
        assertEquals(starts(HashKeys.evenRanges(2)), stream.openStarts());

        Layout odd = new Layout(3);
        odd.reshard(ReshardPlan.uniform(odd.open(), 6));
        odd.reshard(ReshardPlan.uniform(odd.open(), 3));
        assertEquals(3 + 6 + 3, odd.shards().size());
        assertEquals(starts(HashKeys.evenRanges(3)), odd.openStarts());
    }

    /**
     * From any uniform layout, UpdateShardCount to any count it allows keeps every boundary that lies
     * at the same fraction of the hash key space in both, though each count rounds it differently
     * (else a reshard splits off shards a few hash keys wide, and merges them again).
     */
    @Test
    void uniformKeepsTheBoundariesItSharesWithAnUnevenUniformLayout() {
        for (int n = 1; n <= 64; n++) {
            List<ShardRange> open = new Layout(n).open();
            List<String> existing = starts(HashKeys.evenRanges(n));
            for (int m = (n + 1) / 2; m <= 2 * n; m++) {
                List<String> target = ReshardPlan.uniform(open, m);
                for (int j = 0; j < m; j++) {
                    if ((long) j * n % m == 0) {
                        assertEquals(existing.get((int) ((long) j * n / m)), target.get(j), n + " -> " + m + ", start " + j);
                    }
                }
            }
        }
        // counts found to round a shared boundary further apart than the new count
        for (int[] c : new int[][] {{52, 28}, {66, 36}, {90, 50}, {88, 64}}) {
            Layout stream = new Layout(c[0]);
            stream.reshard(ReshardPlan.uniform(stream.open(), c[1]));
            BigInteger narrowest = KEYS.divide(BigInteger.valueOf((long) c[0] * c[1]));
            for (ShardRange s : stream.shards()) {
                assertTrue(width(s).compareTo(narrowest) >= 0, c[0] + " -> " + c[1] + " made " + s);
            }
        }
    }

    // ---- generators

    /** A SplitShard's target: a random open shard split at a random key AWS accepts. */
    private static List<String> randomSplit(Random random, List<ShardRange> open) {
        List<ShardRange> splittable = open.stream().filter(s -> width(s).compareTo(BigInteger.valueOf(4)) >= 0).toList();
        ShardRange s = splittable.get(random.nextInt(splittable.size()));
        BigInteger lo = new BigInteger(s.startingHashKey());
        BigInteger hi = new BigInteger(s.endingHashKey());
        // strictly between lo + 1 and hi; sometimes at either edge
        BigInteger span = hi.subtract(lo).subtract(BigInteger.TWO);
        BigInteger offset = switch (random.nextInt(8)) {
            case 0 -> BigInteger.ZERO;
            case 1 -> span.subtract(BigInteger.ONE);
            default -> new BigInteger(130, random).mod(span);
        };
        return ReshardPlan.split(open, lo.add(BigInteger.TWO).add(offset).toString());
    }

    /** A MergeShards' target: a random adjacent pair of open shards. */
    private static List<String> randomMerge(Random random, List<ShardRange> open) {
        int i = random.nextInt(open.size() - 1);
        return ReshardPlan.merge(open, open.get(i), open.get(i + 1));
    }

    // ---- the stream, resharded as StreamEntity does

    private static final class Layout {
        private Present state;
        private final Set<Integer> parents = new HashSet<>();
        private long now = 1_000;
        private long eventSeqNr = 1;

        Layout(int shards) {
            List<ShardRange> ranges = new ArrayList<>();
            List<BigInteger[]> even = HashKeys.evenRanges(shards);
            for (int i = 0; i < shards; i++) {
                ranges.add(ShardRange.initial(i, even.get(i)[0].toString(), even.get(i)[1].toString()));
            }
            state = new Present(new StreamInfo("s", "arn", 0, "UPDATING", "PROVISIONED", 24, List.copyOf(ranges), Map.of(),
                    "NONE", null, null), false);
            assertPartition();
        }

        List<ShardRange> shards() {
            return state.info().shards();
        }

        List<ShardRange> open() {
            return ReshardPlan.open(shards());
        }

        List<String> openStarts() {
            return open().stream().map(ShardRange::startingHashKey).toList();
        }

        /** Drives waves until the open shards start at {@code target}; the number of waves. */
        int reshard(List<String> target) {
            String about = "seed " + SEED + ", " + openStarts() + " -> " + target;
            assertTarget(target, about);
            int bound = waveBound(open(), target);
            int waves = 0;
            while (true) {
                List<Step> wave = ReshardPlan.nextWave(open(), target, null);
                if (wave.isEmpty()) break;
                waves++;
                assertTrue(waves <= bound, "more than " + bound + " waves: " + about);
                // the entity recomputes the wave after a crash: the same wave again
                assertEquals(wave, ReshardPlan.nextWave(open(), target, null), about);
                applyWave(wave, about);
                assertPartition();
            }
            assertEquals(target, openStarts(), about);
            return waves;
        }

        private void applyWave(List<Step> wave, String about) {
            int nextIndex = state.nextShardIndex();
            assertEquals(shards().size(), nextIndex, "shards are numbered 0, 1, 2, ... without a gap: " + about);
            List<ShardRange> children = ReshardPlan.children(shards(), wave, nextIndex, ++now);
            int c = 0;
            Set<Integer> inWave = new HashSet<>();
            List<ClosedShard> closed = new ArrayList<>();
            for (Step step : wave) {
                for (int p : step.parents()) {
                    assertTrue(inWave.add(p), "shard " + p + " twice in one wave: " + about);
                    assertTrue(parents.add(p), "shard " + p + " a parent again: " + about);
                    assertTrue(ReshardPlan.byIndex(shards(), p).open(), "closed shard " + p + " a parent: " + about);
                    closed.add(new ClosedShard(p, eventSeqNr++, now));
                }
                ShardRange parent = ReshardPlan.byIndex(shards(), step.parent());
                if (step.isMerge()) {
                    ShardRange upper = ReshardPlan.byIndex(shards(), step.adjacent());
                    ShardRange child = children.get(c++);
                    assertEquals(end(parent).add(BigInteger.ONE), start(upper), "merged shards not adjacent, the parent lower: " + about);
                    assertEquals(ShardRange.child(nextIndex++, parent.startingHashKey(), upper.endingHashKey(),
                            parent.index(), upper.index(), now), child, about);
                } else {
                    BigInteger at = new BigInteger(step.splitAt());
                    assertTrue(at.compareTo(start(parent)) > 0 && at.compareTo(end(parent)) <= 0, "split outside its shard: " + about);
                    assertEquals(ShardRange.child(nextIndex++, parent.startingHashKey(), at.subtract(BigInteger.ONE).toString(),
                            parent.index(), null, now), children.get(c++), about);
                    assertEquals(ShardRange.child(nextIndex++, step.splitAt(), parent.endingHashKey(),
                            parent.index(), null, now), children.get(c++), about);
                }
            }
            assertEquals(c, children.size(), "children of no step: " + about);
            state = state.waveFinished(new WaveFinished(closed, children));
            for (ClosedShard p : closed) {
                ShardRange parent = ReshardPlan.byIndex(shards(), p.index());
                assertEquals(now, parent.closedAtMillis(), about);
                assertEquals(p.endEventSeqNr(), parent.endEventSeqNr(), about);
            }
        }

        /** The open shards cover [0, 2^128 - 1], each hash key once. */
        private void assertPartition() {
            BigInteger next = BigInteger.ZERO;
            for (ShardRange s : open()) {
                assertEquals(next, start(s), "gap or overlap before " + s + " (seed " + SEED + ")");
                assertTrue(end(s).compareTo(start(s)) >= 0, "empty " + s);
                next = end(s).add(BigInteger.ONE);
            }
            assertEquals(KEYS, next, "the open shards end before 2^128 - 1 (seed " + SEED + ")");
        }
    }

    /** A target is increasing starts from 0 within the hash key space. */
    private static void assertTarget(List<String> target, String about) {
        assertEquals("0", target.get(0), about);
        for (int i = 1; i < target.size(); i++) {
            assertTrue(new BigInteger(target.get(i)).compareTo(new BigInteger(target.get(i - 1))) > 0, about);
            assertTrue(new BigInteger(target.get(i)).compareTo(HashKeys.MAX) <= 0, about);
        }
    }

    /**
     * The waves a reshard may take: a shard with k target starts inside needs ⌈log2(k+1)⌉ waves of
     * splits at best, and a target range made of p pieces ⌈log2 p⌉ waves of pairwise merges.
     */
    private static int waveBound(List<ShardRange> open, List<String> target) {
        List<BigInteger> starts = target.stream().map(BigInteger::new).toList();
        int inside = 0;
        for (ShardRange s : open) {
            int k = 0;
            for (BigInteger t : starts) if (t.compareTo(start(s)) > 0 && t.compareTo(end(s)) <= 0) k++;
            inside = Math.max(inside, k);
        }
        // the pieces of a target range: the boundaries of both layouts inside it
        Set<BigInteger> all = new java.util.TreeSet<>(starts);
        open.forEach(s -> all.add(start(s)));
        int pieces = 0;
        int run = 0;
        for (BigInteger b : all) {
            if (starts.contains(b)) run = 0;
            pieces = Math.max(pieces, ++run);
        }
        return log2Ceil(inside + 1) + log2Ceil(pieces);
    }

    private static int log2Ceil(int n) {
        return 32 - Integer.numberOfLeadingZeros(n - 1);
    }

    private static BigInteger start(ShardRange s) {
        return new BigInteger(s.startingHashKey());
    }

    private static BigInteger end(ShardRange s) {
        return new BigInteger(s.endingHashKey());
    }

    private static BigInteger width(ShardRange s) {
        return end(s).subtract(start(s)).add(BigInteger.ONE);
    }

    private static List<String> starts(List<BigInteger[]> ranges) {
        return ranges.stream().map(r -> r[0].toString()).toList();
    }
}
