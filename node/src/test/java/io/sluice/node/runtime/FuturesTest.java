package io.sluice.node.runtime;

import org.junit.jupiter.api.Test;
import scala.concurrent.Promise;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FuturesTest {

    /** What Pekko's Java ask returns: Scala's adapter, which makes plain callbacks asynchronous. */
    private static CompletionStage<String> scalaStage(Promise<String> promise) {
        return scala.jdk.javaapi.FutureConverters.asJava(promise.future());
    }

    /**
     * Completes an ask-like stage from a thread of its own, with a thenApply chained on
     * {@code view(stage)}; returns {completing thread, thread the callback ran on}.
     */
    private static Thread[] completeAndWatch(Function<CompletionStage<String>, CompletableFuture<String>> view) throws Exception {
        Promise<String> promise = scala.concurrent.Promise.apply();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CompletableFuture<Integer> length = view.apply(scalaStage(promise)).thenApply(s -> {
            ranOn.set(Thread.currentThread());
            return s.length();
        });
        Thread completer = new Thread(() -> promise.success("sluice"), "completer");
        completer.start();
        completer.join();
        assertEquals(6, length.get());
        return new Thread[] {completer, ranOn.get()};
    }

    @Test
    void callbacksRunOnTheCompletingThreadInsteadOfTheCommonPool() throws Exception {
        Thread[] threads = completeAndWatch(Futures::direct);
        assertSame(threads[0], threads[1]);
    }

    @Test
    void theAdapterAloneWouldHop() throws Exception {
        // the behaviour Futures.direct exists for: without it the callback leaves the completing thread
        Thread[] threads = completeAndWatch(CompletionStage::toCompletableFuture);
        assertNotSame(threads[0], threads[1]);
    }

    @Test
    void failuresPassThrough() {
        Promise<String> promise = scala.concurrent.Promise.apply();
        CompletableFuture<String> direct = Futures.direct(scalaStage(promise));
        promise.failure(new IllegalStateException("boom"));
        CompletionException e = assertThrows(CompletionException.class, direct::join);
        assertEquals("boom", e.getCause().getMessage());
    }
}
