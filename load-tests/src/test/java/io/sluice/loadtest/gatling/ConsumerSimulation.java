package io.sluice.loadtest.gatling;

import io.gatling.javaapi.core.ScenarioBuilder;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.jmesPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.scenario;

/**
 * One tail reader per shard (GetShardIterator LATEST, then GetRecords loops honouring NextShardIterator and
 * MillisBehindLatest) for {@code duration} seconds, on a stream that a side scenario keeps fed with
 * {@code feedRate} PutRecords of {@code batch} records per second (0: no feed, the readers poll an idle
 * stream). Checks: 200 everywhere, every record read carries the stream's EncryptionType.
 */
public class ConsumerSimulation extends KinesisSimulation {

    public ConsumerSimulation() {
        super(0);
    }

    private final List<KinesisLoad.Body> bodies = load.pool(load::putRecordsBody);
    private final double feedRate = Double.parseDouble(KinesisLoad.str("feedRate", "5"));
    private static final Duration START = Duration.ofSeconds(2);

    private final ScenarioBuilder readers = scenario("Tail readers")
            .exec(load.tailReader(START.plus(load.duration), "LATEST"));

    private final ScenarioBuilder feed = scenario("Feed")
            .exec(load.call("PutRecords", session -> KinesisLoad.pick(bodies),
                    jmesPath("FailedRecordCount").ofInt().is(0), load.encryptionCheck()))
            .exec(load.acknowledged(load.batch));

    {
        // readers hold their LATEST iterators before the feed starts, so they see all of it
        run(readers.injectOpen(atOnceUsers(load.shards)),
                feed.injectOpen(nothingFor(START), constantUsersPerSec(feedRate).during(load.duration)));
    }

    @Override
    protected Map<String, Object> counters() {
        return Map.of("readSeconds", load.duration.toSeconds());
    }
}
