package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

import java.util.List;
import java.util.Map;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;

/**
 * PutRecords of {@code batch} records ({@code size} random bytes each, random partition keys) per arriving
 * user, {@code rate} users per second for {@code duration} seconds (open model). Checks: 200,
 * FailedRecordCount = 0, the stream's EncryptionType. Records/s = rate × batch while the server keeps up.
 */
public class PutRecordsSimulation extends Simulation {

    private final KinesisLoad load = new KinesisLoad("PutRecordsSimulation", 20);
    private final List<KinesisLoad.Body> bodies = load.pool(load::putRecordsBody);

    private final ScenarioBuilder producers = scenario("PutRecords producers")
            .exec(load.call("PutRecords", session -> KinesisLoad.pick(bodies),
                    jmesPath("FailedRecordCount").ofInt().is(0), jmesPath("length(Records)").ofInt().is(load.batch),
                    load.encryptionCheck()))
            .exec(session -> {
                if (!session.isFailed()) {
                    load.recordsAcked.addAndGet(load.batch);
                    load.bytesAcked.addAndGet((long) load.batch * load.size);
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
        load.finish(Map.of("recordsPerRequest", load.batch));
    }
}
