package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.OpenInjectionStep;

import java.util.ArrayList;
import java.util.List;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;

/** Open-model arrival profiles: an optional linear ramp to {@code rate}, then {@code rate} for {@code duration}. */
final class Injection {

    private Injection() {
    }

    static OpenInjectionStep[] steady(KinesisLoad load) {
        List<OpenInjectionStep> steps = new ArrayList<>();
        if (!load.ramp.isZero()) {
            steps.add(rampUsersPerSec(Math.min(1, load.rate)).to(load.rate).during(load.ramp));
        }
        steps.add(constantUsersPerSec(load.rate).during(load.duration));
        return steps.toArray(new OpenInjectionStep[0]);
    }
}
