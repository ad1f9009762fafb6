package io.sluice.node.tls;

import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The node's TLS certificate: PEM files in the forms tools write, and the self-signed one it generates and keeps. */
class ServerCertificateTest {
    @TempDir
    Path dir;

    static String pem(String type, byte[] content) throws Exception {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, content));
        }
        return out.toString();
    }

    static KeyPair rsaKeys() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void readsPkcs8Pkcs1AndSec1Keys() throws Exception {
        KeyPair ec = SelfSignedCertificate.newKeyPair();
        KeyPair rsa = rsaKeys();
        assertArrayEquals(ec.getPrivate().getEncoded(),
                PemFiles.readPrivateKey(write("ec8.pem", PemFiles.privateKeyPem(ec.getPrivate()))).getEncoded());
        assertArrayEquals(rsa.getPrivate().getEncoded(),
                PemFiles.readPrivateKey(write("rsa8.pem", PemFiles.privateKeyPem(rsa.getPrivate()))).getEncoded());

        byte[] pkcs1 = PrivateKeyInfo.getInstance(rsa.getPrivate().getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded("DER");
        assertArrayEquals(rsa.getPrivate().getEncoded(),
                PemFiles.readPrivateKey(write("rsa1.pem", pem("RSA PRIVATE KEY", pkcs1))).getEncoded());

        // SEC1 as openssl ecparam -genkey writes it: the curve named inside, the public key beside it
        byte[] sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, ((ECPrivateKey) ec.getPrivate()).getS(),
                new DERBitString(SubjectPublicKeyInfo.getInstance(ec.getPublic().getEncoded()).getPublicKeyData().getBytes()),
                SECObjectIdentifiers.secp256r1).getEncoded("DER");
        PrivateKey read = PemFiles.readPrivateKey(write("ec1.pem",
                "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + pem("EC PRIVATE KEY", sec1)));
        assertEquals(((ECPrivateKey) ec.getPrivate()).getS(), ((ECPrivateKey) read).getS());
        assertTrue(ServerCertificate.belongTogether(read, ec.getPublic()));
    }

    @Test
    void readsEveryCertificateOfAChainInOrder() throws Exception {
        X509Certificate leaf = SelfSignedCertificate.issue(SelfSignedCertificate.newKeyPair(), Instant.now());
        X509Certificate next = SelfSignedCertificate.issue(SelfSignedCertificate.newKeyPair(), Instant.now());
        Path chain = write("chain.pem", PemFiles.certificatePem(leaf) + PemFiles.certificatePem(next));
        assertEquals(List.of(leaf, next), PemFiles.readCertificates(chain));
    }

    @Test
    void refusesAKeyOfAnotherCertificate() throws Exception {
        KeyPair keys = SelfSignedCertificate.newKeyPair();
        Path certificate = write("c.pem", PemFiles.certificatePem(SelfSignedCertificate.issue(keys, Instant.now())));
        Path otherKey = write("k.pem", PemFiles.privateKeyPem(SelfSignedCertificate.newKeyPair().getPrivate()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServerCertificate.fromPemFiles(certificate, otherKey));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
        Path key = write("right.pem", PemFiles.privateKeyPem(keys.getPrivate()));
        assertEquals(keys.getPrivate(), ServerCertificate.fromPemFiles(certificate, key).privateKey());
    }

    @Test
    void refusesACertificateWithoutItsKeyAndAKeyWithoutItsCertificate() {
        for (String[] half : List.of(new String[] {"c.pem", ""}, new String[] {"", "k.pem"})) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ServerCertificate.configured(half[0], half[1], dir, Instant.now()));
            assertTrue(e.getMessage().contains("SLUICE_TLS_CERT") && e.getMessage().contains("SLUICE_TLS_KEY"), e.getMessage());
        }
    }

    @Test
    void refusesUnusableKeyFilesWithoutQuotingThem() throws Exception {
        byte[] garbage = new byte[120];
        new java.security.SecureRandom().nextBytes(garbage);
        String garbled = Base64.getEncoder().encodeToString(garbage);
        Path broken = write("broken.pem", pem("PRIVATE KEY", garbage));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PemFiles.readPrivateKey(broken));
        assertTrue(e.getMessage().startsWith(broken.toString()), e.getMessage());
        assertFalse(e.getMessage().contains(garbled.substring(0, 16)), e.getMessage());
        assertNull(e.getCause(), "a parser's exception may quote the bytes");

        Path encrypted = write("encrypted.pem", pem("ENCRYPTED PRIVATE KEY", garbage));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PemFiles.readPrivateKey(encrypted))
                .getMessage().contains("encrypted"));
        Path none = write("none.pem", "not a key\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PemFiles.readPrivateKey(none))
                .getMessage().contains("no PEM private key"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PemFiles.readPrivateKey(dir.resolve("missing.pem")))
                .getMessage().contains("does not exist"));
    }

    @Test
    void generatesOnceIntoTheDataFolderAndReusesIt() throws Exception {
        Instant now = Instant.now();
        ServerCertificate first = ServerCertificate.loadOrGenerate(dir, now);
        assertTrue(first.generated());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(ServerCertificate.KEY_FILE))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(ServerCertificate.CERTIFICATE_FILE))));
        X509Certificate leaf = first.leaf();
        leaf.checkValidity(java.util.Date.from(now));
        leaf.checkValidity(java.util.Date.from(now.plus(Duration.ofDays(360))));
        assertEquals(List.of("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1"),
                leaf.getSubjectAlternativeNames().stream().map(n -> n.get(1).toString()).toList());
        assertEquals(List.of("1.3.6.1.5.5.7.3.1"), leaf.getExtendedKeyUsage(), "for TLS servers");
        assertEquals(-1, leaf.getBasicConstraints(), "not a CA");
        leaf.verify(leaf.getPublicKey());

        ServerCertificate again = ServerCertificate.loadOrGenerate(dir, now.plus(Duration.ofDays(30)));
        assertEquals(first.sha256Fingerprint(), again.sha256Fingerprint());
        assertEquals(first.privateKey(), again.privateKey());
        assertEquals(List.of(ServerCertificate.CERTIFICATE_FILE, ServerCertificate.KEY_FILE),
                Files.list(dir).map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left behind");
    }

    @Test
    void renewsACertificateNearItsEndWithTheSameKey() {
        Instant now = Instant.now();
        ServerCertificate first = ServerCertificate.loadOrGenerate(dir, now);
        Instant late = first.leaf().getNotAfter().toInstant().minus(ServerCertificate.RENEW_BEFORE).plus(Duration.ofHours(1));
        ServerCertificate renewed = ServerCertificate.loadOrGenerate(dir, late);
        assertNotEquals(first.sha256Fingerprint(), renewed.sha256Fingerprint());
        assertEquals(first.privateKey(), renewed.privateKey());
        assertTrue(renewed.leaf().getNotAfter().toInstant().isAfter(late.plus(Duration.ofDays(300))));
        assertEquals(renewed.sha256Fingerprint(), ServerCertificate.loadOrGenerate(dir, late).sha256Fingerprint());
    }

    @Test
    void replacesACertificateThatIsNotForTheKey() throws Exception {
        ServerCertificate first = ServerCertificate.loadOrGenerate(dir, Instant.now());
        Files.writeString(dir.resolve(ServerCertificate.CERTIFICATE_FILE),
                PemFiles.certificatePem(SelfSignedCertificate.issue(SelfSignedCertificate.newKeyPair(), Instant.now())));
        ServerCertificate mended = ServerCertificate.loadOrGenerate(dir, Instant.now());
        assertEquals(first.privateKey(), mended.privateKey());
        assertTrue(ServerCertificate.belongTogether(mended.privateKey(), mended.leaf().getPublicKey()));
    }

    @Test
    void describesTheCertificateAndHowToTrustItButNeverTheKey() throws Exception {
        ServerCertificate certificate = ServerCertificate.loadOrGenerate(dir, Instant.now());
        String keyPem = Files.readString(dir.resolve(ServerCertificate.KEY_FILE));
        String keyBody = keyPem.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
        String described = certificate.describe();
        assertTrue(described.contains(certificate.sha256Fingerprint()), described);
        assertTrue(described.contains("AWS_CA_BUNDLE=" + dir.resolve(ServerCertificate.CERTIFICATE_FILE).toAbsolutePath()), described);
        assertTrue(described.contains("keytool -importcert"), described);
        assertTrue(certificate.sha256Fingerprint().matches("([0-9A-F]{2}:){31}[0-9A-F]{2}"), certificate.sha256Fingerprint());
        for (String text : List.of(described, certificate.toString())) {
            assertFalse(text.contains(keyBody), text);
            assertFalse(text.contains(((ECPrivateKey) certificate.privateKey()).getS().toString(16)), text);
        }
        assertTrue(certificate.toString().contains("privateKey=<redacted>"), certificate.toString());
    }
}
