package io.sluice.node.api;

import io.sluice.node.auth.Caller;

import java.util.concurrent.CompletionStage;

/** One API operation: the request shape to decode and what to do with it. */
public record Operation<Q>(Class<Q> requestType, Operation.Handler<Q> handler) {

    @FunctionalInterface
    public interface Handler<Q> {
        CompletionStage<?> handle(Caller caller, Q request);
    }

    @SuppressWarnings("unchecked")
    public CompletionStage<Object> run(Caller caller, Object request) {
        return (CompletionStage<Object>) handler.handle(caller, (Q) request);
    }
}
