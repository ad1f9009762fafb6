package io.sluice.node.tls;

import io.sluice.node.runtime.Redaction;
import org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * The certificate chain and private key the node's HTTPS listener presents: from the PEM files the
 * operator names, or, when none are named, a {@link SelfSignedCertificate} the node generates into
 * its data folder on first start ({@value #CERTIFICATE_FILE}, readable by anyone, and
 * {@value #KEY_FILE}, owner-only like the root key) and reuses after, renewed when it has less than
 * {@link #RENEW_BEFORE} left. Nodes sharing a data folder (deploy/local) share one certificate: the
 * first to start makes it, and if several race, all end up with the files that were made first.
 *
 * <p>Its {@code toString} leaves out the key.
 */
public record ServerCertificate(List<X509Certificate> chain, PrivateKey privateKey, Path certificateFile, boolean generated) {
    public static final String CERTIFICATE_FILE = "tls-certificate.pem";
    public static final String KEY_FILE = "tls-private-key.pem";
    /** A generated certificate closer to its end than this is replaced at start. */
    public static final Duration RENEW_BEFORE = Duration.ofDays(7);

    public ServerCertificate {
        chain = List.copyOf(chain);
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    /**
     * The node's certificate: from the two PEM files when both are named, else the generated one in
     * {@code dataDir}, checked against {@code now}.
     */
    public static ServerCertificate configured(String certificateFile, String keyFile, Path dataDir, Instant now) {
        if (certificateFile.isBlank() && keyFile.isBlank()) return loadOrGenerate(dataDir, now);
        if (certificateFile.isBlank() || keyFile.isBlank()) {
            throw new IllegalArgumentException("sluice.http.tls.certificate (SLUICE_TLS_CERT) and sluice.http.tls.private-key "
                    + "(SLUICE_TLS_KEY) go together: name both PEM files, or neither for a generated self-signed certificate");
        }
        return fromPemFiles(Path.of(certificateFile), Path.of(keyFile));
    }

    /** The operator's files; fails, naming the file and the problem, if they do not hold a certificate and its key. */
    public static ServerCertificate fromPemFiles(Path certificateFile, Path keyFile) {
        List<X509Certificate> chain = PemFiles.readCertificates(certificateFile);
        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        if (!belongTogether(key, chain.get(0).getPublicKey())) {
            throw new IllegalArgumentException("the private key in " + keyFile + " does not belong to the first certificate in "
                    + certificateFile);
        }
        return new ServerCertificate(chain, key, certificateFile, false);
    }

    /** The certificate generated into {@code dataDir} (made now if missing, expiring or not for the key there). */
    public static ServerCertificate loadOrGenerate(Path dataDir, Instant now) {
        Path certificateFile = dataDir.resolve(CERTIFICATE_FILE);
        Path keyFile = dataDir.resolve(KEY_FILE);
        try {
            Files.createDirectories(dataDir);
            if (!Files.exists(keyFile)) {
                KeyPair keys = SelfSignedCertificate.newKeyPair();
                publish(keyFile, PemFiles.privateKeyPem(keys.getPrivate()), true, false);
            }
            PrivateKey key = PemFiles.readPrivateKey(keyFile);
            if (!usable(certificateFile, key, now)) {
                X509Certificate issued = SelfSignedCertificate.issue(new KeyPair(publicKeyOf(key), key), now);
                // a new file replaces one that has run out; racing nodes each write a certificate for the same key
                publish(certificateFile, PemFiles.certificatePem(issued), false, Files.exists(certificateFile));
            }
            List<X509Certificate> chain = PemFiles.readCertificates(certificateFile);
            return new ServerCertificate(chain, key, certificateFile, true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot keep a TLS certificate in " + dataDir, e);
        }
    }

    private static boolean usable(Path certificateFile, PrivateKey key, Instant now) {
        if (!Files.exists(certificateFile)) return false;
        try {
            X509Certificate certificate = PemFiles.readCertificates(certificateFile).get(0);
            return certificate.getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE))
                    && belongTogether(key, certificate.getPublicKey());
        } catch (IllegalArgumentException unreadable) {
            return false;
        }
    }

    /** Whether {@code key} signs what {@code publicKey} verifies (for key types that cannot be tried, whether their types agree). */
    static boolean belongTogether(PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) return false;
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
            default -> null;
        };
        if (algorithm == null) return true; // RSASSA-PSS: the first handshake will tell
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** The public half of the generated key (the key file holds only the private half), for a renewal. */
    private static PublicKey publicKeyOf(PrivateKey key) {
        if (!(key instanceof ECPrivateKey ec)) {
            throw new IllegalStateException("the generated key file holds a " + key.getAlgorithm()
                    + " key, not the EC key Sluice makes; delete " + KEY_FILE + " and " + CERTIFICATE_FILE + " to start anew");
        }
        ECParameterSpec params = ec.getParams();
        ECPoint q = EC5Util.convertPoint(EC5Util.convertSpec(params).getG().multiply(ec.getS()).normalize());
        try {
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(q, params));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive the public key", e);
        }
    }

    /**
     * Writes a complete file under its final name: a new one never replaces an existing file (another
     * node may have made it and serve it), a renewal replaces the old one atomically.
     */
    private static void publish(Path file, String text, boolean ownerOnly, boolean replace) throws IOException {
        Path tmp;
        try {
            tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(ownerOnly ? "rw-------" : "rw-r--r--")));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        }
        try {
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            if (replace) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } else {
                try {
                    Files.createLink(file, tmp);
                } catch (FileAlreadyExistsException raced) {
                    // another node made it first: use that one
                } catch (IOException | UnsupportedOperationException noLinks) {
                    try {
                        Files.move(tmp, file);
                    } catch (FileAlreadyExistsException raced) {
                        // as above
                    }
                }
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** SHA-256 of the leaf certificate (DER), as {@code openssl x509 -fingerprint -sha256} prints it. */
    public String sha256Fingerprint() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(leaf().getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What to tell an operator: where the certificate is, its fingerprint, and how clients come to trust it. */
    public String describe() {
        X509Certificate leaf = leaf();
        String what = generated
                ? "self-signed certificate for " + String.join(", ", SelfSignedCertificate.NAMES) + " (generated)"
                : "certificate " + leaf.getSubjectX500Principal().getName();
        String text = "TLS " + what + " in " + certificateFile.toAbsolutePath()
                + ", valid until " + leaf.getNotAfter().toInstant() + ", SHA-256 fingerprint " + sha256Fingerprint();
        if (!generated) return text;
        String path = certificateFile.toAbsolutePath().toString();
        return text + ". Clients trust it with: AWS CLI: AWS_CA_BUNDLE=" + path + " (or --ca-bundle " + path
                + "); Java: keytool -importcert -noprompt -alias sluice -file " + path
                + " -keystore sluice-truststore.p12 -storepass changeit, then -Djavax.net.ssl.trustStore=sluice-truststore.p12"
                + " -Djavax.net.ssl.trustStorePassword=changeit; curl: --cacert " + path;
    }

    /** The subject, file and fingerprint; the key only as redacted. */
    @Override
    public String toString() {
        return "ServerCertificate[subject=" + leaf().getSubjectX500Principal().getName() + ", chain=" + chain.size()
                + ", certificateFile=" + certificateFile + ", generated=" + generated + ", sha256=" + sha256Fingerprint()
                + ", privateKey=" + Redaction.REDACTED + "]";
    }
}
