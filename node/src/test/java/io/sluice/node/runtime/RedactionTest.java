package io.sluice.node.runtime;

import io.sluice.node.TestConfigs;
import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RedactionTest {
    record Login(String user, String password, byte[] token, List<byte[]> keys) {}

    @Test
    void printsEveryComponentButTheSecretOnes() {
        String printed = Redaction.toString(new Login("alice", "hunter2", new byte[] {1}, List.of(new byte[] {2})),
                "password", "token", "keys");
        assertEquals("Login[user=alice, password=<redacted>, token=<redacted>, keys=<redacted>]", printed);
    }

    @Test
    void saysOnlyWhetherASecretIsSet() {
        assertEquals("Login[user=bob, password=<none>, token=<none>, keys=<none>]",
                Redaction.toString(new Login("bob", "", new byte[0], List.of()), "password", "token", "keys"));
        assertEquals("Login[user=bob, password=<none>, token=<none>, keys=<none>]",
                Redaction.toString(new Login("bob", null, null, null), "password", "token", "keys"));
    }

    @Test
    void refusesToRedactAComponentTheRecordDoesNotHave() {
        assertThrows(IllegalArgumentException.class, () -> Redaction.toString(new Login("a", "b", null, null), "pasword"));
    }

    @Test
    void nodeSettingsPrintEverySettingButTheRootKey() {
        String rootKey = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
        NodeSettings settings = TestConfigs.settings(TestConfigs.entityTests("sluice.kms.root-key = \"" + rootKey + "\""));
        String printed = settings.toString();
        assertFalse(printed.contains(rootKey), printed);
        assertTrue(printed.contains("rootKey=<redacted>"), printed);
        assertTrue(printed.contains("region=us-east-1") && printed.contains("httpPort=" + settings.httpPort())
                && printed.contains("cassandraKeyspace=" + settings.cassandraKeyspace()), printed);
    }
}
