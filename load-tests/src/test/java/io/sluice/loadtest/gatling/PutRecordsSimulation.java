package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.ScenarioBuilder;

import java.util.List;
import java.util.Map;

import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;

/**
 * PutRecords of {@code batch} records ({@code size} random bytes each, random partition keys) per arriving
 * user, {@code rate} users per second for {@code duration} seconds (open model). Checks: 200,
 * FailedRecordCount = 0, the stream's EncryptionType. Records/s = rate × batch while the server keeps up.
 */
public class PutRecordsSimulation extends KinesisSimulation {

    public PutRecordsSimulation() {
        super(20);
    }

    private final List<KinesisLoad.Body> bodies = load.pool(load::putRecords);

    private final ScenarioBuilder producers = scenario("PutRecords producers")
            .exec(load.call("PutRecords", session -> KinesisLoad.pick(bodies),
                    jmesPath("FailedRecordCount").ofInt().is(0), jmesPath("length(Records)").ofInt().is(load.batch),
                    load.encryptionCheck()))
            .exec(load.acknowledged(load.batch));

    {
        run(producers.injectOpen(Injection.steady(load)));
    }

    @Override
    protected Map<String, Object> counters() {
        return Map.of("recordsPerRequest", load.batch);
    }
}
