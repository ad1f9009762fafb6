package io.sluice.node.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKey;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;
import software.amazon.awssdk.services.sts.model.StsException;

import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * STS GetCallerIdentity (what the KPL asks at start) through the AWS SDK v2 and both CLIs: root and an
 * IAM user without any policy both learn who they are; a wrong secret is refused as STS refuses it.
 */
class StsTest {
    static TestNode node;
    static IamClient rootIam;

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(Clock.systemUTC(), "").start();
        rootIam = IamClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(node.accessKeyId, node.secretKey)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    @AfterAll
    static void stop() {
        if (rootIam != null) rootIam.close();
        if (node != null) node.close();
    }

    static StsClient sts(String id, String secret, Region region) {
        return StsClient.builder().endpointOverride(node.endpoint()).region(region)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    @Test
    void rootAndAUserWithoutPoliciesLearnWhoTheyAre() {
        try (StsClient sts = sts(node.accessKeyId, node.secretKey, Region.US_EAST_1)) {
            GetCallerIdentityResponse me = sts.getCallerIdentity();
            assertEquals("000000000000", me.account());
            assertEquals("arn:aws:iam::000000000000:root", me.arn());
            assertEquals("000000000000", me.userId());
        }
        rootIam.createUser(b -> b.userName("producer"));
        String userId = rootIam.getUser(b -> b.userName("producer")).user().userId();
        AccessKey key = rootIam.createAccessKey(b -> b.userName("producer")).accessKey();
        try (StsClient sts = sts(key.accessKeyId(), key.secretAccessKey(), Region.US_EAST_1)) {
            GetCallerIdentityResponse me = eventually(sts);
            assertEquals("000000000000", me.account());
            assertEquals("arn:aws:iam::000000000000:user/producer", me.arn());
            assertEquals(userId, me.userId());
        }
        try (StsClient wrong = sts(key.accessKeyId(), "not-the-secret", Region.US_EAST_1)) {
            StsException refused = assertThrows(StsException.class, wrong::getCallerIdentity);
            assertEquals(403, refused.statusCode());
            assertEquals("SignatureDoesNotMatch", refused.awsErrorDetails().errorCode());
        }
    }

    /** A new access key reaches every node's identity view within sluice.iam.refresh. */
    static GetCallerIdentityResponse eventually(StsClient sts) {
        for (int i = 0; ; i++) {
            try {
                return sts.getCallerIdentity();
            } catch (StsException e) {
                if (i > 50) throw e;
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    throw new RuntimeException(ie);
                }
            }
        }
    }

    public static List<String> clis() {
        return AwsCliTest.clis();
    }

    @ParameterizedTest
    @MethodSource("clis")
    void theCliPrintsTheCallersIdentity(String version) throws Exception {
        AwsCliTest.Result r = AwsCliTest.aws(node.endpoint(), node.accessKeyId, node.secretKey, AwsCliTest.cli(version),
                "sts", "get-caller-identity");
        assertEquals(0, r.exit(), r::err);
        JsonNode me = new ObjectMapper().readTree(r.out());
        assertEquals("000000000000", me.get("Account").asText());
        assertEquals("arn:aws:iam::000000000000:root", me.get("Arn").asText());
    }
}
