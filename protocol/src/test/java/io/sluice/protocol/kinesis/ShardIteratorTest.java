package io.sluice.protocol.kinesis;

import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import org.junit.jupiter.api.Test;

import java.util.Base64;

import static org.junit.jupiter.api.Assertions.*;

class ShardIteratorTest {
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes();
    private final ShardIterator iterator = new ShardIterator("a".repeat(128), 1_700_000_000_000L,
            new SequenceNumber(3, 42, 7), 1_700_000_100_000L, 1_700_000_200_000L);

    @Test
    void roundTripsWithinFiveMinutesAndStaysShort() {
        String token = iterator.encode(SECRET);
        assertTrue(token.length() <= 512, "length " + token.length());
        assertEquals(iterator, ShardIterator.decode(token, SECRET, iterator.issuedAtMillis() + 299_000));
    }

    @Test
    void expiresAfterFiveMinutes() {
        String token = iterator.encode(SECRET);
        ApiException e = assertThrows(ApiException.class,
                () -> ShardIterator.decode(token, SECRET, iterator.issuedAtMillis() + 300_001));
        assertEquals(AwsError.ExpiredIteratorException, e.error());
        assertTrue(e.getMessage().startsWith("Iterator expired."));
    }

    @Test
    void refusesEveryAlteredByte() {
        byte[] raw = Base64.getUrlDecoder().decode(iterator.encode(SECRET));
        for (int i = 0; i < raw.length; i++) {
            byte[] copy = raw.clone();
            copy[i] ^= 0x01;
            String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(copy);
            ApiException e = assertThrows(ApiException.class,
                    () -> ShardIterator.decode(forged, SECRET, iterator.issuedAtMillis()), "byte " + i);
            assertEquals(AwsError.InvalidArgumentException, e.error());
        }
    }

    @Test
    void refusesTokensOfAnotherSecretAndGarbage() {
        String token = iterator.encode("another secret, another cluster".getBytes());
        assertThrows(ApiException.class, () -> ShardIterator.decode(token, SECRET, iterator.issuedAtMillis()));
        assertThrows(ApiException.class, () -> ShardIterator.decode("DUMMY", SECRET, 0));
        assertThrows(ApiException.class, () -> ShardIterator.decode("!!!", SECRET, 0));
    }
}
