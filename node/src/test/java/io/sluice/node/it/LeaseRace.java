package io.sluice.node.it;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

import java.io.EOFException;
import java.net.SocketException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Racers on several nodes compete, round after round, for one lease item as KCL workers do: each
 * round every racer tries to move the item's counter from the value read at the round's start to the
 * next, appending its name to the item's history, with the condition that the counter is still that
 * value. A round may have at most one acknowledged winner; a round in which every racer got a
 * definite answer has exactly one; and every acknowledged win is in the history at its position, so
 * none was lost. A request that failed (a node down, a time-out) may or may not have taken effect;
 * the history says which, and no other racer may have been acknowledged for that round. Rounds are
 * numbered from 1 as they start, so a caller can tell wins of rounds that started after an event (a
 * node's death) from those before.
 *
 * <p>Racers act as clients behind a load balancer: each starts on one endpoint, and one whose request
 * failed at the connection (refused, reset, ended early: the node is gone) uses the next endpoint from
 * its next round on. That request still counts as undecided for its round, as does a time-out or a 503
 * (the node lives, the request may or may not take effect), after which the racer stays. So once a dead
 * node's tables have failed over, every racer gets a definite answer again, and such rounds must each
 * have exactly one winner.
 */
final class LeaseRace {
    private static final Map<String, AttributeValue> KEY = Map.of("leaseKey", AttributeValue.builder().s("shardId-000000000000").build());

    private final List<DynamoDbClient> clients = new ArrayList<>();
    private final String table;
    private final int racers;
    private final AtomicBoolean stop = new AtomicBoolean();
    private volatile boolean finished;
    private final AtomicLong round = new AtomicLong();
    private final Map<Long, List<String>> acknowledgedWins = new ConcurrentHashMap<>();
    private final Map<Long, Integer> undecided = new ConcurrentHashMap<>();
    private final AtomicLong rounds = new AtomicLong();
    /** Each round (by number) with an acknowledged win, and when the first was acknowledged (System.nanoTime). */
    private final ConcurrentSkipListMap<Long, Long> winTimes = new ConcurrentSkipListMap<>();
    private final List<Thread> threads = new ArrayList<>();
    /** Racers meet here before a round (the last to arrive reads the counter) and after it. */
    private final CyclicBarrier roundStart;
    private final CyclicBarrier roundEnd;
    private final Map<String, String> failures = new ConcurrentHashMap<>();
    /** This round's acknowledged wins and undecided requests; reset in nextRound, recorded in closeRound. */
    private final AtomicInteger roundWins = new AtomicInteger();
    private final AtomicInteger roundUndecided = new AtomicInteger();
    /** Each finished round (by number): the counter it raced for, its acknowledged wins and its undecided requests. */
    private final ConcurrentSkipListMap<Long, Outcome> outcomes = new ConcurrentSkipListMap<>();
    /** How often a racer moved to the next endpoint after a connection-level failure. */
    private final AtomicLong endpointMoves = new AtomicLong();
    /** What stopped a racer or the round machinery itself (a broken barrier, a counter nobody could read). */
    private volatile Exception broken;

    private record Outcome(long counter, int wins, int undecided) {}

    /**
     * A DynamoDB client of one endpoint that sends each request once: an SDK retry of a write that took
     * effect would read as a lost race.
     */
    static DynamoDbClient client(URI endpoint, String accessKey, String secret) {
        return DynamoDbClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secret)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(15))
                        .connectionTimeout(Duration.ofSeconds(2)).build())
                .overrideConfiguration(c -> c.retryPolicy(RetryPolicy.none()).apiCallTimeout(Duration.ofSeconds(20)))
                .build();
    }

    /** Creates a lease table (hash key {@code leaseKey}, on demand), as the KCL does. */
    static void createTable(DynamoDbClient dynamo, String table) {
        dynamo.createTable(b -> b.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
                .keySchema(KeySchemaElement.builder().attributeName("leaseKey").keyType(KeyType.HASH).build())
                .attributeDefinitions(AttributeDefinition.builder().attributeName("leaseKey").attributeType(ScalarAttributeType.S).build()));
    }

    /** Puts the lease item into {@code table} (see {@link #createTable}) and starts {@code racersPerNode} racers per endpoint. */
    static LeaseRace start(List<URI> endpoints, String accessKey, String secret, int racersPerNode, String table) {
        return new LeaseRace(endpoints, accessKey, secret, racersPerNode, table);
    }

    private LeaseRace(List<URI> endpoints, String accessKey, String secret, int racersPerNode, String table) {
        this.table = table;
        for (URI endpoint : endpoints) clients.add(client(endpoint, accessKey, secret));
        clients.get(0).putItem(b -> b.tableName(table).item(Map.of("leaseKey", KEY.get("leaseKey"), "c", n(0),
                "history", AttributeValue.builder().l(List.of()).build())));
        this.racers = racersPerNode * endpoints.size();
        this.roundStart = new CyclicBarrier(racers, this::nextRound);
        // every racer sees the same decision to stop, taken when the last of them ends a round
        this.roundEnd = new CyclicBarrier(racers, () -> {
            closeRound();
            finished = stop.get();
        });
        for (int r = 0; r < racers; r++) {
            int racer = r;
            Thread t = new Thread(() -> race("racer-" + racer, racer % clients.size()), "racer-" + racer);
            threads.add(t);
            t.start();
        }
    }

    private static AttributeValue n(long v) {
        return AttributeValue.builder().n(Long.toString(v)).build();
    }

    /** Between rounds (all racers at the barrier): reads the counter, through any node that answers. */
    private void nextRound() {
        for (int attempt = 0; ; attempt++) {
            DynamoDbClient client = clients.get(attempt % clients.size());
            try {
                round.set(Long.parseLong(client.getItem(b -> b.tableName(table).key(KEY).consistentRead(true)).item().get("c").n()));
                roundWins.set(0);
                roundUndecided.set(0);
                rounds.incrementAndGet();
                return;
            } catch (RuntimeException unavailable) {
                if (attempt > 100) throw unavailable;
                sleep(200);
            }
        }
    }

    /** After a round (all racers at the barrier): records what it came to. */
    private void closeRound() {
        outcomes.put(rounds.get(), new Outcome(round.get(), roundWins.get(), roundUndecided.get()));
    }

    /**
     * Whether a finished round got a definite answer from every racer, and no request for its counter
     * (in this or an earlier round) is undecided: a timed-out request may still take effect later, in a
     * round racing for the same counter, and win it for nobody acknowledged.
     */
    private boolean decided(Outcome o) {
        return o.undecided() == 0 && !undecided.containsKey(o.counter());
    }

    private long decidedRoundsAfter(long round) {
        return outcomes.tailMap(round, false).values().stream().filter(this::decided).count();
    }

    /**
     * Waits until at least {@code n} rounds numbered above {@code round} were decided by every racer (see
     * {@link #decided}); fails after {@code timeout} or if the race broke down.
     */
    void awaitDecidedRoundsAfter(long round, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (decidedRoundsAfter(round) < n) {
            assertNull(broken, "the race broke down");
            assertTrue(System.nanoTime() < deadline, "fewer than " + n + " rounds after round " + round + " decided by every racer within "
                    + timeout + " (" + decidedRoundsAfter(round) + " of " + outcomes.tailMap(round, false).size()
                    + " finished; undecided because of " + failures + ")");
            Thread.sleep(100);
        }
    }

    /** How many rounds have started; a round numbered higher starts after this call. */
    long roundsStarted() {
        return rounds.get();
    }

    /**
     * Waits until a round numbered above {@code round} has an acknowledged win and returns when it was
     * acknowledged (System.nanoTime); fails after {@code timeout} or if the race broke down.
     */
    long awaitWinAfter(long round, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map.Entry<Long, Long> win = winTimes.higherEntry(round);
            if (win != null) return win.getValue();
            assertNull(broken, "the race broke down");
            assertTrue(System.nanoTime() < deadline, "no acknowledged win in a round after round " + round + " within " + timeout
                    + " (" + rounds.get() + " rounds started; undecided because of " + failures + ")");
            Thread.sleep(100);
        }
    }

    /** Acknowledged wins in rounds numbered above {@code round}. */
    long winsAfter(long round) {
        return winTimes.tailMap(round, false).size();
    }

    private void race(String name, int endpoint) {
        try {
            while (!finished) {
                roundStart.await(120, TimeUnit.SECONDS);
                DynamoDbClient client = clients.get(endpoint);
                long c = round.get();
                long number = rounds.get(); // changes only in nextRound, while every racer waits at roundStart
                try {
                    client.updateItem(b -> b.tableName(table).key(KEY)
                            .conditionExpression("c = :c")
                            .updateExpression("SET c = :next, #h = list_append(#h, :me)")
                            .expressionAttributeNames(Map.of("#h", "history"))
                            .expressionAttributeValues(Map.of(":c", n(c), ":next", n(c + 1),
                                    ":me", AttributeValue.builder().l(AttributeValue.builder().s(name).build()).build())));
                    acknowledgedWins.computeIfAbsent(c, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(name);
                    winTimes.putIfAbsent(number, System.nanoTime());
                    roundWins.incrementAndGet();
                } catch (ConditionalCheckFailedException lost) {
                    // another racer won this round
                } catch (RuntimeException unknown) {
                    undecided.merge(c, 1, Integer::sum);
                    roundUndecided.incrementAndGet();
                    failures.putIfAbsent(unknown.getClass().getSimpleName(), String.valueOf(unknown.getMessage()));
                    if (connectionLost(unknown)) {
                        endpoint = (endpoint + 1) % clients.size();
                        endpointMoves.incrementAndGet();
                    }
                }
                roundEnd.await(120, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // a barrier broken or timed out, or (for the racer that ran it) nextRound giving up: the race is void
            if (broken == null) broken = e;
        }
    }

    /**
     * Whether a request failed at the connection: refused, reset, or the response ended early (a
     * {@link SocketException}, which a time-out is not, or an {@link EOFException}). The node is gone;
     * a time-out or an error status says it lives.
     */
    static boolean connectionLost(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SocketException || t instanceof EOFException) return true;
        }
        return false;
    }

    /**
     * Stops the racers after their current round and checks the race, including that at least
     * {@code atLeast} rounds numbered above {@code afterRound} were decided by every racer (see
     * {@link #decided}) and, like every such round, had exactly one winner; returns a one-line summary.
     */
    String stopAndVerify(long afterRound, int atLeast) throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(150));
            assertFalse(t.isAlive(), t.getName() + " did not stop");
        }
        if (broken != null) throw new AssertionError("the race broke down", broken);
        Map<String, AttributeValue> item = clients.get(0).getItem(b -> b.tableName(table).key(KEY).consistentRead(true)).item();
        long finalCount = Long.parseLong(item.get("c").n());
        List<String> history = item.get("history").l().stream().map(AttributeValue::s).toList();
        assertEquals(finalCount, history.size(), "one history entry per move of the counter");
        for (Map.Entry<Long, List<String>> e : acknowledgedWins.entrySet()) {
            assertEquals(1, e.getValue().size(), "round at counter " + e.getKey() + " had two acknowledged winners: " + e.getValue());
            assertTrue(e.getKey() < history.size(), "an acknowledged win at counter " + e.getKey() + " is missing from the item");
            assertEquals(e.getValue().get(0), history.get(e.getKey().intValue()), "the acknowledged winner at counter " + e.getKey());
        }
        for (long c = 0; c < finalCount; c++) {
            if (!undecided.containsKey(c)) {
                assertTrue(acknowledgedWins.containsKey(c), "round at counter " + c + " had a definite answer from everyone but no winner");
            }
        }
        long decided = 0, decidedAfter = 0;
        for (Map.Entry<Long, Outcome> e : outcomes.entrySet()) {
            if (!decided(e.getValue())) continue;
            assertEquals(1, e.getValue().wins(), "round " + e.getKey() + " (counter " + e.getValue().counter()
                    + ") had a definite answer from every racer but not exactly one winner");
            decided++;
            if (e.getKey() > afterRound) decidedAfter++;
        }
        assertTrue(decidedAfter >= atLeast, "only " + decidedAfter + " rounds after round " + afterRound
                + " were decided by every racer, expected at least " + atLeast);
        clients.forEach(DynamoDbClient::close);
        return String.format("lease race on table %s: %d racers on %d nodes, %d rounds, counter %d, %d acknowledged wins, "
                        + "%d counters with undecided requests, %d racer moves to the next endpoint (connection lost), "
                        + "%d rounds decided by every racer (%d of them after round %d), each with exactly one winner, "
                        + "0 double wins, 0 lost wins",
                table, racers, clients.size(), rounds.get(), finalCount, acknowledgedWins.size(), undecided.size(),
                endpointMoves.get(), decided, decidedAfter, afterRound)
                + (failures.isEmpty() ? "" : "; undecided because of " + failures);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
