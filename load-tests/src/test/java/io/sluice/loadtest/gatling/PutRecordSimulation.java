package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

import java.util.List;
import java.util.Map;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;

/**
 * PutRecord of one record ({@code size} random bytes, random partition key) per arriving user, {@code rate}
 * users per second for {@code duration} seconds (open model). Checks: 200, a SequenceNumber and ShardId, the
 * stream's EncryptionType.
 */
public class PutRecordSimulation extends Simulation {

    private final KinesisLoad load = new KinesisLoad("PutRecordSimulation", 100);
    private final List<KinesisLoad.Body> bodies = load.pool(() -> load.putRecordBody(load.randomRecord()));

    private final ScenarioBuilder producers = scenario("PutRecord producers")
            .exec(load.call("PutRecord", session -> KinesisLoad.pick(bodies),
                    jmesPath("SequenceNumber").exists(), jmesPath("ShardId").exists(), load.encryptionCheck()))
            .exec(session -> {
                if (!session.isFailed()) {
                    load.recordsAcked.incrementAndGet();
                    load.bytesAcked.addAndGet(load.size);
                }
                return session;
            });

    {
        setUp(producers.injectOpen(Injection.steady(load))).protocols(load.protocol())
                .assertions(global().failedRequests().count().is(0L));
    }

    @Override
    public void before() {
        load.createStream();
    }

    @Override
    public void after() {
        load.finish(Map.of("recordsPerRequest", 1));
    }
}
