package io.sluice.protocol.dynamodb;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;

import java.math.BigDecimal;

/**
 * DynamoDB's number type: exact decimals of at most 38 significant digits with a magnitude from
 * 1E-130 to below 1E+126 (or zero), parsed, checked, sized and written as DynamoDB does.
 */
final class Numbers {
    static final int MAX_DIGITS = 38;

    private Numbers() {}

    static BigDecimal parse(String text) {
        if (text == null || text.isEmpty()) {
            throw invalid("A value provided cannot be converted into a number");
        }
        BigDecimal value;
        try {
            value = new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw invalid("A value provided cannot be converted into a number");
        }
        return check(value);
    }

    /** The number itself when DynamoDB can store it, else DynamoDB's ValidationException. */
    static BigDecimal check(BigDecimal value) {
        if (value.signum() == 0) {
            return value;
        }
        BigDecimal stripped = value.stripTrailingZeros();
        long exponent = (long) stripped.precision() - stripped.scale() - 1;
        if (exponent > 125) {
            throw invalid("Number overflow. Attempting to store a number with magnitude larger than supported range");
        }
        if (exponent < -130) {
            throw invalid("Number underflow. Attempting to store a number with magnitude smaller than supported range");
        }
        if (stripped.precision() > MAX_DIGITS) {
            throw invalid("Attempting to store more than 38 significant digits in a Number");
        }
        return value;
    }

    static BigDecimal normalize(BigDecimal value) {
        return value.signum() == 0 ? BigDecimal.ZERO : value.stripTrailingZeros();
    }

    /** As DynamoDB answers: {@code "1.50"} is {@code "1.5"}, {@code "1E+2"} is {@code "100"}, {@code "-0"} is {@code "0"}. */
    static String canonical(BigDecimal value) {
        return normalize(value).toPlainString();
    }

    /**
     * Bytes DynamoDB counts for a number: one per pair of digits aligned on the decimal point (base
     * 100), plus one, plus one if negative; zero counts one.
     */
    static long size(BigDecimal value) {
        if (value.signum() == 0) {
            return 1;
        }
        BigDecimal stripped = value.stripTrailingZeros();
        long lowest = -(long) stripped.scale();
        long highest = lowest + stripped.precision() - 1;
        long pairs = Math.floorDiv(highest, 2) - Math.floorDiv(lowest, 2) + 1;
        return 1 + pairs + (value.signum() < 0 ? 1 : 0);
    }

    private static ApiException invalid(String message) {
        return AwsError.ValidationException.exception(message);
    }
}
