package io.sluice.node.runtime;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimingsTest {

    @Test
    void everyDurationFallsInABucketAtMostAnEighthWide() {
        for (long micros = 0; micros < 5_000_000; micros += 1 + micros / 97) {
            int b = Timings.bucket(micros);
            long upper = Timings.upperBound(b);
            long lower = b == 0 ? 0 : Timings.upperBound(b - 1) + 1;
            assertTrue(lower <= micros && micros <= upper, micros + " not in bucket " + b + " [" + lower + ", " + upper + "]");
            assertTrue(upper - lower <= Math.max(0, lower / 8), "bucket " + b + " too wide: [" + lower + ", " + upper + "]");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void summarisesCountMeanPercentilesAndMax() {
        Timings t = new Timings();
        for (int i = 1; i <= 1000; i++) t.record("step", i * 10L);   // 10 µs .. 10 ms
        t.count("things", 3);
        t.count("things", 4);
        Map<String, Object> snapshot = t.snapshot();
        Map<String, Object> step = (Map<String, Object>) ((Map<String, Object>) snapshot.get("timings")).get("step");
        assertEquals(1000L, step.get("count"));
        assertEquals(5.005, (double) step.get("meanMs"), 0.01);
        assertEquals(5.0, (double) step.get("p50Ms"), 5.0 / 8);
        assertEquals(9.9, (double) step.get("p99Ms"), 9.9 / 8);
        assertEquals(10.0, (double) step.get("maxMs"), 0.001);
        assertEquals(7L, ((Map<String, Object>) snapshot.get("counters")).get("things"));
    }

    @Test
    void sinceMeasuresElapsedTime() throws Exception {
        Timings t = new Timings();
        long start = System.nanoTime();
        Thread.sleep(20);
        t.since("sleep", start);
        @SuppressWarnings("unchecked")
        Map<String, Object> sleep = (Map<String, Object>) ((Map<String, Object>) t.snapshot().get("timings")).get("sleep");
        assertTrue((double) sleep.get("maxMs") >= 20.0, "recorded " + sleep);
    }
}
