package io.sluice.node.api;

import com.typesafe.config.Config;
import io.sluice.node.auth.Caller;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * The console's signed-in sessions on this node. A session is opened by a SigV4 proof (the browser
 * signs a request with the secret, which never leaves it) and is then named by a random 256-bit id
 * that only the browser's HttpOnly cookie holds: this store keeps the id's SHA-256, never the id,
 * so neither a heap dump nor a log shows a usable cookie. Each session carries its own CSRF token.
 * A session ends after {@code idleTimeout} without a request, after {@code maxAge} in any case, at
 * sign-out, and as soon as its access key is no longer active (deactivated or deleted).
 */
final class ConsoleSessions {
    /** Who is signed in, since when, and the token their page must send with every call. */
    record Session(Caller caller, String csrfToken, Instant created, Instant lastUsed) {
        Instant expiresAt(Duration idle, Duration maxAge) {
            Instant byIdle = lastUsed.plus(idle);
            Instant byAge = created.plus(maxAge);
            return byIdle.isBefore(byAge) ? byIdle : byAge;
        }

        @Override
        public String toString() {
            return "Session[" + caller.arn() + ", since " + created + "]";
        }
    }

    /** A new session's cookie value (given to the browser once) and the session. */
    record Opened(String id, Session session) {
        @Override
        public String toString() {
            return "Opened[" + session + "]";
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Session> byIdHash = new ConcurrentHashMap<>();
    /** Sign-in proofs (their signatures) already used, until they could no longer pass the clock-skew check. */
    private final Map<String, Instant> usedProofs = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Duration idleTimeout;
    private final Duration maxAge;
    private final int maxSessions;
    private final Predicate<String> keyActive;

    ConsoleSessions(Clock clock, Duration idleTimeout, Duration maxAge, int maxSessions, Predicate<String> keyActive) {
        this.clock = clock;
        this.idleTimeout = idleTimeout;
        this.maxAge = maxAge;
        this.maxSessions = maxSessions;
        this.keyActive = keyActive;
    }

    static ConsoleSessions from(Config console, Clock clock, Predicate<String> keyActive) {
        return new ConsoleSessions(clock, console.getDuration("session-idle-timeout"), console.getDuration("session-max-age"),
                console.getInt("max-sessions"), keyActive);
    }

    Duration maxAge() {
        return maxAge;
    }

    Instant expiresAt(Session session) {
        return session.expiresAt(idleTimeout, maxAge);
    }

    /**
     * Opens a session for a caller whose proof (a SigV4 signature) was just verified; empty when that
     * proof was used before (a replayed sign-in). {@code proofValidFor} is how long the proof could
     * still pass the verifier's clock check.
     */
    Optional<Opened> open(Caller caller, String proof, Duration proofValidFor) {
        Instant now = clock.instant();
        sweep(now);
        if (usedProofs.putIfAbsent(proof, now.plus(proofValidFor)) != null) return Optional.empty();
        if (byIdHash.size() >= maxSessions) {
            // the oldest session makes room: a flood of sign-ins cannot grow this node's memory without bound
            byIdHash.entrySet().stream().min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Session::created)))
                    .ifPresent(oldest -> byIdHash.remove(oldest.getKey()));
        }
        String id = randomToken();
        Session session = new Session(caller, randomToken(), now, now);
        byIdHash.put(hash(id), session);
        return Optional.of(new Opened(id, session));
    }

    /** The live session a cookie names, its idle clock restarted; empty when unknown, expired or its key is no longer active. */
    Optional<Session> touch(String id) {
        if (id == null || id.isEmpty()) return Optional.empty();
        String key = hash(id);
        Instant now = clock.instant();
        Session session = byIdHash.get(key);
        if (session == null) return Optional.empty();
        if (!now.isBefore(expiresAt(session)) || !keyActive.test(session.caller().accessKeyId())) {
            byIdHash.remove(key, session);
            return Optional.empty();
        }
        Session touched = new Session(session.caller(), session.csrfToken(), session.created(), now);
        byIdHash.replace(key, session, touched);
        return Optional.of(touched);
    }

    void close(String id) {
        if (id != null && !id.isEmpty()) byIdHash.remove(hash(id));
    }

    int size() {
        return byIdHash.size();
    }

    /** Whether two tokens are equal, in time that does not depend on where they differ. */
    static boolean sameToken(String expected, String given) {
        return given != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private void sweep(Instant now) {
        byIdHash.values().removeIf(s -> !now.isBefore(expiresAt(s)));
        usedProofs.values().removeIf(until -> until.isBefore(now));
    }

    private static String randomToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String hash(String id) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
