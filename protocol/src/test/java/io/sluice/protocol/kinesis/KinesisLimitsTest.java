package io.sluice.protocol.kinesis;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KinesisLimitsTest {

    @Test
    void utf8LengthIsTheLengthOfTheEncodedString() {
        for (String s : new String[] {"", "a", "é", "€", "\uD83D\uDE00", "k\uD83D\uDE00é", "\uD800", "\uDC00x", "x\uD800"}) {
            assertEquals(s.getBytes(StandardCharsets.UTF_8).length, KinesisLimits.utf8Length(s), s);
        }
    }

    @Test
    void utf8LengthAgreesWithTheEncoderOnGeneratedStrings() {
        long seed = Long.getLong("sluice.seed", System.nanoTime());
        System.out.println("KinesisLimitsTest seed: " + seed + " (rerun with -Dsluice.seed=" + seed + ")");
        Random random = new Random(seed);
        // characters from every width class, surrogates paired and unpaired among them
        char[] alphabet = {'a', '~', '\u00e9', '\u07ff', '\u0800', '\u20ac', '\uffff', '\uD83D', '\uDE00', '\uD800', '\uDFFF'};
        for (int i = 0; i < 10_000; i++) {
            char[] chars = new char[random.nextInt(12)];
            for (int j = 0; j < chars.length; j++) chars[j] = alphabet[random.nextInt(alphabet.length)];
            String s = new String(chars);
            assertEquals(s.getBytes(StandardCharsets.UTF_8).length, KinesisLimits.utf8Length(s), () -> "seed " + seed);
        }
    }
}
