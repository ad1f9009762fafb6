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
}
