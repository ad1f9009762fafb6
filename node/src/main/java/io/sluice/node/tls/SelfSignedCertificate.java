package io.sluice.node.tls;

import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * A self-signed server certificate for a node that was given none: an EC P-256 key, ECDSA with
 * SHA-256, valid for {@link #NAMES} (so {@code https://localhost:PORT}, {@code https://127.0.0.1:PORT}
 * and {@code https://[::1]:PORT} verify) for {@link #VALIDITY}. It is its own trust anchor: a client
 * trusts it by taking the certificate file as its CA bundle. Its profile is that of an end-entity
 * certificate (not a CA: browsers refuse a CA certificate used by a server) with the extensions strict
 * verifiers ask for (OpenSSL's X509_STRICT, which Python 3.13 turns on): key identifiers, key usage,
 * server authentication, subject alternative names.
 */
public final class SelfSignedCertificate {
    /** DNS names and IP addresses the certificate is valid for. */
    public static final List<String> NAMES = List.of("localhost", "127.0.0.1", "::1");
    public static final Duration VALIDITY = Duration.ofDays(365);
    private static final SecureRandom RANDOM = new SecureRandom();

    private SelfSignedCertificate() {}

    public static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot make P-256 keys", e);
        }
    }

    /** A certificate for {@code keys} (EC), valid from an hour before {@code now} (clients' clocks differ) for {@link #VALIDITY}. */
    public static X509Certificate issue(KeyPair keys, Instant now) {
        try {
            X500Name name = new X500Name("CN=localhost,O=Sluice self-signed");
            SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
            // RFC 5280, 4.2.1.2 (1): SHA-1 of the public key bits
            byte[] keyId = MessageDigest.getInstance("SHA-1").digest(publicKey.getPublicKeyData().getBytes());
            byte[] serial = new byte[16];
            RANDOM.nextBytes(serial);
            AlgorithmIdentifier signatureAlgorithm = new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);

            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            extensions.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            extensions.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, NAMES.get(0)),
                    new GeneralName(GeneralName.iPAddress, NAMES.get(1)),
                    new GeneralName(GeneralName.iPAddress, NAMES.get(2))}));
            extensions.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId));
            extensions.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyId));

            V3TBSCertificateGenerator tbs = new V3TBSCertificateGenerator();
            tbs.setSerialNumber(new ASN1Integer(new BigInteger(1, serial)));
            tbs.setSignature(signatureAlgorithm);
            tbs.setIssuer(name);
            tbs.setSubject(name);
            Instant notBefore = now.minus(Duration.ofHours(1));
            tbs.setStartDate(new Time(Date.from(notBefore)));
            tbs.setEndDate(new Time(Date.from(notBefore.plus(VALIDITY))));
            tbs.setSubjectPublicKeyInfo(publicKey);
            tbs.setExtensions(extensions.generate());
            TBSCertificate toBeSigned = tbs.generateTBSCertificate();

            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(keys.getPrivate());
            signer.update(toBeSigned.getEncoded("DER"));
            byte[] certificate = new DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {
                    toBeSigned, signatureAlgorithm, new DERBitString(signer.sign())}).getEncoded("DER");
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(certificate));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot make a self-signed certificate", e);
        }
    }
}
