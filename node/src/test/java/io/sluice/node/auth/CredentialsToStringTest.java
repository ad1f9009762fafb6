package io.sluice.node.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** Whatever holds a credential prints who it belongs to, never the secret. */
class CredentialsToStringTest {
    static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    static final byte[] ITERATOR_SECRET = "iterator-secret-iterator-secret!".getBytes(StandardCharsets.US_ASCII);

    static void showsNone(String printed, String... secrets) {
        for (String secret : secrets) assertFalse(printed.contains(secret), printed);
    }

    @Test
    void rootCredentialsPrintTheirAccessKeyIdOnly() {
        String printed = new RootCredentials("AKIAROOT000000000001", SECRET, ITERATOR_SECRET).toString();
        showsNone(printed, SECRET, Base64.getEncoder().encodeToString(ITERATOR_SECRET), HexFormat.of().formatHex(ITERATOR_SECRET));
        assertEquals("RootCredentials[accessKeyId=AKIAROOT000000000001, secretAccessKey=<redacted>, iteratorSecret=<redacted>]",
                printed);
    }

    @Test
    void generatedRootCredentialsPrintNoneOfWhatWasGenerated(@TempDir Path dataDir) throws Exception {
        String printed = RootCredentials.loadOrCreate(dataDir, "", "", "").toString();
        Properties stored = new Properties();
        try (var in = Files.newBufferedReader(dataDir.resolve("root-credentials"))) {
            stored.load(in);
        }
        showsNone(printed, stored.getProperty("secret_access_key"), stored.getProperty("iterator_secret"));
        assertTrue(printed.contains(stored.getProperty("access_key_id")), printed);
    }

    @Test
    void aVerifierKeyPrintsItsCallerButNotItsSecret() {
        Caller alice = new Caller("AKIDALICE", "arn:aws:iam::000000000000:user/alice", "alice", false);
        String printed = new SigV4Verifier.Key(SECRET, alice).toString();
        showsNone(printed, SECRET);
        assertTrue(printed.contains("secretAccessKey=<redacted>") && printed.contains(alice.toString()), printed);
    }

    @Test
    void aStoredAccessKeyPrintsNotEvenItsWrappedSecret() {
        byte[] wrapped = SECRET.getBytes(StandardCharsets.UTF_8); // what matters is that no form of it is printed
        IdentityEntity.AccessKey key = new IdentityEntity.AccessKey("AKIAUSER000000000001", wrapped, "Active", 1L);
        String printed = key.toString();
        showsNone(printed, SECRET, Base64.getEncoder().encodeToString(wrapped));
        assertTrue(printed.contains("wrappedSecret=<redacted>") && printed.contains("AKIAUSER000000000001"), printed);
        IdentityEntity.User user = new IdentityEntity.User("u", "AIDA1", "arn:aws:iam::000000000000:user/u", 1L,
                new TreeMap<>(), List.of(key));
        assertTrue(new IdentityDirectory.KeyOwner(user, key).toString().contains("wrappedSecret=<redacted>"));
    }
}
