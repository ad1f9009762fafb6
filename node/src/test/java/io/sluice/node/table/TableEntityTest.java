package io.sluice.node.table;

import com.typesafe.config.Config;
import io.sluice.node.TestConfigs;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.dynamodb.AttributeValue;
import io.sluice.protocol.dynamodb.ExpressionRequest;
import io.sluice.protocol.dynamodb.ExpressionRequest.AttributeValueUpdate;
import io.sluice.protocol.dynamodb.ExpressionRequest.ExpectedAttributeValue;
import io.sluice.protocol.dynamodb.Expressions;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The table entity alone (in-memory journal, serialization of every command, event, reply and state
 * checked by the testkit): conditional writes decided against the latest item, kept through
 * restarts, snapshots and their event deletion, a failed journal write, and deletion.
 */
class TableEntityTest {
    private static final Config CONFIG = TestConfigs.entityTests("");
    private static final ActorTestKit testKit = ActorTestKit.create(CONFIG);
    private static final int SNAPSHOT_EVERY = 7;

    private final List<String> erased = new ArrayList<>();
    private EventSourcedBehaviorTestKit<TableEntity.Command, TableEntity.Event, TableEntity.State> table;

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void setUp() {
        table = EventSourcedBehaviorTestKit.create(testKit.system(), TableEntity.create("leases", SNAPSHOT_EVERY, this::erase));
        table.clear();
        erased.clear();
    }

    private CompletableFuture<Done> erase(String persistenceId) {
        synchronized (erased) {
            erased.add(persistenceId);
        }
        return CompletableFuture.completedFuture(Done.getInstance());
    }

    static TableSchema schema() {
        return new TableSchema("leases", "id-1", 0, new TableSchema.KeyAttribute("leaseKey", "S"), null,
                TableSchema.PAY_PER_REQUEST, 0, 0, 0, false, List.of(), Map.of(), false, 0, "STANDARD");
    }

    private <T> StatusReply<T> run(Function<ActorRef<StatusReply<T>>, TableEntity.Command> command) {
        return table.<StatusReply<T>>runCommand(command::apply).reply();
    }

    private static AttributeValue s(String v) {
        return new AttributeValue.S(v);
    }

    private static AttributeValue n(long v) {
        return new AttributeValue.N(BigDecimal.valueOf(v));
    }

    /** The KCL's createLeaseIfNotExists: put only if absent. */
    private static ExpressionRequest absent() {
        return new ExpressionRequest(null, null, null, null, null, null, null,
                Map.of("leaseKey", new ExpectedAttributeValue(null, false, null, null)), null, null, null, null, null);
    }

    /** The KCL's renewLease/takeLease: counter must be what the worker saw; it moves on and the owner is set. */
    private static ExpressionRequest renew(long seen, String owner) {
        return new ExpressionRequest(null, null, null, null, null, null, null,
                Map.of("leaseCounter", new ExpectedAttributeValue(n(seen), null, null, null)),
                Map.of("leaseCounter", new AttributeValueUpdate(n(seen + 1), "PUT"),
                        "leaseOwner", new AttributeValueUpdate(s(owner), "PUT")), null, null, null, null);
    }

    private StatusReply<TableEntity.Written> write(Expressions.Kind kind, Map<String, AttributeValue> keyOrItem, ExpressionRequest e,
                                                    String returnValues) {
        return run(r -> new TableEntity.Write(kind, keyOrItem, e, returnValues, "ALL_OLD", r));
    }

    private Map<String, AttributeValue> get(String key) {
        StatusReply<TableEntity.Got> got = run(r -> new TableEntity.Get(Map.of("leaseKey", s(key)), ExpressionRequest.none(), r));
        return got.getValue().item();
    }

    @Test
    void conditionalWritesMatchASequentialModelAcrossRestartsSnapshotsAndEventDeletion() {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        this.<TableEntity.TableView>run(r -> new TableEntity.Create(schema(), r));
        Map<String, Long> model = new HashMap<>();
        Map<String, String> owners = new HashMap<>();
        int wins = 0, losses = 0, restarts = 0;
        for (int op = 0; op < 1500; op++) {
            String key = "shardId-" + rnd.nextInt(12);
            int kind = rnd.nextInt(10);
            String context = "seed " + seed + ", op " + op;
            if (kind < 2) {
                boolean expected = !model.containsKey(key);
                var reply = write(Expressions.Kind.PUT, Map.of("leaseKey", s(key), "leaseCounter", n(0)), absent(), null);
                assertEquals(!expected, reply.getValue().conditionFailed(), context);
                if (expected) {
                    model.put(key, 0L);
                    owners.remove(key);
                }
            } else if (kind < 9) {
                // a worker renews with what it saw, sometimes stale
                long seen = model.getOrDefault(key, 0L) - (rnd.nextInt(4) == 0 ? 1 : 0);
                String owner = "worker-" + rnd.nextInt(3);
                boolean expected = model.containsKey(key) && model.get(key) == seen;
                var reply = write(Expressions.Kind.UPDATE, Map.of("leaseKey", s(key)), renew(seen, owner), "ALL_NEW");
                assertEquals(!expected, reply.getValue().conditionFailed(), context);
                if (expected) {
                    wins++;
                    model.put(key, seen + 1);
                    owners.put(key, owner);
                    assertEquals(n(seen + 1), reply.getValue().attributes().get("leaseCounter"), context);
                } else {
                    losses++;
                    Map<String, AttributeValue> old = reply.getValue().attributes();
                    assertEquals(model.containsKey(key) ? n(model.get(key)) : null, old == null ? null : old.get("leaseCounter"),
                            "a lost write sees the current item; " + context);
                }
            } else {
                write(Expressions.Kind.DELETE, Map.of("leaseKey", s(key)), ExpressionRequest.none(), null);
                model.remove(key);
                owners.remove(key);
            }
            if (rnd.nextInt(150) == 0) {
                table.restart();
                restarts++;
            }
        }
        table.restart();
        for (int k = 0; k < 12; k++) {
            String key = "shardId-" + k;
            Map<String, AttributeValue> item = get(key);
            if (!model.containsKey(key)) {
                assertNull(item, "seed " + seed + ": " + key);
            } else {
                assertEquals(n(model.get(key)), item.get("leaseCounter"), "seed " + seed + ": " + key);
                assertEquals(owners.containsKey(key) ? s(owners.get(key)) : null, item.get("leaseOwner"), "seed " + seed + ": " + key);
            }
        }
        var view = run((ActorRef<StatusReply<TableEntity.TableView>> r) -> new TableEntity.Describe(r)).getValue();
        assertEquals(model.size(), view.itemCount(), "seed " + seed);
        assertTrue(wins > 100 && losses > 20, "the workload raced: " + wins + " wins, " + losses + " losses");
        System.out.printf("seed %d: %d wins, %d lost races, %d restarts%n", seed, wins, losses, restarts);
    }

    @Test
    void deletionErasesTheJournalAndFreesTheName() {
        this.<TableEntity.TableView>run(r -> new TableEntity.Create(schema(), r));
        write(Expressions.Kind.PUT, Map.of("leaseKey", s("a"), "leaseCounter", n(1)), ExpressionRequest.none(), null);
        var deleted = run((ActorRef<StatusReply<TableEntity.TableView>> r) -> new TableEntity.Delete(r));
        assertEquals("DELETING", deleted.getValue().status());
        assertEquals(1, deleted.getValue().itemCount());
        // the erasure completes at once here; the entity records it and is absent again
        assertEquals(List.of("Table|leases"), erased);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!(table.getState() instanceof TableEntity.Absent)) {
            assertTrue(System.nanoTime() < deadline, "never erased: " + table.getState());
            Thread.onSpinWait();
        }
        var describe = run((ActorRef<StatusReply<TableEntity.TableView>> r) -> new TableEntity.Describe(r));
        assertEquals(AwsError.ResourceNotFoundException, ((ApiException) describe.getError()).error());
        this.<TableEntity.TableView>run(r -> new TableEntity.Create(schema(), r));
        assertNull(get("a"), "a table made again under the name starts empty");
        table.restart();
        assertNull(get("a"));
    }

    @Test
    void refusalsChangeNothing() {
        this.<TableEntity.TableView>run(r -> new TableEntity.Create(schema(), r));
        var wrongKey = write(Expressions.Kind.PUT, Map.of("leaseKey", n(1)), ExpressionRequest.none(), null);
        assertEquals(AwsError.ValidationException, ((ApiException) wrongKey.getError()).error());
        Map<String, AttributeValue> big = new LinkedHashMap<>();
        big.put("leaseKey", s("big"));
        big.put("data", s("x".repeat((int) AttributeValue.MAX_ITEM_SIZE)));
        var tooBig = write(Expressions.Kind.PUT, big, ExpressionRequest.none(), null);
        assertEquals("Item size has exceeded the maximum allowed size", tooBig.getError().getMessage());
        var badUpdate = write(Expressions.Kind.UPDATE, Map.of("leaseKey", s("k")), new ExpressionRequest(null, "SET leaseKey = :v",
                null, null, null, null, Map.of(":v", s("other")), null, null, null, null, null, null), null);
        assertEquals(AwsError.ValidationException, ((ApiException) badUpdate.getError()).error());
        assertNull(get("big"));
        assertNull(get("k"));
        var again = run((ActorRef<StatusReply<TableEntity.TableView>> r) -> new TableEntity.Create(schema(), r));
        assertEquals(AwsError.ResourceInUseException, ((ApiException) again.getError()).error());
    }

    @Test
    void aFailedJournalWriteIsNeitherAcknowledgedNorKept() {
        PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());
        var entity = testKit.spawn(TableEntity.create("failing", SNAPSHOT_EVERY, this::erase));
        TestProbe<StatusReply<TableEntity.TableView>> created = testKit.createTestProbe();
        TableSchema schema = new TableSchema("failing", "id-2", 0, new TableSchema.KeyAttribute("leaseKey", "S"), null,
                TableSchema.PAY_PER_REQUEST, 0, 0, 0, false, List.of(), Map.of(), false, 0, "STANDARD");
        entity.tell(new TableEntity.Create(schema, created.getRef()));
        assertTrue(created.receiveMessage().isSuccess());
        TestProbe<StatusReply<TableEntity.Written>> writes = testKit.createTestProbe();
        journal.failNextPersisted();
        entity.tell(new TableEntity.Write(Expressions.Kind.PUT, Map.of("leaseKey", s("lost"), "leaseCounter", n(1)),
                ExpressionRequest.none(), null, null, writes.getRef()));
        writes.expectNoMessage(Duration.ofMillis(500));
        // restarted from the journal (back-off 200 ms): the write is not there, and the next one works
        TestProbe<StatusReply<TableEntity.Got>> reads = testKit.createTestProbe();
        entity.tell(new TableEntity.Get(Map.of("leaseKey", s("lost")), ExpressionRequest.none(), reads.getRef()));
        assertNull(reads.receiveMessage(Duration.ofSeconds(10)).getValue().item());
        entity.tell(new TableEntity.Write(Expressions.Kind.PUT, Map.of("leaseKey", s("kept"), "leaseCounter", n(1)),
                absent(), null, null, writes.getRef()));
        assertFalse(writes.receiveMessage(Duration.ofSeconds(10)).getValue().conditionFailed());
    }
}
