package io.sluice.node.auth;

import io.sluice.protocol.AwsError;

/**
 * Decides every call: the caller's action on a resource ARN, by the caller's IAM policies (root may
 * do everything). Refusals use the error each protocol family answers with: AccessDeniedException
 * for Kinesis and KMS, AccessDenied for IAM.
 */
public final class Authorizer {
    private final IdentityDirectory identities;
    private final PolicyEvaluator evaluator = new PolicyEvaluator();

    public Authorizer(IdentityDirectory identities) {
        this.identities = identities;
    }

    public PolicyEvaluator.Decision decide(Caller caller, String action, String resourceArn) {
        if (caller.root()) return PolicyEvaluator.Decision.ALLOW;
        return evaluator.evaluate(caller, identities.policies(caller), action, resourceArn);
    }

    /** Refuses with {@code deniedAs} (the error the action's service answers) unless the caller may. */
    public void require(Caller caller, String action, String resourceArn, AwsError deniedAs) {
        PolicyEvaluator.Decision d = decide(caller, action, resourceArn);
        if (d != PolicyEvaluator.Decision.ALLOW) {
            throw deniedAs.exception(PolicyEvaluator.deniedMessage(caller, action, resourceArn, d));
        }
    }

}
