package io.sluice.node.it;

import io.sluice.node.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.AccessKey;
import software.amazon.awssdk.services.iam.model.IamException;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.AccessDeniedException;
import software.amazon.awssdk.services.kinesis.model.KinesisException;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KmsException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * IAM users (made by the root through the IAM API) calling every service through the real AWS SDK
 * v2 clients, signed with their own access keys: what their policies allow succeeds, the rest is
 * refused in AWS's words, and a user cannot talk its way out of its policy: not by granting itself
 * rights through IAM, not by reading with an iterator it may fetch, not by paging another stream's
 * shards with a NextToken (which names its stream).
 */
class IamAuthorizationTest {
    static final String ACCOUNT = "000000000000";
    static TestNode node;
    static IamClient rootIam;
    static KmsClient rootKms;
    static KinesisClient rootKinesis;
    static final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        node = new TestNode(new MutableClock(), "sluice.iam.refresh = 200ms").start();
        rootIam = iam(node.accessKeyId, node.secretKey);
        rootKms = kms(node.accessKeyId, node.secretKey);
        rootKinesis = kinesis(node.accessKeyId, node.secretKey);
        for (String stream : List.of("plain", "pages-a", "pages-b")) {
            rootKinesis.createStream(b -> b.streamName(stream).shardCount(3));
        }
        for (String stream : List.of("plain", "pages-a", "pages-b")) {
            TestNode.awaitActive(rootKinesis, stream);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : clients) c.close();
        if (node != null) node.close();
    }

    static <T extends AutoCloseable> T closing(T client) {
        clients.add(client);
        return client;
    }

    static StaticCredentialsProvider credentials(String id, String secret) {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
    }

    static IamClient iam(String id, String secret) {
        // IAM is global and signed for us-east-1; with an endpoint override the SDK signs for the region it is given
        // (aws-global would be refused, as AWS refuses it: "Credential should be scoped to a valid region")
        return closing(IamClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials(id, secret)).httpClient(UrlConnectionHttpClient.create()).build());
    }

    static KmsClient kms(String id, String secret) {
        return closing(KmsClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials(id, secret)).httpClient(UrlConnectionHttpClient.create()).build());
    }

    static KinesisClient kinesis(String id, String secret) {
        return closing(KinesisClient.builder().endpointOverride(node.endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(credentials(id, secret)).httpClient(UrlConnectionHttpClient.create()).build());
    }

    /** A user made by the root through the IAM API, with inline policies, and its access key. */
    static AccessKey user(String name, String... policies) {
        rootIam.createUser(b -> b.userName(name));
        for (int i = 0; i < policies.length; i++) {
            String document = policies[i];
            String policyName = "p" + i;
            rootIam.putUserPolicy(b -> b.userName(name).policyName(policyName).policyDocument(document));
        }
        return rootIam.createAccessKey(b -> b.userName(name)).accessKey();
    }

    static String allow(String actions, String resource) {
        return """
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": %s, "Resource": %s}]}
                """.formatted(actions, resource);
    }

    static String userArn(String name) {
        return "arn:aws:iam::" + ACCOUNT + ":user/" + name;
    }

    static String streamArn(String name) {
        return "arn:aws:kinesis:us-east-1:" + ACCOUNT + ":stream/" + name;
    }

    static String denied(String user, String action, String resource) {
        return "User: " + userArn(user) + " is not authorized to perform: " + action + " on resource: " + resource;
    }

    static void assertDenied(AwsServiceException e, String code, int status, String message) {
        assertEquals(code, e.awsErrorDetails().errorCode(), e::getMessage);
        assertEquals(status, e.statusCode());
        assertEquals(message, e.awsErrorDetails().errorMessage());
    }

    /** Long enough for every node's identity directory to have reloaded at least once (refresh is 200 ms). */
    static void afterARefresh() throws InterruptedException {
        Thread.sleep(600);
    }

    // ---- (a) KMS

    @Test
    void aKmsUserMayUseTheKeyItIsAllowedAndIsDeniedEverythingElseInAwsWords() throws Exception {
        String mine = rootKms.createKey(b -> b.description("mine")).keyMetadata().arn();
        String other = rootKms.createKey(b -> b.description("other")).keyMetadata().arn();
        rootKms.createAlias(b -> b.aliasName("alias/mine").targetKeyId(mine));
        AccessKey key = user("kms-user",
                allow("[\"kms:DescribeKey\", \"kms:Encrypt\", \"kms:Decrypt\", \"kms:GenerateDataKey\"]", "\"" + mine + "\""),
                allow("\"kms:ListKeys\"", "\"*\""));
        KmsClient kms = kms(key.accessKeyId(), key.secretAccessKey());

        assertEquals(mine, kms.describeKey(b -> b.keyId("alias/mine")).keyMetadata().arn());
        SdkBytes blob = kms.encrypt(b -> b.keyId(mine).plaintext(SdkBytes.fromUtf8String("secret"))).ciphertextBlob();
        assertEquals("secret", kms.decrypt(b -> b.ciphertextBlob(blob)).plaintext().asUtf8String());
        assertEquals(32, kms.generateDataKey(b -> b.keyId(mine).numberOfBytes(32)).plaintext().asByteArray().length);
        assertTrue(kms.listKeys().keys().stream().anyMatch(k -> k.keyArn().equals(other)));

        assertDenied(assertThrows(KmsException.class, () -> kms.createKey(b -> b.description("mine too"))),
                "AccessDeniedException", 400, denied("kms-user", "kms:CreateKey", "*"));
        assertDenied(assertThrows(KmsException.class, () -> kms.describeKey(b -> b.keyId(other))),
                "AccessDeniedException", 400, denied("kms-user", "kms:DescribeKey", other));
        assertDenied(assertThrows(KmsException.class, () -> kms.scheduleKeyDeletion(b -> b.keyId(mine).pendingWindowInDays(7))),
                "AccessDeniedException", 400, denied("kms-user", "kms:ScheduleKeyDeletion", mine));
        assertDenied(assertThrows(KmsException.class, () -> kms.disableKey(b -> b.keyId("alias/mine"))),
                "AccessDeniedException", 400, denied("kms-user", "kms:DisableKey", mine));
        assertDenied(assertThrows(KmsException.class, () -> kms.encrypt(b -> b.keyId(other)
                        .plaintext(SdkBytes.fromUtf8String("x")))),
                "AccessDeniedException", 400, denied("kms-user", "kms:Encrypt", other));
        // a blob of a key the user may not decrypt with is refused on that key, whichever key the caller names
        SdkBytes othersBlob = rootKms.encrypt(b -> b.keyId(other).plaintext(SdkBytes.fromUtf8String("x"))).ciphertextBlob();
        assertDenied(assertThrows(KmsException.class, () -> kms.decrypt(b -> b.ciphertextBlob(othersBlob))),
                "AccessDeniedException", 400, denied("kms-user", "kms:Decrypt", other));

        assertEquals(KeyState.ENABLED, rootKms.describeKey(b -> b.keyId(mine)).keyMetadata().keyState());
    }

    // ---- DynamoDB

    static software.amazon.awssdk.services.dynamodb.DynamoDbClient dynamo(String id, String secret) {
        return closing(software.amazon.awssdk.services.dynamodb.DynamoDbClient.builder().endpointOverride(node.endpoint())
                .region(Region.US_EAST_1).credentialsProvider(credentials(id, secret))
                .httpClient(UrlConnectionHttpClient.create()).build());
    }

    @Test
    void aKclWorkerUserMayUseItsLeaseTableAndIndexOnlyAndIsDeniedInDynamoDbsWords() throws Exception {
        var root = dynamo(node.accessKeyId, node.secretKey);
        for (String table : List.of("app-leases", "other-app")) {
            root.createTable(b -> b.tableName(table).billingMode("PAY_PER_REQUEST")
                    .keySchema(k -> k.attributeName("leaseKey").keyType("HASH"))
                    .attributeDefinitions(a -> a.attributeName("leaseKey").attributeType("S")));
        }
        String tableArn = "arn:aws:dynamodb:us-east-1:" + ACCOUNT + ":table/app-leases";
        AccessKey key = user("kcl-worker",
                allow("[\"dynamodb:GetItem\", \"dynamodb:PutItem\", \"dynamodb:UpdateItem\", \"dynamodb:Scan\", \"dynamodb:DescribeTable\"]",
                        "\"" + tableArn + "\""),
                allow("\"dynamodb:Query\"", "\"" + tableArn + "/index/*\""));
        afterARefresh();
        var worker = dynamo(key.accessKeyId(), key.secretAccessKey());
        var lease = java.util.Map.of("leaseKey", software.amazon.awssdk.services.dynamodb.model.AttributeValue.builder().s("shardId-0").build());
        worker.putItem(b -> b.tableName("app-leases").item(lease));
        assertTrue(worker.getItem(b -> b.tableName("app-leases").key(lease)).hasItem());
        assertEquals(1, worker.scan(b -> b.tableName("app-leases")).count());

        assertDenied(assertThrows(software.amazon.awssdk.services.dynamodb.model.DynamoDbException.class,
                        () -> worker.deleteItem(b -> b.tableName("app-leases").key(lease))),
                "AccessDeniedException", 400, denied("kcl-worker", "dynamodb:DeleteItem", tableArn));
        assertDenied(assertThrows(software.amazon.awssdk.services.dynamodb.model.DynamoDbException.class,
                        () -> worker.getItem(b -> b.tableName("other-app").key(lease))),
                "AccessDeniedException", 400, denied("kcl-worker", "dynamodb:GetItem",
                        "arn:aws:dynamodb:us-east-1:" + ACCOUNT + ":table/other-app"));
        assertDenied(assertThrows(software.amazon.awssdk.services.dynamodb.model.DynamoDbException.class,
                        () -> worker.query(b -> b.tableName("app-leases").keyConditionExpression("leaseKey = :k")
                                .expressionAttributeValues(java.util.Map.of(":k", lease.get("leaseKey"))))),
                "AccessDeniedException", 400, denied("kcl-worker", "dynamodb:Query", tableArn));
        assertDenied(assertThrows(software.amazon.awssdk.services.dynamodb.model.DynamoDbException.class,
                        () -> worker.listTables()),
                "AccessDeniedException", 400, denied("kcl-worker", "dynamodb:ListTables", "*"));
        assertTrue(root.getItem(b -> b.tableName("app-leases").key(lease)).hasItem(), "the denied delete changed nothing");
    }

    // ---- (b) IAM

    @Test
    void aUserAllowedNothingOnIamCannotGrantItselfRights() throws Exception {
        AccessKey key = user("climber", allow("\"kinesis:ListStreams\"", "\"*\""));
        IamClient iam = iam(key.accessKeyId(), key.secretAccessKey());
        KinesisClient kinesis = kinesis(key.accessKeyId(), key.secretAccessKey());
        AccessDeniedException before = assertThrows(AccessDeniedException.class,
                () -> kinesis.describeStreamSummary(b -> b.streamName("plain")));
        assertEquals(denied("climber", "kinesis:DescribeStreamSummary", streamArn("plain")), before.awsErrorDetails().errorMessage());

        String everything = allow("\"*\"", "\"*\"");
        assertDenied(assertThrows(IamException.class, () -> iam.putUserPolicy(b -> b.userName("climber")
                        .policyName("everything").policyDocument(everything))),
                "AccessDenied", 403, denied("climber", "iam:PutUserPolicy", userArn("climber")));
        assertDenied(assertThrows(IamException.class, () -> iam.createUser(b -> b.userName("accomplice"))),
                "AccessDenied", 403, denied("climber", "iam:CreateUser", userArn("accomplice")));
        assertDenied(assertThrows(IamException.class, () -> iam.createAccessKey(b -> b.userName("kms-user"))),
                "AccessDenied", 403, denied("climber", "iam:CreateAccessKey", userArn("kms-user")));
        assertDenied(assertThrows(IamException.class, () -> iam.deleteUserPolicy(b -> b.userName("climber").policyName("p0"))),
                "AccessDenied", 403, denied("climber", "iam:DeleteUserPolicy", userArn("climber")));
        assertDenied(assertThrows(IamException.class, () -> iam.listUsers()),
                "AccessDenied", 403, denied("climber", "iam:ListUsers", "*"));
        assertDenied(assertThrows(IamException.class, () -> iam.getUser()),
                "AccessDenied", 403, denied("climber", "iam:GetUser", userArn("climber")));

        // nothing changed: its policies are the root's, and what it was denied it still is, also after a reload
        assertEquals(List.of("p0"), rootIam.listUserPolicies(b -> b.userName("climber")).policyNames());
        assertTrue(rootIam.listUsers().users().stream().noneMatch(u -> u.userName().equals("accomplice")));
        afterARefresh();
        AccessDeniedException after = assertThrows(AccessDeniedException.class,
                () -> kinesis.describeStreamSummary(b -> b.streamName("plain")));
        assertEquals(before.awsErrorDetails().errorMessage(), after.awsErrorDetails().errorMessage());
        assertThrows(IamException.class, () -> iam.putUserPolicy(b -> b.userName("climber")
                .policyName("everything").policyDocument(everything)));
        assertNotNull(kinesis.listStreams());
    }

    @Test
    void aUserWithOnlyReadingRightsOnIamReadsAndChangesNothing() throws Exception {
        AccessKey key = user("auditor", allow("[\"iam:GetUser\", \"iam:ListUsers\", \"iam:ListUserPolicies\"]", "\"*\""));
        AccessKey selfKey = user("self-only", allow("\"iam:GetUser\"", "\"" + userArn("self-only") + "\""));
        IamClient auditor = iam(key.accessKeyId(), key.secretAccessKey());
        IamClient self = iam(selfKey.accessKeyId(), selfKey.secretAccessKey());

        assertEquals(userArn("auditor"), auditor.getUser().user().arn());
        assertEquals(userArn("self-only"), auditor.getUser(b -> b.userName("self-only")).user().arn());
        Set<String> names = Set.copyOf(auditor.listUsers().users().stream().map(u -> u.userName()).toList());
        assertTrue(names.containsAll(Set.of("auditor", "self-only")), names::toString);
        assertEquals(List.of("p0"), auditor.listUserPolicies(b -> b.userName("self-only")).policyNames());
        assertDenied(assertThrows(IamException.class, () -> auditor.getUserPolicy(b -> b.userName("self-only").policyName("p0"))),
                "AccessDenied", 403, denied("auditor", "iam:GetUserPolicy", userArn("self-only")));
        assertDenied(assertThrows(IamException.class, () -> auditor.putUserPolicy(b -> b.userName("auditor")
                        .policyName("more").policyDocument(allow("\"iam:*\"", "\"*\"")))),
                "AccessDenied", 403, denied("auditor", "iam:PutUserPolicy", userArn("auditor")));
        assertDenied(assertThrows(IamException.class, () -> auditor.createAccessKey()),
                "AccessDenied", 403, denied("auditor", "iam:CreateAccessKey", userArn("auditor")));
        assertDenied(assertThrows(IamException.class, () -> auditor.deleteUser(b -> b.userName("self-only"))),
                "AccessDenied", 403, denied("auditor", "iam:DeleteUser", userArn("self-only")));
        assertDenied(assertThrows(IamException.class, () -> auditor.updateAccessKey(b -> b.userName("self-only")
                        .accessKeyId(selfKey.accessKeyId()).status("Inactive"))),
                "AccessDenied", 403, denied("auditor", "iam:UpdateAccessKey", userArn("self-only")));

        assertEquals(userArn("self-only"), self.getUser().user().arn());
        assertDenied(assertThrows(IamException.class, () -> self.getUser(b -> b.userName("auditor"))),
                "AccessDenied", 403, denied("self-only", "iam:GetUser", userArn("auditor")));
        assertDenied(assertThrows(IamException.class, () -> self.listUsers()),
                "AccessDenied", 403, denied("self-only", "iam:ListUsers", "*"));

        afterARefresh();
        assertEquals("Active", rootIam.listAccessKeys(b -> b.userName("self-only")).accessKeyMetadata().get(0).statusAsString());
        assertEquals(List.of("p0"), rootIam.listUserPolicies(b -> b.userName("auditor")).policyNames());
    }

    // ---- (c) reads

    @Test
    void aUserAllowedGetShardIteratorButNotGetRecordsGetsTheIteratorAndNoRecords() {
        rootKinesis.putRecord(b -> b.streamName("plain").partitionKey("k").data(SdkBytes.fromUtf8String("hidden"))
                .explicitHashKey("0"));
        AccessKey key = user("iterator-only", allow("\"kinesis:GetShardIterator\"", "\"" + streamArn("plain") + "\""));
        KinesisClient kinesis = kinesis(key.accessKeyId(), key.secretAccessKey());

        String iterator = kinesis.getShardIterator(b -> b.streamName("plain").shardId("shardId-000000000000")
                .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        assertNotNull(iterator);
        AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> kinesis.getRecords(b -> b.shardIterator(iterator)));
        assertDenied(e, "AccessDeniedException", 400, denied("iterator-only", "kinesis:GetRecords", streamArn("plain")));
        // the iterator itself is good: the root reads the record with it
        assertEquals("hidden", rootKinesis.getRecords(b -> b.shardIterator(iterator)).records().get(0).data().asUtf8String());
    }

    // ---- (d) paginated ListShards

    @Test
    void listShardsPagesAreAuthorizedOnTheStreamTheirTokenNames() {
        AccessKey key = user("pager", allow("\"kinesis:ListShards\"", "\"" + streamArn("pages-a") + "\""));
        KinesisClient kinesis = kinesis(key.accessKeyId(), key.secretAccessKey());

        List<String> shards = new ArrayList<>();
        ListShardsResponse page = kinesis.listShards(b -> b.streamName("pages-a").maxResults(1));
        page.shards().forEach(s -> shards.add(s.shardId()));
        String tokenOfA = page.nextToken();
        while (page.nextToken() != null) {
            String token = page.nextToken();
            page = kinesis.listShards(b -> b.nextToken(token).maxResults(1));
            page.shards().stream().map(Shard::shardId).forEach(shards::add);
        }
        assertEquals(List.of("shardId-000000000000", "shardId-000000000001", "shardId-000000000002"), shards);

        String tokenOfB = rootKinesis.listShards(b -> b.streamName("pages-b").maxResults(1)).nextToken();
        assertDenied(assertThrows(AccessDeniedException.class, () -> kinesis.listShards(b -> b.nextToken(tokenOfB))),
                "AccessDeniedException", 400, denied("pager", "kinesis:ListShards", streamArn("pages-b")));
        // tokens are not signed: one written by hand to name B is authorized on B
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("shards\n" + System.currentTimeMillis() + "\npages-b|shardId-000000000000").getBytes(StandardCharsets.UTF_8));
        assertDenied(assertThrows(AccessDeniedException.class, () -> kinesis.listShards(b -> b.nextToken(forged))),
                "AccessDeniedException", 400, denied("pager", "kinesis:ListShards", streamArn("pages-b")));
        // a token comes alone: with a StreamName it is refused before authorization, whichever stream either names
        for (List<String> pair : List.of(List.of("pages-b", tokenOfA), List.of("pages-a", tokenOfB))) {
            KinesisException both = assertThrows(KinesisException.class,
                    () -> kinesis.listShards(b -> b.streamName(pair.get(0)).nextToken(pair.get(1))));
            assertEquals("InvalidArgumentException", both.awsErrorDetails().errorCode());
            assertEquals("NextToken and StreamName cannot be provided together.", both.awsErrorDetails().errorMessage());
        }
        assertDenied(assertThrows(AccessDeniedException.class, () -> kinesis.listShards(b -> b.streamName("pages-b"))),
                "AccessDeniedException", 400, denied("pager", "kinesis:ListShards", streamArn("pages-b")));
        assertDenied(assertThrows(AccessDeniedException.class, () -> kinesis.listShards(b -> b.streamARN(streamArn("pages-b")))),
                "AccessDeniedException", 400, denied("pager", "kinesis:ListShards", streamArn("pages-b")));
        assertThrows(AccessDeniedException.class, () -> kinesis.describeStreamSummary(b -> b.streamName("pages-b")));
        assertThrows(AccessDeniedException.class, () -> kinesis.describeStreamSummary(b -> b.streamName("pages-a")));
        assertThrows(AccessDeniedException.class, () -> kinesis.getShardIterator(b -> b.streamName("pages-b")
                .shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.LATEST)));
    }
}
