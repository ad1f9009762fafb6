package io.sluice.node.auth;

import io.sluice.node.auth.PolicyDocument.Effect;
import io.sluice.node.auth.PolicyDocument.Statement;

import java.util.List;
import java.util.Objects;

/**
 * Decides whether a caller may perform an action on a resource, the way IAM evaluates identity
 * policies: the root caller may do anything; otherwise a request is denied unless some statement
 * allows it, and any statement that denies it wins over every allow.
 */
public final class PolicyEvaluator {

    public enum Decision { ALLOW, EXPLICIT_DENY, IMPLICIT_DENY }

    public Decision evaluate(Caller caller, List<PolicyDocument> policies, String action, String resourceArn) {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resourceArn, "resourceArn");
        if (caller.root()) {
            return Decision.ALLOW;
        }
        boolean allowed = false;
        for (PolicyDocument policy : policies) {
            for (Statement statement : policy.statements()) {
                if (applies(statement, action, resourceArn)) {
                    if (statement.effect() == Effect.DENY) {
                        return Decision.EXPLICIT_DENY;
                    }
                    allowed = true;
                }
            }
        }
        return allowed ? Decision.ALLOW : Decision.IMPLICIT_DENY;
    }

    /** AWS's AccessDenied message for a request no policy allows. */
    public static String deniedMessage(Caller caller, String action, String resourceArn) {
        return "User: " + caller.arn() + " is not authorized to perform: " + action + " on resource: " + resourceArn;
    }

    /** AWS's AccessDenied message for a denied request; an explicit deny says so. */
    public static String deniedMessage(Caller caller, String action, String resourceArn, Decision decision) {
        return switch (decision) {
            case IMPLICIT_DENY -> deniedMessage(caller, action, resourceArn);
            case EXPLICIT_DENY -> deniedMessage(caller, action, resourceArn) + " with an explicit deny";
            case ALLOW -> throw new IllegalArgumentException("the request was allowed");
        };
    }

    private static boolean applies(Statement statement, String action, String resourceArn) {
        // Action names are case-insensitive in IAM, ARNs are not.
        return anyMatches(statement.actions(), action, true) != statement.notAction()
                && anyMatches(statement.resources(), resourceArn, false) != statement.notResource();
    }

    private static boolean anyMatches(List<String> patterns, String text, boolean ignoreCase) {
        for (String pattern : patterns) {
            if (wildcardMatches(pattern, text, ignoreCase)) {
                return true;
            }
        }
        return false;
    }

    /**
     * IAM wildcard match: {@code *} is any run of characters (empty, ':' and '/' included), {@code ?}
     * exactly one. Greedy with a single resume point at the last {@code *}, so there is no
     * backtracking blow-up and no allocation: at worst pattern × text steps, one pass in practice.
     */
    static boolean wildcardMatches(String pattern, String text, boolean ignoreCase) {
        int p = 0;
        int t = 0;
        int star = -1;      // index in pattern just after the last '*' seen
        int starText = 0;   // text position that '*' is currently assumed to stop at
        while (t < text.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = ++p;
                starText = t;
            } else if (p < pattern.length()
                    && (pattern.charAt(p) == '?' || same(pattern.charAt(p), text.charAt(t), ignoreCase))) {
                p++;
                t++;
            } else if (star >= 0) {
                // let the last '*' swallow one more character and retry from just after it
                p = star;
                t = ++starText;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    private static boolean same(char a, char b, boolean ignoreCase) {
        return a == b || ignoreCase
                && (Character.toUpperCase(a) == Character.toUpperCase(b)
                || Character.toLowerCase(a) == Character.toLowerCase(b));
    }
}
