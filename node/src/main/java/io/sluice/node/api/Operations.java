package io.sluice.node.api;

import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.Caller;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The table of every operation Sluice serves, by service and name, and the one way each runs:
 * check the request, find its resource, authorize the operation's action on it, then the handler.
 * Adding an operation means declaring it in its service facade's list; nothing else changes.
 */
public final class Operations {
    private final Map<Service, Map<String, Operation<?>>> table = new LinkedHashMap<>();
    private final Authorizer authorizer;

    public Operations(Authorizer authorizer, List<? extends Collection<Operation<?>>> declarations) {
        this.authorizer = authorizer;
        for (Collection<Operation<?>> ops : declarations) {
            for (Operation<?> op : ops) {
                Operation<?> before = table.computeIfAbsent(op.service(), s -> new LinkedHashMap<>()).putIfAbsent(op.name(), op);
                if (before != null) {
                    throw new IllegalArgumentException("operation declared twice: " + op.action());
                }
            }
        }
    }

    public Optional<Operation<?>> find(Service service, String name) {
        return Optional.ofNullable(table.getOrDefault(service, Map.of()).get(name));
    }

    /** The operation an {@code X-Amz-Target} header names ({@code Kinesis_20131202.PutRecord}). */
    public Optional<Operation<?>> byTarget(String target) {
        int dot = target.indexOf('.');
        if (dot < 0) return Optional.empty();
        String prefix = target.substring(0, dot);
        for (Service service : table.keySet()) {
            if (prefix.equals(service.targetPrefix())) {
                return find(service, target.substring(dot + 1));
            }
        }
        return Optional.empty();
    }

    /** The operation a Query form's {@code Action} names, among the services that speak the Query protocol. */
    public Optional<Operation<?>> byAction(String action) {
        for (Service service : table.keySet()) {
            if (service.queryVersion() != null) {
                Optional<Operation<?>> op = find(service, action);
                if (op.isPresent()) return op;
            }
        }
        return Optional.empty();
    }

    /** The operations one service serves, in declaration order. */
    public Collection<Operation<?>> of(Service service) {
        return Collections.unmodifiableCollection(table.getOrDefault(service, Map.of()).values());
    }

    /** Runs an operation for a caller: check, resource, authorization, handler; failures come back in the stage. */
    @SuppressWarnings("unchecked")
    public <Q> CompletionStage<Object> run(Operation<Q> op, Caller caller, Object input) {
        Q request = (Q) input;
        try {
            op.check().validate(request);
            return op.resource().arnOf(caller, request).thenCompose(arn -> {
                if (op.action() != null) {
                    authorizer.require(caller, op.action(), arn, op.service().accessDenied());
                }
                if (op.further().isEmpty()) {
                    return (CompletionStage<Object>) op.handler().handle(caller, request, arn);
                }
                CompletionStage<String> allowed = CompletableFuture.completedFuture(arn);
                for (Operation.Requirement<Q> further : op.further()) {
                    allowed = allowed.thenCompose(main -> further.resource().arnOf(caller, request).thenApply(other -> {
                        if (other != null) {
                            authorizer.require(caller, further.action(), other, op.service().accessDenied());
                        }
                        return main;
                    }));
                }
                return allowed.thenCompose(main -> (CompletionStage<Object>) op.handler().handle(caller, request, main));
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
