package io.sluice.node.it;

import io.sluice.protocol.sigv4.SigV4;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A bare HTTP client that signs exactly what it sends: for requests no SDK would make. */
final class SignedHttp {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI endpoint;
    private final String accessKeyId;
    private final String secret;
    private final String service;

    SignedHttp(URI endpoint, String accessKeyId, String secret) {
        this(endpoint, accessKeyId, secret, "kinesis");
    }

    private SignedHttp(URI endpoint, String accessKeyId, String secret, String service) {
        this.endpoint = endpoint;
        this.accessKeyId = accessKeyId;
        this.secret = secret;
        this.service = service;
    }

    /** The same client signing for another service's credential scope ({@code kms}, {@code iam}) instead of Kinesis. */
    SignedHttp forService(String service) {
        return new SignedHttp(endpoint, accessKeyId, secret, service);
    }

    HttpResponse<byte[]> post(String target, String contentType, byte[] body) throws Exception {
        return send("POST", "/", target, contentType, body, true);
    }

    /**
     * A POST signed over every header but its X-Amz-Target, which is added after signing: what a
     * man in the middle makes of a request whose client left the target out of SignedHeaders.
     */
    HttpResponse<byte[]> postWithUnsignedTarget(String target, String contentType, byte[] body) throws Exception {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(new AbstractMap.SimpleImmutableEntry<>("Host", endpoint.getHost() + ":" + endpoint.getPort()));
        headers.add(new AbstractMap.SimpleImmutableEntry<>("Content-Type", contentType));
        List<Map.Entry<String, String>> signature = SigV4.sign(new SigV4.HttpRequestParts("POST", "/", "", headers, body),
                accessKeyId, secret, "us-east-1", service, Instant.now());
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint.resolve("/"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", contentType).header("X-Amz-Target", target);
        signature.forEach(h -> b.header(h.getKey(), h.getValue()));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /**
     * A GET without a body, signed over host and x-amz-date as {@code curl --aws-sigv4} signs one: the
     * node's /admin endpoints. {@code target} is the path and, after a {@code ?}, the query as sent.
     */
    HttpResponse<byte[]> get(String target) throws Exception {
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        List<Map.Entry<String, String>> headers = List.of(
                new AbstractMap.SimpleImmutableEntry<>("Host", endpoint.getHost() + ":" + endpoint.getPort()));
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint.resolve(target)).GET();
        SigV4.sign(new SigV4.HttpRequestParts("GET", path, query, headers, new byte[0]), accessKeyId, secret, "us-east-1",
                service, Instant.now()).forEach(h -> b.header(h.getKey(), h.getValue()));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<byte[]> send(String method, String path, String target, String contentType, byte[] body, boolean sign)
            throws Exception {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(new AbstractMap.SimpleImmutableEntry<>("Host", endpoint.getHost() + ":" + endpoint.getPort()));
        headers.add(new AbstractMap.SimpleImmutableEntry<>("Content-Type", contentType));
        if (target != null) headers.add(new AbstractMap.SimpleImmutableEntry<>("X-Amz-Target", target));
        List<Map.Entry<String, String>> all = new ArrayList<>(headers);
        if (sign) {
            all.addAll(SigV4.sign(new SigV4.HttpRequestParts(method, path, "", headers, body), accessKeyId, secret,
                    "us-east-1", service, Instant.now()));
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint.resolve(path))
                .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        for (Map.Entry<String, String> h : all) {
            if (!h.getKey().equalsIgnoreCase("Host")) b.header(h.getKey(), h.getValue());
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }
}
