package io.sluice.node.auth;

import io.sluice.node.kms.StreamCrypto;
import io.sluice.protocol.AwsError;

/**
 * Decides every call: the caller's action on a resource ARN, by the caller's IAM policies (root may
 * do everything). Refusals use the error each protocol family answers with: AccessDeniedException
 * for Kinesis and KMS, AccessDenied for IAM. Also the KMS permission check of stream encryption.
 */
public final class Authorizer implements StreamCrypto.KmsPermissions {
    private final IdentityDirectory identities;
    private final PolicyEvaluator evaluator = new PolicyEvaluator();

    public Authorizer(IdentityDirectory identities) {
        this.identities = identities;
    }

    public PolicyEvaluator.Decision decide(Caller caller, String action, String resourceArn) {
        if (caller.root()) return PolicyEvaluator.Decision.ALLOW;
        return evaluator.evaluate(caller, identities.policies(caller), action, resourceArn);
    }

    public void require(Caller caller, String action, String resourceArn) {
        PolicyEvaluator.Decision d = decide(caller, action, resourceArn);
        if (d != PolicyEvaluator.Decision.ALLOW) {
            AwsError error = action.startsWith("iam:") ? AwsError.AccessDenied : AwsError.AccessDeniedException;
            throw error.exception(PolicyEvaluator.deniedMessage(caller, action, resourceArn, d));
        }
    }

    @Override
    public boolean mayGenerateDataKey(Caller caller, String keyArn) {
        return decide(caller, "kms:GenerateDataKey", keyArn) == PolicyEvaluator.Decision.ALLOW;
    }

    @Override
    public boolean mayDecrypt(Caller caller, String keyArn) {
        return decide(caller, "kms:Decrypt", keyArn) == PolicyEvaluator.Decision.ALLOW;
    }
}
