package io.sluice.node;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The layout is the architecture: the node's packages form a graph with no cycles, and the domain
 * packages never reach up into the HTTP side ({@code api}); only the root (the composition root) sees all. Read from the sources, so a new import
 * that runs back up fails here rather than in a review.
 */
class PackageLayoutTest {
    private static final Path SOURCES = Path.of("src/main/java/io/sluice/node");
    private static final Pattern REFERENCE = Pattern.compile("io\\.sluice\\.node\\.((?:[a-z]+\\.)*)[A-Z]");

    /** package -> packages it refers to ("" is the root package io.sluice.node). */
    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = SOURCES.relativize(file.getParent()).toString().replace('/', '.');
                Set<String> uses = graph.computeIfAbsent(pkg, p -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(Files.readString(file));
                while (m.find()) {
                    String target = m.group(1).isEmpty() ? "" : m.group(1).substring(0, m.group(1).length() - 1);
                    if (!target.equals(pkg)) uses.add(target);
                }
            }
        }
        return graph;
    }

    @Test
    void packagesHaveNoCycles() throws IOException {
        Map<String, Set<String>> graph = dependencies();
        assertTrue(graph.size() > 5, "read the node's packages: " + graph.keySet());
        List<String> cycles = new ArrayList<>();
        for (String start : graph.keySet()) {
            findCycle(graph, start, new ArrayList<>(List.of(start)), cycles);
        }
        assertEquals(List.of(), cycles, "package dependencies: " + graph);
    }

    private static void findCycle(Map<String, Set<String>> graph, String at, List<String> path, List<String> cycles) {
        for (String next : graph.getOrDefault(at, Set.of())) {
            if (next.equals(path.get(0))) {
                cycles.add(String.join(" -> ", path) + " -> " + next);
            } else if (!path.contains(next) && next.compareTo(path.get(0)) > 0) {
                path.add(next);
                findCycle(graph, next, path, cycles);
                path.remove(path.size() - 1);
            }
        }
    }

    @Test
    void domainPackagesNeverImportTheHttpSide() throws IOException {
        Map<String, Set<String>> graph = dependencies();
        graph.forEach((pkg, uses) -> {
            if (!pkg.equals("api") && !pkg.isEmpty()) {
                assertFalse(uses.contains("api"), pkg + " reaches up into api: " + uses);
            }
        });
    }
}
