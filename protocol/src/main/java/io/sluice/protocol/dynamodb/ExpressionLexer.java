package io.sluice.protocol.dynamodb;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits an expression into tokens: words ({@code a}, {@code AND}, {@code 12}), {@code #name} and
 * {@code :value} placeholders, operators and punctuation. Any other character is a token of its own,
 * which the parser then reports as AWS does ({@code Syntax error; token: "!", near: "!!"}).
 */
final class ExpressionLexer {
    enum Type { WORD, NUMBER, NAME_REF, VALUE_REF, SYMBOL, OTHER, EOF }

    /** @param start offset of the first character, {@code end} one past the last */
    record Token(Type type, String text, int start, int end) {
        boolean is(String symbol) {
            return (type == Type.SYMBOL || type == Type.OTHER) && text.equals(symbol);
        }

        boolean isKeyword(String keyword) {
            return type == Type.WORD && text.equalsIgnoreCase(keyword);
        }

        String upper() {
            return text.toUpperCase(Locale.ROOT);
        }

        /** As AWS quotes a token in a syntax error. */
        String display() {
            return type == Type.EOF ? "<EOF>" : text;
        }
    }

    private ExpressionLexer() {}

    static List<Token> tokens(String text) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            int start = i;
            if (isWordChar(c)) {
                while (i < n && isWordChar(text.charAt(i))) i++;
                String word = text.substring(start, i);
                tokens.add(new Token(word.chars().allMatch(Character::isDigit) ? Type.NUMBER : Type.WORD, word, start, i));
            } else if ((c == '#' || c == ':') && i + 1 < n && isWordChar(text.charAt(i + 1))) {
                i++;
                while (i < n && isWordChar(text.charAt(i))) i++;
                tokens.add(new Token(c == '#' ? Type.NAME_REF : Type.VALUE_REF, text.substring(start, i), start, i));
            } else if ((c == '<' || c == '>') && i + 1 < n && (text.charAt(i + 1) == '=' || (c == '<' && text.charAt(i + 1) == '>'))) {
                i += 2;
                tokens.add(new Token(Type.SYMBOL, text.substring(start, i), start, i));
            } else if ("=<>()[],.+-".indexOf(c) >= 0) {
                i++;
                tokens.add(new Token(Type.SYMBOL, String.valueOf(c), start, i));
            } else {
                i += Character.charCount(text.codePointAt(i));
                tokens.add(new Token(Type.OTHER, text.substring(start, i), start, i));
            }
        }
        tokens.add(new Token(Type.EOF, "", n, n));
        return tokens;
    }

    static boolean isWordChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
}
