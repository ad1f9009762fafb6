package io.sluice.node.kms;

import org.apache.pekko.Done;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/** The material store for entity tests on the in-memory journal; {@link #failWrites} simulates Cassandra down. */
public final class InMemoryKeyMaterialStore implements KeyMaterialStore {
    private final Map<String, Map<Integer, byte[]>> rows = new ConcurrentHashMap<>();
    public final AtomicBoolean failWrites = new AtomicBoolean();

    @Override
    public CompletionStage<Done> put(String keyId, int version, byte[] wrapped) {
        if (failWrites.get()) {
            return CompletableFuture.failedFuture(new IllegalStateException("store down"));
        }
        rows.computeIfAbsent(keyId, k -> new ConcurrentHashMap<>()).put(version, wrapped.clone());
        return CompletableFuture.completedFuture(Done.getInstance());
    }

    @Override
    public CompletionStage<Map<Integer, byte[]>> load(String keyId) {
        return CompletableFuture.completedFuture(new TreeMap<>(rows.getOrDefault(keyId, Map.of())));
    }

    @Override
    public CompletionStage<Done> destroy(String keyId) {
        rows.remove(keyId);
        return CompletableFuture.completedFuture(Done.getInstance());
    }

    public Map<Integer, byte[]> rowsOf(String keyId) {
        return new TreeMap<>(rows.getOrDefault(keyId, Map.of()));
    }
}
