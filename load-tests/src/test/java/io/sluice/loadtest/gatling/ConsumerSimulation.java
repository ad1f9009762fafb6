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
 * MillisBehindLatest) while a side scenario keeps the stream fed with {@code feedRate} PutRecords of
 * {@code batch} records per second for {@code duration} seconds (0: no feed, the readers poll an idle
 * stream), and on until {@code drain} seconds after the last PutRecords was answered. Checks: 200
 * everywhere, every record read carries the stream's EncryptionType, and after the drain the {@link Ledger}'s
 * comparison of what the readers read with what the feed had acknowledged: no record missing, duplicated,
 * out of order, corrupt or never acknowledged.
 */
public class ConsumerSimulation extends KinesisSimulation {

    public ConsumerSimulation() {
        super(0);
    }

    private final List<KinesisLoad.Body> bodies = load.pool(load::putRecords);
    private final double feedRate = Double.parseDouble(KinesisLoad.str("feedRate", "5"));
    private final Duration drain = Duration.ofSeconds(KinesisLoad.num("drain", 5));
    private static final Duration START = Duration.ofSeconds(2);

    private final ScenarioBuilder readers = scenario("Tail readers")
            .exec(load.tailReader(START.plus(load.duration), drain, "LATEST"));

    private final ScenarioBuilder feed = scenario("Feed")
            .exec(load.put("PutRecords", session -> KinesisLoad.pick(bodies), load.batch,
                    jmesPath("FailedRecordCount").ofInt().is(0), load.encryptionCheck()));

    {
        // readers hold their LATEST iterators before the feed starts, so they are due all of it (the ledger
        // checks that, and leaves out what a late reader was not due)
        run(readers.injectOpen(atOnceUsers(load.shards)),
                feed.injectOpen(nothingFor(START), constantUsersPerSec(feedRate).during(load.duration)));
    }

    @Override
    protected Map<String, Object> counters() {
        return Map.of("readSeconds", load.duration.toSeconds());
    }
}
