package io.sluice.node.tls;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The PEM files a TLS listener is given: a certificate chain (leaf first, as web servers take it)
 * and an unencrypted private key in any of the three forms tools write: PKCS#8 ({@code PRIVATE KEY},
 * what {@code openssl genpkey} and {@code openssl req -newkey} write), PKCS#1 ({@code RSA PRIVATE
 * KEY}) and SEC1 ({@code EC PRIVATE KEY}, what {@code openssl ecparam -genkey} writes).
 *
 * <p>No message of an exception thrown here quotes what a key file holds: they name the file and
 * what was wrong, and causes from parsing key bytes are dropped (they may quote the bytes).
 */
public final class PemFiles {
    private static final Map<ASN1ObjectIdentifier, String> KEY_ALGORITHMS = Map.of(
            PKCSObjectIdentifiers.rsaEncryption, "RSA",
            PKCSObjectIdentifiers.id_RSASSA_PSS, "RSASSA-PSS",
            X9ObjectIdentifiers.id_ecPublicKey, "EC",
            new ASN1ObjectIdentifier("1.3.101.112"), "Ed25519",
            new ASN1ObjectIdentifier("1.3.101.113"), "Ed448");

    private PemFiles() {}

    /** Every certificate in the file, in order; fails if there is none. */
    public static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (PemObject block : blocks(file)) {
                if (block.getType().equals("CERTIFICATE")) {
                    chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.getContent())));
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException(file + " holds a CERTIFICATE block that is not an X.509 certificate: " + e.getMessage());
        }
        if (chain.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return chain;
    }

    /** The first private key in the file. */
    public static PrivateKey readPrivateKey(Path file) {
        for (PemObject block : blocks(file)) {
            String type = block.getType();
            if (type.equals("ENCRYPTED PRIVATE KEY")) {
                throw new IllegalArgumentException(file + " holds an encrypted private key; give it unencrypted "
                        + "(openssl pkey -in KEY -out PLAIN) in a file only the node's user may read");
            }
            if (type.equals("PRIVATE KEY") || type.equals("RSA PRIVATE KEY") || type.equals("EC PRIVATE KEY")) {
                return fromPkcs8(file, type, pkcs8(file, type, block.getContent()));
            }
            // certificates or EC parameters beside the key
        }
        throw new IllegalArgumentException(file + " holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    /** The key in PKCS#8, whichever of the three forms it came in. */
    private static byte[] pkcs8(Path file, String type, byte[] content) {
        try {
            switch (type) {
                case "RSA PRIVATE KEY":
                    return new PrivateKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
                            ASN1Primitive.fromByteArray(content)).getEncoded();
                case "EC PRIVATE KEY":
                    ECPrivateKey ec = ECPrivateKey.getInstance(ASN1Primitive.fromByteArray(content));
                    ASN1Encodable curve = ec.getParametersObject();
                    if (curve != null) {
                        return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve), ec).getEncoded();
                    }
                    break;
                default:
                    return content;
            }
        } catch (IOException | RuntimeException e) {
            // not chained: a parser's message may quote bytes of the key
            throw new IllegalArgumentException(file + " holds a " + type + " block that does not parse");
        } finally {
            if (!type.equals("PRIVATE KEY")) Arrays.fill(content, (byte) 0);
        }
        throw new IllegalArgumentException(file + ": the EC private key does not name its curve");
    }

    private static PrivateKey fromPkcs8(Path file, String type, byte[] pkcs8) {
        ASN1ObjectIdentifier oid;
        try {
            oid = PrivateKeyInfo.getInstance(pkcs8).getPrivateKeyAlgorithm().getAlgorithm();
        } catch (RuntimeException e) {
            Arrays.fill(pkcs8, (byte) 0);
            throw new IllegalArgumentException(file + " holds a " + type + " block that does not parse");
        }
        String algorithm = KEY_ALGORITHMS.get(oid);
        if (algorithm == null) {
            Arrays.fill(pkcs8, (byte) 0);
            throw new IllegalArgumentException(file + ": private keys of algorithm " + oid + " are not supported (RSA, EC, Ed25519)");
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " holds a " + algorithm + " private key the JDK does not accept");
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    private static List<PemObject> blocks(Path file) {
        List<PemObject> blocks = new ArrayList<>();
        // Latin-1 reads any byte: text around the blocks (openssl's "Bag Attributes", a BOM) is skipped, not refused
        try (PemReader reader = new PemReader(Files.newBufferedReader(file, StandardCharsets.ISO_8859_1))) {
            for (PemObject block = reader.readPemObject(); block != null; block = reader.readPemObject()) {
                blocks.add(block);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist");
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a readable PEM file");
        }
        return blocks;
    }

    public static String certificatePem(X509Certificate certificate) {
        try {
            return pem("CERTIFICATE", certificate.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key as PKCS#8 ({@code PRIVATE KEY}). */
    public static String privateKeyPem(PrivateKey key) {
        byte[] encoded = key.getEncoded();
        try {
            return pem("PRIVATE KEY", encoded);
        } finally {
            Arrays.fill(encoded, (byte) 0);
        }
    }

    private static String pem(String type, byte[] content) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, content));
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return out.toString();
    }
}
