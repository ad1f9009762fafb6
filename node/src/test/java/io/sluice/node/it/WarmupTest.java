package io.sluice.node.it;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.MutableClock;
import io.sluice.node.cluster.CassandraSchema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisClient;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** A node warms its hot paths before it reports healthy, and the warm-up leaves nothing behind. */
class WarmupTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private TestNode node;

    @AfterEach
    void stop() {
        if (node != null) node.close();
    }

    private int health() throws Exception {
        return http.send(HttpRequest.newBuilder(node.endpoint().resolve("/health")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void reportsHealthyOnlyAfterItsWarmupAndLeavesNoTraceOfIt() throws Exception {
        node = new TestNode(new MutableClock(), "sluice.warmup.duration = 3s").start();
        assertEquals(503, health(), "healthy before the warm-up ended");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (health() != 200) {
            assertTrue(System.nanoTime() < deadline, "never healthy");
            Thread.sleep(100);
        }
        // the warm-up went through the front end and the journal
        SignedHttp admin = new SignedHttp(node.endpoint(), node.accessKeyId, node.secretKey).forService("sluice");
        JsonNode stats = new ObjectMapper().readTree(admin.get("/admin/stats").body());
        assertTrue(stats.path("timings").path("request.PutRecords").path("count").asLong() > 0, stats.toString());
        assertTrue(stats.path("timings").path("request.PutRecord").path("count").asLong() > 0, stats.toString());
        assertTrue(stats.path("counters").path("journal.appends").asLong() > 0, stats.toString());

        // the warm-up shard is stopped (the entity that looked up the missing stream passivates when idle, as any does)
        JsonNode hosted = new ObjectMapper().readTree(admin.get("/admin/cluster").body()).path("hostedStreamShards");
        assertFalse(hosted.toString().contains("sluice-warmup"), "the warm-up shard still runs: " + hosted);

        try (KinesisClient kinesis = KinesisClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.create()).build()) {
            assertEquals(List.of(), kinesis.listStreams().streamNames(), "the warm-up is not a stream");
        }
        try (CqlSession cql = CassandraSchema.session(List.of(CassandraForTests.contactPoint()))) {
            List<String> left = new ArrayList<>();
            for (String table : List.of("messages", "snapshots", "metadata", "all_persistence_ids", "tag_views",
                    "tag_write_progress", "tag_scanning")) {
                for (Row row : cql.execute("SELECT persistence_id FROM " + node.keyspace + "." + table)) {
                    if (row.getString("persistence_id").contains("sluice-warmup")) left.add(table + ": " + row.getString("persistence_id"));
                }
            }
            assertEquals(List.of(), left, "the warm-up left rows in Cassandra");
        }
    }
}
