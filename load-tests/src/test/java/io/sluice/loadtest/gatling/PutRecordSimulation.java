package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.ScenarioBuilder;

import java.util.List;
import java.util.Map;

import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;

/**
 * PutRecord of one record ({@code size} random bytes, random partition key) per arriving user, {@code rate}
 * users per second for {@code duration} seconds (open model). Checks: 200, a SequenceNumber and ShardId, the
 * stream's EncryptionType.
 */
public class PutRecordSimulation extends KinesisSimulation {

    public PutRecordSimulation() {
        super(100);
    }

    private final List<KinesisLoad.Body> bodies = load.pool(() -> load.putRecord(load.randomRecord()));

    private final ScenarioBuilder producers = scenario("PutRecord producers")
            .exec(load.call("PutRecord", session -> KinesisLoad.pick(bodies),
                    jmesPath("SequenceNumber").exists(), jmesPath("ShardId").exists(), load.encryptionCheck()))
            .exec(load.acknowledged(1));

    {
        run(producers.injectOpen(Injection.steady(load)));
    }

    @Override
    protected Map<String, Object> counters() {
        return Map.of("recordsPerRequest", 1);
    }
}
