package io.sluice.node.it;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import java.io.ByteArrayInputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Certificates an operator might bring, made here with Bouncy Castle's ASN.1 classes rather than by
 * the node's own generator: RSA 2048, SHA-256 with RSA, the key written as PKCS#1
 * ({@code RSA PRIVATE KEY}, what {@code openssl genrsa} wrote for years).
 */
final class TestCertificates {
    record Issued(X509Certificate certificate, KeyPair keys, Path certificateFile, Path keyFile) {}

    private TestCertificates() {}

    /** A self-signed RSA certificate for {@code dnsName} and 127.0.0.1, its PEM files written into {@code dir}. */
    static Issued rsa(String dnsName, Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair keys = generator.generateKeyPair();
        X500Name name = new X500Name("CN=" + dnsName);
        AlgorithmIdentifier sha256WithRsa = new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption, DERNull.INSTANCE);
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, dnsName), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        V3TBSCertificateGenerator tbs = new V3TBSCertificateGenerator();
        tbs.setSerialNumber(new ASN1Integer(BigInteger.valueOf(System.nanoTime())));
        tbs.setSignature(sha256WithRsa);
        tbs.setIssuer(name);
        tbs.setSubject(name);
        tbs.setStartDate(new Time(Date.from(Instant.now().minus(Duration.ofHours(1)))));
        tbs.setEndDate(new Time(Date.from(Instant.now().plus(Duration.ofDays(2)))));
        tbs.setSubjectPublicKeyInfo(SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()));
        tbs.setExtensions(extensions.generate());
        TBSCertificate toBeSigned = tbs.generateTBSCertificate();
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(keys.getPrivate());
        signer.update(toBeSigned.getEncoded("DER"));
        byte[] der = new DERSequence(new ASN1Encodable[] {toBeSigned, sha256WithRsa, new DERBitString(signer.sign())}).getEncoded("DER");
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));

        Path certificateFile = dir.resolve("server.crt");
        Path keyFile = dir.resolve("server.key");
        Files.writeString(certificateFile, pem("CERTIFICATE", der));
        byte[] pkcs1 = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded("DER");
        Files.writeString(keyFile, pem("RSA PRIVATE KEY", pkcs1));
        return new Issued(certificate, keys, certificateFile, keyFile);
    }

    static String pem(String type, byte[] content) throws java.io.IOException {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, content));
        }
        return out.toString();
    }
}
