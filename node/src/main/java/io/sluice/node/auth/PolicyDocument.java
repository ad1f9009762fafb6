package io.sluice.node.auth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An IAM identity policy as a user attached it: parsed and checked once, when it is put, into an
 * immutable list of statements that {@link PolicyEvaluator} decides requests on. The original text is
 * kept for GetUserPolicy. Anything IAM would refuse, or that Sluice cannot honour yet (conditions),
 * is refused with {@link MalformedPolicyDocumentException} in IAM's words rather than half-understood.
 */
public final class PolicyDocument {
    /** The policy language versions IAM accepts. */
    public static final Set<String> VERSIONS = Set.of("2012-10-17", "2008-10-17");

    static final String SYNTAX_ERRORS = "Syntax errors in policy.";
    static final String NO_PRINCIPAL = "Policy document should not specify a principal.";
    static final String CONDITION_UNSUPPORTED = "Condition is not supported by Sluice yet";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Set<String> DOCUMENT_KEYS = Set.of("Version", "Id", "Statement");
    private static final Set<String> STATEMENT_KEYS = Set.of("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource");
    private static final Pattern SID = Pattern.compile("[0-9A-Za-z]*");
    private static final Pattern ACTION = Pattern.compile("[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+");

    public enum Effect { ALLOW, DENY }

    /**
     * One statement. {@code notAction} / {@code notResource} say the lists came from {@code NotAction}
     * / {@code NotResource}: the statement then applies to everything the list does not match.
     */
    public record Statement(Optional<String> sid, Effect effect, List<String> actions, boolean notAction,
                            List<String> resources, boolean notResource) {
        public Statement {
            Objects.requireNonNull(sid);
            Objects.requireNonNull(effect);
            actions = List.copyOf(actions);
            resources = List.copyOf(resources);
        }
    }

    /** IAM's MalformedPolicyDocument; the API layer turns it into the wire error. */
    public static final class MalformedPolicyDocumentException extends RuntimeException {
        public MalformedPolicyDocumentException(String message) {
            super(message, null, false, false);
        }
    }

    private final String json;
    private final Optional<String> version;
    private final List<Statement> statements;

    private PolicyDocument(String json, Optional<String> version, List<Statement> statements) {
        this.json = json;
        this.version = version;
        this.statements = List.copyOf(statements);
    }

    /** Parses and checks a policy; throws {@link MalformedPolicyDocumentException} on anything IAM would refuse. */
    public static PolicyDocument parse(String json) {
        Objects.requireNonNull(json, "json");
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw malformed(SYNTAX_ERRORS);
        }
        if (root == null || !root.isObject()) {
            throw malformed(SYNTAX_ERRORS);
        }
        requireOnlyKeys(root, DOCUMENT_KEYS);
        Optional<String> version = optionalText(root, "Version");
        if (version.isPresent() && !VERSIONS.contains(version.get())) {
            throw malformed("The policy must contain a valid version string");
        }
        optionalText(root, "Id");
        JsonNode statementNode = root.get("Statement");
        if (statementNode == null) {
            throw malformed("Missing required field Statement");
        }
        List<JsonNode> statementNodes = new ArrayList<>();
        if (statementNode.isArray()) {
            statementNode.forEach(statementNodes::add);
        } else {
            statementNodes.add(statementNode);
        }
        if (statementNodes.isEmpty()) {
            throw malformed(SYNTAX_ERRORS);
        }
        List<Statement> statements = new ArrayList<>();
        Set<String> sids = new HashSet<>();
        for (JsonNode node : statementNodes) {
            Statement statement = statement(node);
            if (statement.sid().filter(s -> !s.isEmpty()).filter(s -> !sids.add(s)).isPresent()) {
                throw malformed("Statement IDs (SID) in a single policy must be unique.");
            }
            statements.add(statement);
        }
        return new PolicyDocument(json, version, statements);
    }

    /** The document exactly as given. */
    public String json() {
        return json;
    }

    public Optional<String> version() {
        return version;
    }

    public List<Statement> statements() {
        return statements;
    }

    private static Statement statement(JsonNode node) {
        if (!node.isObject()) {
            throw malformed(SYNTAX_ERRORS);
        }
        if (node.has("Principal") || node.has("NotPrincipal")) {
            throw malformed(NO_PRINCIPAL);
        }
        if (node.has("Condition")) {
            throw malformed(CONDITION_UNSUPPORTED);
        }
        requireOnlyKeys(node, STATEMENT_KEYS);
        Optional<String> sid = optionalText(node, "Sid");
        if (sid.isPresent() && !SID.matcher(sid.get()).matches()) {
            throw malformed("Statement IDs (SID) must be alpha-numeric. "
                    + "Check that your input satisfies the regular expression [0-9A-Za-z]*");
        }
        Effect effect = effect(optionalText(node, "Effect")
                .orElseThrow(() -> malformed("Missing required field Effect")));
        boolean notAction = oneOf(node, "Action", "NotAction", "Policy statement must contain actions.");
        List<String> actions = stringOrList(node.get(notAction ? "NotAction" : "Action"));
        if (actions.isEmpty()) {
            throw malformed("Policy statement must contain actions.");
        }
        actions.forEach(PolicyDocument::checkAction);
        boolean notResource = oneOf(node, "Resource", "NotResource", "Policy statement must contain resources.");
        List<String> resources = stringOrList(node.get(notResource ? "NotResource" : "Resource"));
        if (resources.isEmpty()) {
            throw malformed("Policy statement must contain resources.");
        }
        resources.forEach(PolicyDocument::checkResource);
        return new Statement(sid, effect, actions, notAction, resources, notResource);
    }

    private static Effect effect(String text) {
        return switch (text) {
            case "Allow" -> Effect.ALLOW;
            case "Deny" -> Effect.DENY;
            default -> throw malformed("Invalid effect: " + text);
        };
    }

    /** True when the statement uses the negated key; exactly one of the two must be present. */
    private static boolean oneOf(JsonNode node, String key, String notKey, String missingMessage) {
        boolean plain = node.has(key);
        boolean negated = node.has(notKey);
        if (plain && negated) {
            throw malformed(SYNTAX_ERRORS);
        }
        if (!plain && !negated) {
            throw malformed(missingMessage);
        }
        return negated;
    }

    private static void checkAction(String action) {
        if (action.equals("*")) {
            return;
        }
        if (action.indexOf(':') < 0) {
            throw malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
        }
        if (!ACTION.matcher(action).matches()) {
            throw malformed("Invalid action: " + action);
        }
    }

    private static void checkResource(String resource) {
        // arn:partition:service:region:account:resource — the last part may itself hold ':' and '/'
        boolean arn = resource.startsWith("arn:") && resource.split(":", 6).length == 6
                && resource.chars().noneMatch(Character::isWhitespace);
        if (!resource.equals("*") && !arn) {
            throw malformed("Resource " + resource + " must be in ARN format or \"*\".");
        }
    }

    private static List<String> stringOrList(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isTextual()) {
            out.add(node.textValue());
        } else if (node.isArray()) {
            for (JsonNode element : node) {
                if (!element.isTextual()) {
                    throw malformed(SYNTAX_ERRORS);
                }
                out.add(element.textValue());
            }
        } else {
            throw malformed(SYNTAX_ERRORS);
        }
        return out;
    }

    private static Optional<String> optionalText(JsonNode node, String key) {
        JsonNode value = node.get(key);
        if (value == null) {
            return Optional.empty();
        }
        if (!value.isTextual()) {
            throw malformed(SYNTAX_ERRORS);
        }
        return Optional.of(value.textValue());
    }

    private static void requireOnlyKeys(JsonNode node, Set<String> allowed) {
        for (Map.Entry<String, JsonNode> property : node.properties()) {
            if (!allowed.contains(property.getKey())) {
                throw malformed(SYNTAX_ERRORS);
            }
        }
    }

    private static MalformedPolicyDocumentException malformed(String message) {
        return new MalformedPolicyDocumentException(message);
    }
}
