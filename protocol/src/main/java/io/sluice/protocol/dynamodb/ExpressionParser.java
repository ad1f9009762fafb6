package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.ExpressionLexer.Token;
import io.sluice.protocol.dynamodb.ExpressionLexer.Type;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A hand-written recursive-descent parser of DynamoDB's expression language: condition, filter and
 * key-condition expressions (one grammar), update expressions and projection expressions.
 *
 * <p>A syntax error stops the parse at once. Other faults are collected by kind while parsing goes on,
 * and the first of the most important kind is reported, which is how AWS picks between, say, an
 * undefined placeholder and a reserved word in one expression. Precedence, lowest first: {@code OR},
 * {@code AND}, {@code NOT}, then comparisons, {@code BETWEEN}, {@code IN} and functions; parentheses
 * group.
 */
final class ExpressionParser {
    /** Which request parameter an expression came in, for the "Invalid X: " prefix of its errors. */
    enum Source {
        CONDITION("ConditionExpression"),
        FILTER("FilterExpression"),
        KEY_CONDITION("KeyConditionExpression"),
        UPDATE("UpdateExpression"),
        PROJECTION("ProjectionExpression");

        final String parameter;

        Source(String parameter) {
            this.parameter = parameter;
        }

        ApiException error(String message) {
            return AwsError.ValidationException.exception("Invalid " + parameter + ": " + message);
        }
    }

    static final Set<String> RESERVED_WORDS = loadReservedWords();
    private static final Set<String> CONDITION_FUNCTIONS =
            Set.of("attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains");
    private static final Set<String> ATTRIBUTE_TYPES = Set.of("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M");
    private static final List<String> CONDITION_ORDER =
            List.of("parens", "unknownFunction", "misusedFunction", "reserved", "attrNameVal", "operand", "distinct", "function");
    private static final List<String> UPDATE_ORDER =
            List.of("reserved", "unknownFunction", "section", "attrName", "attrVal", "pathOverlap", "pathConflict", "operand", "function");
    private static final List<String> PROJECTION_ORDER = List.of("reserved", "attrName", "pathOverlap", "pathConflict");

    private final Source source;
    private final String text;
    private final List<Token> tokens;
    private final Placeholders placeholders;
    private final Map<String, String> faults = new HashMap<>();
    private final Set<Object> parenthesized = Collections.newSetFromMap(new IdentityHashMap<>());
    private int pos;
    private int depth;

    /** Deeper nesting than any real expression: refused before it can exhaust the stack. */
    private static final int MAX_DEPTH = 100;

    private ExpressionParser(Source source, String text, Placeholders placeholders) {
        this.source = source;
        this.text = text;
        this.tokens = ExpressionLexer.tokens(text);
        this.placeholders = placeholders;
    }

    /** A syntax error at a token. */
    private static final class SyntaxError extends RuntimeException {
        final int index;

        SyntaxError(int index) {
            super(null, null, false, false);
            this.index = index;
        }
    }

    // ---- entry points ----

    static Predicate condition(Source source, String text, Placeholders placeholders) {
        ExpressionParser p = start(source, text, placeholders);
        Predicate result = p.run(() -> {
            Predicate c = p.parseOr();
            p.expectEnd();
            return c;
        });
        p.report(CONDITION_ORDER);
        return result;
    }

    static UpdatePlan update(String text, Placeholders placeholders) {
        ExpressionParser p = start(Source.UPDATE, text, placeholders);
        List<UpdatePlan.Action> actions = p.run(p::parseUpdate);
        p.checkOverlaps(actions.stream().map(UpdatePlan.Action::path).toList());
        p.report(UPDATE_ORDER);
        return new UpdatePlan(actions);
    }

    static List<DocumentPath> projection(String text, Placeholders placeholders) {
        ExpressionParser p = start(Source.PROJECTION, text, placeholders);
        List<DocumentPath> paths = p.run(() -> {
            List<DocumentPath> list = new ArrayList<>();
            list.add(p.parsePath());
            while (p.peek().is(",")) {
                p.pos++;
                list.add(p.parsePath());
            }
            p.expectEnd();
            return list;
        });
        p.checkOverlaps(paths);
        p.report(PROJECTION_ORDER);
        return paths;
    }

    private static ExpressionParser start(Source source, String text, Placeholders placeholders) {
        if (text.isEmpty()) {
            throw source.error("The expression can not be empty;");
        }
        return new ExpressionParser(source, text, placeholders);
    }

    private <T> T run(java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (SyntaxError e) {
            throw source.error(syntaxMessage(e.index));
        }
    }

    /** AWS's shape: the offending token, and the text from the token before it to the token after it. */
    private String syntaxMessage(int index) {
        Token token = tokens.get(index);
        int from = index > 0 ? tokens.get(index - 1).start() : token.start();
        int to = index + 1 < tokens.size() ? tokens.get(index + 1).end() : text.length();
        if (token.type() == Type.EOF) {
            to = text.length();
        }
        return "Syntax error; token: \"" + token.display() + "\", near: \"" + text.substring(from, Math.max(from, to)) + "\"";
    }

    private void fault(String kind, String message) {
        if (source != Source.UPDATE && source != Source.PROJECTION && (kind.equals("attrName") || kind.equals("attrVal"))) {
            kind = "attrNameVal";
        }
        faults.putIfAbsent(kind, message);
    }

    private void report(List<String> order) {
        for (String kind : order) {
            String message = faults.get(kind);
            if (message != null) throw source.error(message);
        }
    }

    // ---- tokens ----

    private Token peek() {
        return tokens.get(pos);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.type() != Type.EOF) pos++;
        return t;
    }

    private void expect(String symbol) {
        if (!peek().is(symbol)) throw new SyntaxError(pos);
        pos++;
    }

    private void expectEnd() {
        if (peek().type() != Type.EOF) throw new SyntaxError(pos);
    }

    private static boolean isConditionKeyword(Token t) {
        return t.isKeyword("AND") || t.isKeyword("OR") || t.isKeyword("NOT") || t.isKeyword("BETWEEN") || t.isKeyword("IN");
    }

    private static boolean isComparator(Token t) {
        return t.is("=") || t.is("<>") || t.is("<") || t.is("<=") || t.is(">") || t.is(">=");
    }

    // ---- conditions ----

    private Predicate parseOr() {
        Predicate left = parseAnd();
        while (peek().isKeyword("OR")) {
            pos++;
            left = new Predicate.Or(left, parseAnd());
        }
        return left;
    }

    private Predicate parseAnd() {
        Predicate left = parseNot();
        while (peek().isKeyword("AND")) {
            pos++;
            left = new Predicate.And(left, parseNot());
        }
        return left;
    }

    private Predicate parseNot() {
        if (++depth > MAX_DEPTH) throw new SyntaxError(pos);
        try {
            if (peek().isKeyword("NOT")) {
                pos++;
                return new Predicate.Not(parseNot());
            }
            return parsePrimary();
        } finally {
            depth--;
        }
    }

    private Predicate parsePrimary() {
        // "(" opens either a condition or an operand, as in "(a) = :v": the token after its ")" tells
        if (peek().is("(") && !followedByComparison(matchingParen(pos))) {
            pos++;
            Predicate inner = parseOr();
            expect(")");
            if (parenthesized.contains(inner)) {
                fault("parens", "The expression has redundant parentheses;");
            }
            parenthesized.add(inner);
            return inner;
        }
        return parseComparison();
    }

    /** The index of the ")" closing the "(" at {@code open}, or -1. */
    private int matchingParen(int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.is("(")) depth++;
            else if (t.is(")") && --depth == 0) return i;
        }
        return -1;
    }

    private boolean followedByComparison(int close) {
        if (close < 0) return false;
        Token after = tokens.get(Math.min(close + 1, tokens.size() - 1));
        return isComparator(after) || after.isKeyword("BETWEEN") || after.isKeyword("IN");
    }

    private Predicate parseComparison() {
        Token head = peek();
        if (head.type() == Type.WORD && peek(1).is("(") && CONDITION_FUNCTIONS.contains(head.text())) {
            Predicate function = parseConditionFunction();
            if (isComparator(peek()) || peek().isKeyword("BETWEEN") || peek().isKeyword("IN")) {
                fault("misusedFunction", "The function is not allowed to be used this way in an expression; function: " + head.text());
                parseComparisonRest(new Operand.Invalid());
            }
            return function;
        }
        if (head.type() == Type.WORD && peek(1).is("(") && !head.text().equals("size") && !isConditionKeyword(head)) {
            // an unknown function where a condition goes: report the name, as AWS does, not the syntax
            pos++;
            parseArguments();
            fault("unknownFunction", "Invalid function name; function: " + head.text());
            if (isComparator(peek()) || peek().isKeyword("BETWEEN") || peek().isKeyword("IN")) {
                return parseComparisonRest(new Operand.Invalid());
            }
            return new Predicate.Invalid();
        }
        Operand left = parseOperand();
        Token t = peek();
        if (!isComparator(t) && !t.isKeyword("BETWEEN") && !t.isKeyword("IN") && left instanceof Operand.Size) {
            fault("misusedFunction", "The function is not allowed to be used this way in an expression; function: size");
            return new Predicate.Invalid();
        }
        return parseComparisonRest(left);
    }

    private Predicate parseComparisonRest(Operand left) {
        Token t = peek();
        if (isComparator(t)) {
            pos++;
            Operand right = parseOperand();
            checkDistinct(t.text(), left, right);
            return new Predicate.Compare(Predicate.Comparator.ofSymbol(t.text()), left, right);
        }
        if (t.isKeyword("BETWEEN")) {
            pos++;
            Operand low = parseOperand();
            if (!peek().isKeyword("AND")) throw new SyntaxError(pos);
            pos++;
            Operand high = parseOperand();
            checkBounds(low, high);
            return new Predicate.Between(left, low, high);
        }
        if (t.isKeyword("IN")) {
            pos++;
            expect("(");
            List<Operand> options = new ArrayList<>();
            options.add(parseOperand());
            while (peek().is(",")) {
                pos++;
                options.add(parseOperand());
            }
            expect(")");
            return new Predicate.In(left, options);
        }
        throw new SyntaxError(pos);
    }

    private Predicate parseConditionFunction() {
        String name = next().text();
        List<Operand> args = parseArguments();
        int expected = name.startsWith("attribute_") && !name.equals("attribute_type") ? 1 : 2;
        if (args.size() != expected) {
            fault("operand", "Incorrect number of operands for operator or function; operator or function: " + name
                    + ", number of operands: " + args.size());
            return new Predicate.Invalid();
        }
        if (expected == 2) {
            checkDistinct(name, args.get(0), args.get(1));
        }
        switch (name) {
            case "attribute_exists", "attribute_not_exists" -> {
                if (!(args.get(0) instanceof Operand.Path path)) {
                    fault("function", "Operator or function requires a document path; operator or function: " + name);
                    return new Predicate.Invalid();
                }
                return new Predicate.Exists(path.path(), name.equals("attribute_exists"));
            }
            case "attribute_type" -> {
                if (!(args.get(0) instanceof Operand.Path path)) {
                    fault("function", "Operator or function requires a document path; operator or function: " + name);
                    return new Predicate.Invalid();
                }
                AttributeValue type = args.get(1) instanceof Operand.Value v ? v.value() : null;
                if (!(type instanceof AttributeValue.S s)) {
                    fault("function", "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: "
                            + (type == null ? "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}" : type.type()));
                    return new Predicate.Invalid();
                }
                if (!ATTRIBUTE_TYPES.contains(s.value())) {
                    fault("function", "Invalid attribute type name found; type: " + s.value()
                            + ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}");
                    return new Predicate.Invalid();
                }
                return new Predicate.TypeIs(path.path(), args.get(1));
            }
            case "begins_with" -> {
                for (Operand arg : args) {
                    if (arg instanceof Operand.Value v && !(v.value() instanceof AttributeValue.S) && !(v.value() instanceof AttributeValue.B)) {
                        fault("function", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: "
                                + v.value().type());
                    }
                    if (arg instanceof Operand.Size) {
                        fault("function", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N");
                    }
                }
                return new Predicate.BeginsWith(args.get(0), args.get(1));
            }
            default -> {
                return new Predicate.Contains(args.get(0), args.get(1));
            }
        }
    }

    private List<Operand> parseArguments() {
        expect("(");
        List<Operand> args = new ArrayList<>();
        args.add(parseOperand());
        while (peek().is(",")) {
            pos++;
            args.add(parseOperand());
        }
        expect(")");
        return args;
    }

    private Operand parseOperand() {
        if (++depth > MAX_DEPTH) throw new SyntaxError(pos);
        try {
            return parseOperandAt(peek());
        } finally {
            depth--;
        }
    }

    private Operand parseOperandAt(Token t) {
        if (t.type() == Type.VALUE_REF) {
            pos++;
            AttributeValue value = placeholders.value(t.text());
            if (value == null) {
                fault("attrVal", "An expression attribute value used in expression is not defined; attribute value: " + t.text());
                return new Operand.Invalid();
            }
            return new Operand.Value(value);
        }
        if (t.type() == Type.WORD && peek(1).is("(") && !isConditionKeyword(t)) {
            String name = t.text();
            if (name.equals("size")) {
                pos++;
                List<Operand> args = parseArguments();
                if (args.size() != 1) {
                    fault("operand", "Incorrect number of operands for operator or function; operator or function: size, number of operands: " + args.size());
                    return new Operand.Invalid();
                }
                if (args.get(0) instanceof Operand.Value v) {
                    String type = v.value().type();
                    if (type.equals("N") || type.equals("BOOL") || type.equals("NULL")) {
                        fault("function", "Incorrect operand type for operator or function; operator or function: size, operand type: " + type);
                    }
                    return new Operand.Invalid();
                }
                if (!(args.get(0) instanceof Operand.Path path)) {
                    fault("function", "Operator or function requires a document path; operator or function: size");
                    return new Operand.Invalid();
                }
                return new Operand.Size(path.path());
            }
            if (CONDITION_FUNCTIONS.contains(name)) {
                parseConditionFunction();
                fault("misusedFunction", "The function is not allowed to be used this way in an expression; function: " + name);
                return new Operand.Invalid();
            }
            pos++;
            parseArguments();
            fault("unknownFunction", "Invalid function name; function: " + name);
            return new Operand.Invalid();
        }
        if (t.is("(")) {
            pos++;
            Operand inner = parseOperand();
            expect(")");
            if (parenthesized.contains(inner)) {
                fault("parens", "The expression has redundant parentheses;");
            }
            parenthesized.add(inner);
            return inner;
        }
        return new Operand.Path(parsePath());
    }

    private void checkDistinct(String operator, Operand a, Operand b) {
        if (a instanceof Operand.Path x && b instanceof Operand.Path y && x.path().equals(y.path())) {
            fault("distinct", "The first operand must be distinct from the remaining operands for this operator or function; operator: "
                    + operator + ", first operand: " + x.path());
        }
    }

    private void checkBounds(Operand low, Operand high) {
        if (low instanceof Operand.Value l && high instanceof Operand.Value h) {
            AttributeValue x = l.value();
            AttributeValue y = h.value();
            String bounds = "lower bound operand: AttributeValue: {" + x.type() + ":" + scalar(x) + "}, upper bound operand: AttributeValue: {"
                    + y.type() + ":" + scalar(y) + "}";
            if (!x.type().equals(y.type())) {
                fault("function", "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds);
            } else if (AttributeValue.comparable(x, y) && AttributeValue.compare(x, y) > 0) {
                fault("function", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds);
            }
        }
    }

    private static String scalar(AttributeValue v) {
        if (v instanceof AttributeValue.S s) return s.value();
        if (v instanceof AttributeValue.N n) return n.canonical();
        String text = v.toString();
        return text.substring(text.indexOf(' ') + 1, text.length() - 1);
    }

    // ---- paths ----

    private DocumentPath parsePath() {
        List<Object> elements = new ArrayList<>();
        elements.add(parseName(true));
        while (true) {
            if (peek().is(".")) {
                pos++;
                elements.add(parseName(false));
            } else if (peek().is("[")) {
                pos++;
                Token index = peek();
                if (index.type() != Type.NUMBER) throw new SyntaxError(pos);
                pos++;
                expect("]");
                try {
                    elements.add(Integer.parseInt(index.text()));
                } catch (NumberFormatException e) {
                    throw new SyntaxError(pos - 2);
                }
            } else {
                return new DocumentPath(elements);
            }
        }
    }

    private String parseName(boolean head) {
        Token t = peek();
        if (t.type() == Type.NAME_REF) {
            pos++;
            String name = placeholders.name(t.text());
            if (name == null) {
                fault("attrName", "An expression attribute name used in the document path is not defined; attribute name: " + t.text());
                return t.text();
            }
            return name;
        }
        if (t.type() == Type.WORD && !(head && isConditionKeyword(t) && source != Source.UPDATE && source != Source.PROJECTION)) {
            pos++;
            if (RESERVED_WORDS.contains(t.upper())) {
                fault("reserved", "Attribute name is a reserved keyword; reserved keyword: " + t.text());
            }
            return t.text();
        }
        throw new SyntaxError(pos);
    }

    private void checkOverlaps(List<DocumentPath> paths) {
        for (int i = 1; i < paths.size(); i++) {
            for (int j = 0; j < i; j++) {
                DocumentPath one = paths.get(j);
                DocumentPath two = paths.get(i);
                if (one.conflicts(two)) {
                    fault("pathConflict", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: "
                            + one + ", path two: " + two);
                } else if (one.overlaps(two)) {
                    fault("pathOverlap", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "
                            + one + ", path two: " + two);
                }
            }
        }
    }

    // ---- updates ----

    private List<UpdatePlan.Action> parseUpdate() {
        List<UpdatePlan.Action> actions = new ArrayList<>();
        Set<String> sections = new java.util.HashSet<>();
        do {
            Token clause = peek();
            String section = clause.type() == Type.WORD ? clause.upper() : "";
            if (!Set.of("SET", "REMOVE", "ADD", "DELETE").contains(section)) {
                throw new SyntaxError(pos);
            }
            pos++;
            if (!sections.add(section)) {
                fault("section", "The \"" + section + "\" section can only be used once in an update expression;");
            }
            do {
                actions.add(parseUpdateAction(section));
            } while (peek().is(",") && next() != null);
        } while (peek().type() != Type.EOF);
        return actions;
    }

    private UpdatePlan.Action parseUpdateAction(String section) {
        DocumentPath path = parsePath();
        switch (section) {
            case "SET" -> {
                expect("=");
                return new UpdatePlan.Assign(path, parseSetValue());
            }
            case "REMOVE" -> {
                return new UpdatePlan.Remove(path);
            }
            default -> {
                Token t = peek();
                if (t.type() != Type.VALUE_REF) throw new SyntaxError(pos);
                pos++;
                AttributeValue value = placeholders.value(t.text());
                if (value == null) {
                    fault("attrVal", "An expression attribute value used in expression is not defined; attribute value: " + t.text());
                    return new UpdatePlan.Remove(path);
                }
                boolean set = value instanceof AttributeValue.SS || value instanceof AttributeValue.NS || value instanceof AttributeValue.BS;
                if (!set && !(section.equals("ADD") && value instanceof AttributeValue.N)) {
                    fault("operand", "Incorrect operand type for operator or function; operator: " + section + ", operand type: " + typeWord(value));
                }
                return section.equals("ADD") ? new UpdatePlan.Add(path, value) : new UpdatePlan.Delete(path, value);
            }
        }
    }

    private static String typeWord(AttributeValue v) {
        return switch (v.type()) {
            case "S" -> "STRING";
            case "N" -> "NUMBER";
            case "B" -> "BINARY";
            case "BOOL" -> "BOOLEAN";
            case "L" -> "LIST";
            case "M" -> "MAP";
            default -> v.type();
        };
    }

    private UpdatePlan.ValueExpr parseSetValue() {
        UpdatePlan.ValueExpr left = parseSetOperand();
        Token t = peek();
        if (t.is("+") || t.is("-")) {
            pos++;
            UpdatePlan.ValueExpr right = parseSetOperand();
            checkOperandType(t.text(), "N", left, right);
            return new UpdatePlan.Arithmetic(t.is("+"), left, right);
        }
        return left;
    }

    private UpdatePlan.ValueExpr parseSetOperand() {
        if (++depth > MAX_DEPTH) throw new SyntaxError(pos);
        try {
            return parseSetOperandAt(peek());
        } finally {
            depth--;
        }
    }

    private UpdatePlan.ValueExpr parseSetOperandAt(Token t) {
        if (t.type() == Type.WORD && peek(1).is("(")) {
            String name = t.text();
            pos += 2;
            List<UpdatePlan.ValueExpr> args = new ArrayList<>();
            List<Integer> argStarts = new ArrayList<>();
            argStarts.add(pos);
            args.add(parseSetOperand());
            while (peek().is(",")) {
                pos++;
                args.add(parseSetOperand());
            }
            expect(")");
            if (!name.equals("if_not_exists") && !name.equals("list_append")) {
                fault("unknownFunction", "Invalid function name; function: " + name);
                return new UpdatePlan.Read(new Operand.Invalid());
            }
            if (args.size() != 2) {
                fault("function", "Incorrect number of operands for operator or function; operator or function: " + name
                        + ", number of operands: " + args.size());
                return new UpdatePlan.Read(new Operand.Invalid());
            }
            if (name.equals("if_not_exists")) {
                if (!(args.get(0) instanceof UpdatePlan.Read read && read.operand() instanceof Operand.Path path)) {
                    fault("function", "Operator or function requires a document path; operator or function: if_not_exists");
                    return new UpdatePlan.Read(new Operand.Invalid());
                }
                return new UpdatePlan.IfNotExists(path.path(), args.get(1));
            }
            checkOperandType(name, "L", args.get(0), args.get(1));
            return new UpdatePlan.ListAppend(args.get(0), args.get(1));
        }
        if (t.type() == Type.VALUE_REF) {
            pos++;
            AttributeValue value = placeholders.value(t.text());
            if (value == null) {
                fault("attrVal", "An expression attribute value used in expression is not defined; attribute value: " + t.text());
                return new UpdatePlan.Read(new Operand.Invalid());
            }
            return new UpdatePlan.Read(new Operand.Value(value));
        }
        return new UpdatePlan.Read(new Operand.Path(parsePath()));
    }

    private void checkOperandType(String function, String type, UpdatePlan.ValueExpr... args) {
        for (UpdatePlan.ValueExpr arg : args) {
            if (arg instanceof UpdatePlan.Read read && read.operand() instanceof Operand.Value v && !v.value().type().equals(type)) {
                fault("function", "Incorrect operand type for operator or function; operator or function: " + function
                        + ", operand type: " + v.value().type());
            }
        }
    }

    private static Set<String> loadReservedWords() {
        try (InputStream in = ExpressionParser.class.getResourceAsStream("reserved-words.txt")) {
            if (in == null) throw new IllegalStateException("reserved-words.txt is missing");
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .map(String::trim)
                    .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                    .map(line -> line.toUpperCase(Locale.ROOT))
                    .collect(java.util.stream.Collectors.toUnmodifiableSet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
