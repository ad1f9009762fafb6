package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.scenario;

/**
 * Producers and consumers together: PutRecord of stamped records ({@code rate} per second, open model) while
 * one tail reader per shard reads from LATEST. Each record carries this run's id, its send time and a
 * sequence number, so the readers measure the put-to-get propagation delay (send of the PutRecord until a
 * GetRecords answer holding it arrived, one JVM's clock). The readers read on until {@code drain} seconds
 * after the last PutRecord was answered; then the {@link Ledger} compares what they read with what was
 * acknowledged, as for {@link ConsumerSimulation}: no record missing, duplicated, out of order, corrupt or
 * never acknowledged.
 */
public class EndToEndSimulation extends KinesisSimulation {

    private static final Duration START = Duration.ofSeconds(2);

    public EndToEndSimulation() {
        super(100);
    }

    private final Duration drain = Duration.ofSeconds(KinesisLoad.num("drain", 5));
    private final AtomicLong nextSeq = new AtomicLong();

    private final ScenarioBuilder producers = scenario("Stamped producers")
            .exec(session -> session.set("seq", nextSeq.getAndIncrement()))
            .exec(load.put("PutRecord", session -> load.putRecord(load.stampedRecord(session.getLong("seq"))), 1,
                    jmesPath("SequenceNumber").exists(), load.encryptionCheck()));

    private final ScenarioBuilder readers = scenario("Tail readers")
            .exec(load.tailReader(START.plus(load.ramp).plus(load.duration), drain, "LATEST"));

    {
        List<OpenInjectionStep> producing = new ArrayList<>();
        producing.add(nothingFor(START));
        producing.addAll(List.of(Injection.steady(load)));
        run(readers.injectOpen(atOnceUsers(load.shards)),
                producers.injectOpen(producing.toArray(new OpenInjectionStep[0])));
    }

    @Override
    protected Map<String, Object> counters() {
        return Map.of("recordsPerRequest", 1);
    }
}
