package io.sluice.node.auth;

/**
 * Who made a request, once its signature checked out: the access key used and the identity it
 * belongs to. Authorization (IAM-style policies) is decided on this.
 */
public record Caller(String accessKeyId, String arn, String name, boolean root) {}
