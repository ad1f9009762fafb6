package io.sluice.node.api;

import io.sluice.protocol.AwsError;

/**
 * The AWS services Sluice answers, and its own operator API. Each names how requests reach it (an
 * {@code X-Amz-Target} prefix for the JSON protocols, a form {@code Action} for the Query protocol,
 * a path under {@code /admin/} for the operator API), the name SigV4 credential scopes and IAM
 * actions use, and the error a denied call gets.
 */
public enum Service {
    KINESIS("kinesis", "Kinesis_20131202", null, AwsError.AccessDeniedException),
    KMS("kms", "TrentService", null, AwsError.AccessDeniedException),
    IAM("iam", null, "2010-05-08", AwsError.AccessDenied),
    DYNAMODB("dynamodb", "DynamoDB_20120810", null, AwsError.AccessDeniedException),
    STS("sts", null, "2011-06-15", AwsError.AccessDenied),
    /** The node's own operator API ({@code GET /admin/...}), signed for service {@code sluice}. */
    SLUICE("sluice", null, null, AwsError.AccessDeniedException);

    private final String signingName;
    private final String targetPrefix;
    private final String queryVersion;
    private final AwsError accessDenied;

    Service(String signingName, String targetPrefix, String queryVersion, AwsError accessDenied) {
        this.signingName = signingName;
        this.targetPrefix = targetPrefix;
        this.queryVersion = queryVersion;
        this.accessDenied = accessDenied;
    }

    /** The service in SigV4 credential scopes and the prefix of its IAM actions ({@code kinesis:PutRecord}). */
    public String signingName() {
        return signingName;
    }

    /** {@code X-Amz-Target} is {@code <prefix>.<Operation>}; null for a Query-protocol service. */
    public String targetPrefix() {
        return targetPrefix;
    }

    /** The API version a Query-protocol service answers ({@code Version=}); null for JSON services. */
    public String queryVersion() {
        return queryVersion;
    }

    /** The XML namespace of a Query-protocol service's answers ({@code https://iam.amazonaws.com/doc/2010-05-08/}). */
    public String queryNamespace() {
        return queryVersion == null ? null : "https://" + signingName + ".amazonaws.com/doc/" + queryVersion + "/";
    }

    public AwsError accessDenied() {
        return accessDenied;
    }

    /**
     * Whether a credential scope may sign for this service in a region: its own region, and for IAM and
     * STS (global services) also us-east-1, which the CLIs and SDKs sign it with whatever the configured region.
     */
    public boolean acceptsScope(String scopeService, String scopeRegion, String nodeRegion) {
        return scopeService.equals(signingName)
                && (scopeRegion.equals(nodeRegion) || ((this == IAM || this == STS) && scopeRegion.equals("us-east-1")));
    }
}
