package io.sluice.node.auth;

import io.sluice.node.runtime.Redaction;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The account's root access key and the cluster's iterator secret. Given through configuration
 * (every node of a cluster must get the same ones), or, in dev mode, generated on first start and
 * kept owner-only in the data folder so that restarts keep them.
 */
public record RootCredentials(String accessKeyId, String secretAccessKey, byte[] iteratorSecret) {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static RootCredentials loadOrCreate(Path dataDir, String accessKeyId, String secret, String iteratorSecret) {
        try {
            Files.createDirectories(dataDir);
            Path file = dataDir.resolve("root-credentials");
            Map<String, String> stored = read(file);
            boolean changed = false;
            if (accessKeyId.isEmpty() || secret.isEmpty()) {
                if (!stored.containsKey("access_key_id")) {
                    stored.put("access_key_id", "AKIA" + randomKeyChars(16));
                    stored.put("secret_access_key", Base64.getEncoder().encodeToString(bytes(30)));
                    changed = true;
                }
                accessKeyId = stored.get("access_key_id");
                secret = stored.get("secret_access_key");
            }
            if (iteratorSecret.isEmpty()) {
                if (!stored.containsKey("iterator_secret")) {
                    stored.put("iterator_secret", Base64.getEncoder().encodeToString(bytes(32)));
                    changed = true;
                }
                iteratorSecret = stored.get("iterator_secret");
            }
            if (changed) {
                write(file, stored);
            }
            return new RootCredentials(accessKeyId, secret, Base64.getDecoder().decode(iteratorSecret));
        } catch (IOException e) {
            throw new IllegalStateException("cannot keep credentials in " + dataDir, e);
        }
    }

    /** The access key id, the secrets redacted: safe to log. */
    @Override
    public String toString() {
        return Redaction.toString(this, "secretAccessKey", "iteratorSecret");
    }

    private static Map<String, String> read(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (Files.exists(file)) {
            Properties p = new Properties();
            try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
            }
            p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        }
        return out;
    }

    private static void write(Path file, Map<String, String> values) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        }
        StringBuilder text = new StringBuilder();
        values.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(tmp, text.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String randomKeyChars(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(KEY_CHARS.charAt(RANDOM.nextInt(KEY_CHARS.length())));
        return sb.toString();
    }
}
