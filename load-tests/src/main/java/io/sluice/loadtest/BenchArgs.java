package io.sluice.loadtest;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/** A bench's command line: one scenario word and parameters written {@code --key=value}, {@code -Dkey=value} or {@code key=value}. */
record BenchArgs(String scenario, Map<String, String> values) {

    /** @param usage called with the problem when the line is wrong (the benches print their usage and exit) */
    static BenchArgs parse(String[] argv, Consumer<String> usage) {
        String scenario = null;
        Map<String, String> values = new HashMap<>();
        for (String a : argv) {
            String kv = a.startsWith("--") ? a.substring(2) : a.startsWith("-D") ? a.substring(2) : a;
            int eq = kv.indexOf('=');
            if (eq > 0) {
                values.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (scenario == null && !a.startsWith("-")) {
                scenario = a;
            } else {
                usage.accept("unexpected argument " + a);
            }
        }
        if (scenario == null) {
            usage.accept("no scenario");
        }
        return new BenchArgs(scenario, values);
    }

    /** A parameter from the command line, else the system property of that name, else the fallback. */
    String str(String key, String fallback) {
        String v = values.get(key);
        if (v == null) {
            v = System.getProperty(key);
        }
        return v == null || v.isBlank() ? fallback : v.trim();
    }

    /** A whole-number parameter; anything else is an IllegalArgumentException naming it. */
    long num(String key, long fallback) {
        String v = str(key, null);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, not " + v);
        }
    }

    /** This process's CPU time, for the client-cpu a bench reports beside its numbers. */
    static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }
}
