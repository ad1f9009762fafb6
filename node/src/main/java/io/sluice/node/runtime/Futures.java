package io.sluice.node.runtime;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Answers from Pekko's Java ask API arrive as Scala's {@code CompletionStage} adapter, which turns
 * every plain callback ({@code thenApply}, {@code thenCompose}, {@code whenComplete}, {@code handle},
 * {@code exceptionally}) into its {@code *Async} form on {@code ForkJoinPool.commonPool()}. That
 * costs a thread hop per ask; and where the common pool has a parallelism of 1 — any machine or
 * container with two CPUs — {@code CompletableFuture} runs each such callback on a <em>new
 * thread</em>: one thread started per request, which on a 2-core node cost more CPU than the
 * request itself. Every ask the node makes goes through {@link #direct}.
 */
public final class Futures {
    private static final Executor ON_COMPLETING_THREAD = Runnable::run;

    private Futures() {}

    /**
     * The same outcome as a plain {@code CompletableFuture}, completed on the thread that completes
     * {@code stage} (the replying actor's), so that callbacks chained on it run there, without a hop.
     */
    public static <T> CompletableFuture<T> direct(CompletionStage<T> stage) {
        CompletableFuture<T> out = new CompletableFuture<>();
        // the *Async form with an explicit executor is the one callback the Scala adapter leaves alone
        stage.whenCompleteAsync((value, failure) -> {
            if (failure != null) {
                out.completeExceptionally(failure);
            } else {
                out.complete(value);
            }
        }, ON_COMPLETING_THREAD);
        return out;
    }
}
