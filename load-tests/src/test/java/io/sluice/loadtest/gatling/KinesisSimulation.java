package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.Simulation;

import java.util.Map;

import static io.gatling.javaapi.core.CoreDsl.global;

/**
 * What every simulation does around its scenarios: the run's {@link KinesisLoad} (parameters, stream,
 * counters), the stream created before the load and deleted after it, the counters written for the
 * summary, and the one assertion Gatling makes: no failed request. Speed is reported, never asserted.
 */
public abstract class KinesisSimulation extends Simulation {

    protected final KinesisLoad load;

    protected KinesisSimulation(double defaultRate) {
        this.load = new KinesisLoad(getClass().getSimpleName(), defaultRate);
    }

    /** Sets up the populations with the shared HTTP protocol and the zero-failure assertion. */
    protected final void run(PopulationBuilder... populations) {
        setUp(populations).protocols(load.protocol()).assertions(global().failedRequests().count().is(0L));
    }

    /** Counters of this simulation's own beyond those {@link KinesisLoad} keeps. */
    protected Map<String, Object> counters() {
        return Map.of();
    }

    @Override
    public void before() {
        load.createStream();
    }

    @Override
    public void after() {
        load.finish(counters());
    }
}
