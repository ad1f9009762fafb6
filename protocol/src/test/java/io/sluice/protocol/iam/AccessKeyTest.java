package io.sluice.protocol.iam;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.*;

class AccessKeyTest {
    @Test
    void printsEverythingButTheSecret() {
        String secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        Iam.AccessKey key = new Iam.AccessKey("alice", "AKIAALICE00000000001", "Active", secret, Instant.EPOCH);
        String printed = new Iam.CreateAccessKeyResponse(key).toString();
        assertFalse(printed.contains(secret), printed);
        assertTrue(printed.contains("AccessKey[userName=alice, accessKeyId=AKIAALICE00000000001, status=Active, "
                + "secretAccessKey=<redacted>, createDate=1970-01-01T00:00:00Z]"), printed);
    }
}
