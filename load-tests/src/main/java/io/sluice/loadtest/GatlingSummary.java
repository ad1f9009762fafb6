package io.sluice.loadtest;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one-line summary of a Gatling run that {@code load.sh} prints: requests/s, records/s, MiB/s,
 * p50/p95/p99/max per operation, failures, for the end-to-end run the propagation delay, and for the runs
 * with readers (consumer, end-to-end) what the comparison of the records read with the records acknowledged
 * found: {@code missing}, {@code duplicates}, {@code misordered}, {@code corrupt}, {@code unacknowledged}.
 * Gatling's numbers come from its HTML report's statistics table (Gatling 3.15 writes no stats.json any
 * more), the run's own counters from the properties file the simulation wrote. Exits 1 when a request failed
 * or one of those counts is above 0, so a smoke run can gate on it.
 *
 * <pre>java io.sluice.loadtest.GatlingSummary &lt;report dir&gt; &lt;simulation properties&gt;</pre>
 */
public final class GatlingSummary {

    // one row of the statistics table: the request's name, then cells "col-N">value
    private static final Pattern ROW = Pattern.compile("class=\"ellipsed-name\">([^<]*)</span>(.*?)</tr>", Pattern.DOTALL);
    private static final Pattern CELL = Pattern.compile("col-(\\d+)\">([^<]*)</td>");

    /** Gatling's columns: 2 total, 3 OK, 4 KO, 6 count/s, 8 p50, 9 p75, 10 p95, 11 p99, 12 max (ms). */
    record Row(String name, double total, double ok, double ko, double perSecond, double p50, double p95,
               double p99, double max) {

        static Row parse(String name, String cells) {
            double[] col = new double[15];
            Matcher m = CELL.matcher(cells);
            while (m.find()) {
                int c = Integer.parseInt(m.group(1));
                if (c < col.length) {
                    col[c] = number(m.group(2));
                }
            }
            return new Row(name.trim(), col[2], col[3], col[4], col[6], col[8], col[10], col[11], col[12]);
        }

        String latencies() {
            return String.format(Locale.ROOT, "p50=%.0f p95=%.0f p99=%.0f max=%.0f ms", p50, p95, p99, max);
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: GatlingSummary <gatling report dir> <simulation .properties>");
            System.exit(2);
        }
        List<Row> rows = rows(Files.readString(Path.of(args[0], "index.html"), StandardCharsets.UTF_8));
        Properties counters = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[1]), StandardCharsets.UTF_8)) {
            counters.load(r);
        }
        String line = summary(rows, counters);
        System.out.println(line);
        boolean failed = line.contains("FAILED");
        System.exit(failed ? 1 : 0);
    }

    static List<Row> rows(String html) {
        List<Row> rows = new ArrayList<>();
        Matcher m = ROW.matcher(html);
        while (m.find()) {
            rows.add(Row.parse(m.group(1), m.group(2)));
        }
        if (rows.isEmpty()) {
            throw new IllegalStateException("no statistics table in the report");
        }
        return rows;
    }

    static String summary(List<Row> rows, Properties c) {
        Row all = rows.get(0);   // "All Requests"
        double seconds = all.perSecond() > 0 ? all.total() / all.perSecond() : Double.NaN;
        long acked = Long.parseLong(c.getProperty("recordsAcked", "0"));
        long bytes = Long.parseLong(c.getProperty("bytesAcked", "0"));
        long read = Long.parseLong(c.getProperty("recordsRead", "0"));
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s encryption=%s shards=%s size=%s: %.0f req/s",
                c.getProperty("simulation", "?"), c.getProperty("encryption", "?"), c.getProperty("shards", "?"),
                c.getProperty("size", "?"), all.perSecond()));
        if (acked > 0) {
            s.append(String.format(Locale.ROOT, ", %.0f records/s put, %.2f MiB/s", acked / seconds,
                    bytes / seconds / (1 << 20)));
        }
        if (read > 0) {
            s.append(String.format(Locale.ROOT, ", %.0f records/s read", read / seconds));
        }
        for (Row r : rows.subList(1, rows.size())) {
            if (r.name().endsWith("warm-up")) {
                continue;   // in the report, and in the totals, but not in the measured latencies
            }
            s.append(String.format(Locale.ROOT, " | %s %.0f/s %s", r.name(), r.perSecond(), r.latencies()));
        }
        if (Long.parseLong(c.getProperty("propagation.count", "0")) > 0) {
            s.append(String.format(Locale.ROOT, " | propagation p50=%s p95=%s p99=%s max=%s ms (%s records)",
                    c.getProperty("propagation.p50.ms", "-"), c.getProperty("propagation.p95.ms", "-"),
                    c.getProperty("propagation.p99.ms", "-"), c.getProperty("propagation.max.ms", "-"),
                    c.getProperty("propagation.count")));
        }
        s.append(String.format(Locale.ROOT, " | failures=%.0f", all.ko()));
        boolean wrong = false;
        for (String key : READ_CHECKS) {
            if (c.containsKey(key)) {
                long n = Long.parseLong(c.getProperty(key));
                s.append(' ').append(key).append('=').append(n);
                wrong |= n > 0;
            }
        }
        long unchecked = Long.parseLong(c.getProperty("unchecked", "0"));
        if (unchecked > 0) {
            s.append(" (").append(unchecked).append(" acknowledged records no reader was due to read)");
        }
        if (all.ko() > 0 || wrong || all.total() == 0) {
            s.append(" FAILED");
        }
        return s.toString();
    }

    /**
     * What a run with readers found comparing the records read with the records acknowledged (the
     * simulations' {@code Ledger} writes them in this order); each above 0 fails the run.
     */
    public static final List<String> READ_CHECKS = List.of("missing", "duplicates", "misordered", "corrupt", "unacknowledged");

    private static double number(String cell) {
        try {
            return Double.parseDouble(cell.trim().replace(",", ""));
        } catch (NumberFormatException e) {
            return 0;   // "-" where Gatling has nothing to show
        }
    }
}
