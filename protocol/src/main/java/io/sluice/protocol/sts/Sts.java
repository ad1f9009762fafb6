package io.sluice.protocol.sts;

/**
 * Request and response shapes of the STS operations Sluice serves (sts 2011-06-15, Query protocol),
 * named as in the AWS API model.
 */
public final class Sts {
    private Sts() {}

    /** GetCallerIdentity takes no parameters. */
    public record GetCallerIdentityRequest() {}

    /** Who signed the request: the IAM user's unique id (the account id for root), the account, the ARN. */
    public record GetCallerIdentityResponse(String userId, String account, String arn) {}
}
