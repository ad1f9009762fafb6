package io.sluice.node.api;

import io.sluice.node.auth.Caller;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One API operation, declared once: its service and wire name, the request shape to decode, how
 * the request is checked before anything else, which resource its IAM action applies to, and its
 * handler. {@link Operations} authorizes {@code <service>:<Name>} on that resource before the
 * handler runs, the same way for every service; handlers never check access themselves.
 *
 * @param check    shape validation that answers before authorization, as AWS validates input first
 * @param action   the IAM action callers need, {@code <service>:<Name>} unless IAM names it otherwise; null
 *                 for an operation every signed caller may call
 * @param resource the ARN the caller must be allowed the action on ("*" for account-wide operations)
 * @param further  more permissions an operation needs, as ReEncrypt needs {@code kms:ReEncryptTo} on its destination;
 *                 one whose resource is null for a request does not apply to it (RegisterStreamConsumer needs
 *                 {@code kinesis:TagResource} only when it sets tags)
 */
public record Operation<Q>(Service service, String name, Class<Q> requestType, Check<Q> check, String action,
                           Resource<Q> resource, Handler<Q> handler, List<Requirement<Q>> further) {

    @FunctionalInterface
    public interface Check<Q> {
        void validate(Q request);
    }

    @FunctionalInterface
    public interface Resource<Q> {
        CompletionStage<String> arnOf(Caller caller, Q request);
    }

    /** A further action the caller must be allowed, on a resource of the same request. */
    public record Requirement<Q>(String action, Resource<Q> resource) {}

    @FunctionalInterface
    public interface Handler<Q> {
        /** @param resourceArn what {@link Resource} found, so the handler need not find it again */
        CompletionStage<?> handle(Caller caller, Q request, String resourceArn);
    }

    /** An operation with no check of its own whose resource is known without asking anyone. */
    public static <Q> Operation<Q> of(Service service, String name, Class<Q> requestType,
                                      java.util.function.BiFunction<Caller, Q, String> resource, Handler<Q> handler) {
        return new Operation<>(service, name, requestType, request -> { }, service.signingName() + ":" + name,
                (caller, request) -> CompletableFuture.completedFuture(resource.apply(caller, request)), handler, List.of());
    }

    /** An operation whose resource needs an ask (a KMS alias resolves through the key catalogue). */
    public static <Q> Operation<Q> resolving(Service service, String name, Class<Q> requestType,
                                             Resource<Q> resource, Handler<Q> handler) {
        return new Operation<>(service, name, requestType, request -> { }, service.signingName() + ":" + name,
                resource, handler, List.of());
    }

    /** The same operation with a shape check run before authorization. */
    public Operation<Q> checkedBy(Check<Q> check) {
        return new Operation<>(service, name, requestType, check, action, resource, handler, further);
    }

    /** The same operation, also requiring {@code action} on another resource of the request. */
    public Operation<Q> alsoRequires(String action, Resource<Q> resource) {
        List<Requirement<Q>> more = new java.util.ArrayList<>(further);
        more.add(new Requirement<>(action, resource));
        return new Operation<>(service, name, requestType, check, this.action, this.resource, handler, List.copyOf(more));
    }

    /** The same operation under the IAM action IAM gives it, where that is not its name (ReEncrypt: kms:ReEncryptFrom). */
    public Operation<Q> authorizedAs(String iamAction) {
        return new Operation<>(service, name, requestType, check, iamAction, resource, handler, further);
    }

    /** The same operation with no IAM action: any caller with a valid signature may call it (STS GetCallerIdentity). */
    public Operation<Q> openToEveryCaller() {
        return new Operation<>(service, name, requestType, check, null, resource, handler, further);
    }

    @Override
    public String toString() {
        return action != null ? action : service.signingName() + ":" + name;
    }
}
