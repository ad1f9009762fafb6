package io.sluice.protocol.dynamodb;

import io.sluice.protocol.dynamodb.ExpressionRequest.AttributeValueUpdate;
import io.sluice.protocol.dynamodb.ExpressionRequest.Condition;
import io.sluice.protocol.dynamodb.ExpressionRequest.ExpectedAttributeValue;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Request and response shapes of the DynamoDB operations Sluice serves ({@code DynamoDB_20120810.*},
 * AWS JSON 1.0): what the Kinesis Client Library and the DynamoDB lock client use for leases,
 * checkpoints and leader election. Same conventions as {@code Kinesis}: member names are the model's
 * in camel case, rendered in upper camel case on the wire; absent members are null.
 */
public final class DynamoDb {
    private DynamoDb() {}

    public record AttributeDefinition(String attributeName, String attributeType) {}

    public record KeySchemaElement(String attributeName, String keyType) {}

    public record Projection(String projectionType, List<String> nonKeyAttributes) {}

    public record ProvisionedThroughput(Long readCapacityUnits, Long writeCapacityUnits) {}

    public record Tag(String key, String value) {}

    public record GlobalSecondaryIndex(String indexName, List<KeySchemaElement> keySchema, Projection projection,
                                       ProvisionedThroughput provisionedThroughput) {}

    public record CreateTableRequest(List<AttributeDefinition> attributeDefinitions, String tableName,
                                     List<KeySchemaElement> keySchema, List<Object> localSecondaryIndexes,
                                     List<GlobalSecondaryIndex> globalSecondaryIndexes, String billingMode,
                                     ProvisionedThroughput provisionedThroughput, List<Tag> tags,
                                     String tableClass, Boolean deletionProtectionEnabled) {}

    public record TableNameRequest(String tableName) {}

    public record ProvisionedThroughputDescription(Instant lastIncreaseDateTime, Instant lastDecreaseDateTime,
                                                   Long numberOfDecreasesToday, Long readCapacityUnits,
                                                   Long writeCapacityUnits) {}

    public record BillingModeSummary(String billingMode, Instant lastUpdateToPayPerRequestDateTime) {}

    public record GlobalSecondaryIndexDescription(String indexName, List<KeySchemaElement> keySchema,
                                                  Projection projection, String indexStatus, Boolean backfilling,
                                                  ProvisionedThroughputDescription provisionedThroughput,
                                                  Long indexSizeBytes, Long itemCount, String indexArn) {}

    public record TableClassSummary(String tableClass) {}

    public record TableDescription(List<AttributeDefinition> attributeDefinitions, String tableName,
                                   List<KeySchemaElement> keySchema, String tableStatus, Instant creationDateTime,
                                   ProvisionedThroughputDescription provisionedThroughput, Long tableSizeBytes,
                                   Long itemCount, String tableArn, String tableId, BillingModeSummary billingModeSummary,
                                   List<GlobalSecondaryIndexDescription> globalSecondaryIndexes,
                                   TableClassSummary tableClassSummary, Boolean deletionProtectionEnabled) {}

    public record TableDescriptionResponse(TableDescription tableDescription) {}

    public record DescribeTableResponse(TableDescription table) {}

    public record CreateGlobalSecondaryIndexAction(String indexName, List<KeySchemaElement> keySchema,
                                                   Projection projection, ProvisionedThroughput provisionedThroughput) {}

    public record DeleteGlobalSecondaryIndexAction(String indexName) {}

    public record UpdateGlobalSecondaryIndexAction(String indexName, ProvisionedThroughput provisionedThroughput) {}

    public record GlobalSecondaryIndexUpdate(UpdateGlobalSecondaryIndexAction update,
                                             CreateGlobalSecondaryIndexAction create,
                                             DeleteGlobalSecondaryIndexAction delete) {}

    public record UpdateTableRequest(List<AttributeDefinition> attributeDefinitions, String tableName,
                                     String billingMode, ProvisionedThroughput provisionedThroughput,
                                     List<GlobalSecondaryIndexUpdate> globalSecondaryIndexUpdates,
                                     String tableClass, Boolean deletionProtectionEnabled) {}

    public record ListTablesRequest(String exclusiveStartTableName, Integer limit) {}

    public record ListTablesResponse(List<String> tableNames, String lastEvaluatedTableName) {}

    public record TagResourceRequest(String resourceArn, List<Tag> tags) {}

    public record UntagResourceRequest(String resourceArn, List<String> tagKeys) {}

    public record ListTagsOfResourceRequest(String resourceArn, String nextToken) {}

    public record ListTagsOfResourceResponse(List<Tag> tags, String nextToken) {}

    public record PointInTimeRecoverySpecification(Boolean pointInTimeRecoveryEnabled, Integer recoveryPeriodInDays) {}

    public record UpdateContinuousBackupsRequest(String tableName,
                                                 PointInTimeRecoverySpecification pointInTimeRecoverySpecification) {}

    public record PointInTimeRecoveryDescription(String pointInTimeRecoveryStatus, Integer recoveryPeriodInDays,
                                                 Instant earliestRestorableDateTime, Instant latestRestorableDateTime) {}

    public record ContinuousBackupsDescription(String continuousBackupsStatus,
                                               PointInTimeRecoveryDescription pointInTimeRecoveryDescription) {}

    public record ContinuousBackupsResponse(ContinuousBackupsDescription continuousBackupsDescription) {}

    public record ConsumedCapacity(String tableName, Double capacityUnits) {}

    public record GetItemRequest(String tableName, Map<String, AttributeValue> key, List<String> attributesToGet,
                                 Boolean consistentRead, String returnConsumedCapacity, String projectionExpression,
                                 Map<String, String> expressionAttributeNames) {}

    public record GetItemResponse(Map<String, AttributeValue> item, ConsumedCapacity consumedCapacity) {}

    public record PutItemRequest(String tableName, Map<String, AttributeValue> item,
                                 Map<String, ExpectedAttributeValue> expected, String returnValues,
                                 String returnConsumedCapacity, String returnItemCollectionMetrics,
                                 String conditionalOperator, String conditionExpression,
                                 Map<String, String> expressionAttributeNames,
                                 Map<String, AttributeValue> expressionAttributeValues,
                                 String returnValuesOnConditionCheckFailure) {}

    public record UpdateItemRequest(String tableName, Map<String, AttributeValue> key,
                                    Map<String, AttributeValueUpdate> attributeUpdates,
                                    Map<String, ExpectedAttributeValue> expected, String conditionalOperator,
                                    String returnValues, String returnConsumedCapacity,
                                    String returnItemCollectionMetrics, String updateExpression,
                                    String conditionExpression, Map<String, String> expressionAttributeNames,
                                    Map<String, AttributeValue> expressionAttributeValues,
                                    String returnValuesOnConditionCheckFailure) {}

    public record DeleteItemRequest(String tableName, Map<String, AttributeValue> key,
                                    Map<String, ExpectedAttributeValue> expected, String conditionalOperator,
                                    String returnValues, String returnConsumedCapacity,
                                    String returnItemCollectionMetrics, String conditionExpression,
                                    Map<String, String> expressionAttributeNames,
                                    Map<String, AttributeValue> expressionAttributeValues,
                                    String returnValuesOnConditionCheckFailure) {}

    /** PutItem's, UpdateItem's and DeleteItem's answer. */
    public record WriteItemResponse(Map<String, AttributeValue> attributes, ConsumedCapacity consumedCapacity) {}

    public record ScanRequest(String tableName, String indexName, List<String> attributesToGet, Integer limit,
                              String select, Map<String, Condition> scanFilter, String conditionalOperator,
                              Map<String, AttributeValue> exclusiveStartKey, String returnConsumedCapacity,
                              Integer totalSegments, Integer segment, String projectionExpression,
                              String filterExpression, Map<String, String> expressionAttributeNames,
                              Map<String, AttributeValue> expressionAttributeValues, Boolean consistentRead) {}

    public record QueryRequest(String tableName, String indexName, String select, List<String> attributesToGet,
                               Integer limit, Boolean consistentRead, Map<String, Condition> keyConditions,
                               Map<String, Condition> queryFilter, String conditionalOperator,
                               Boolean scanIndexForward, Map<String, AttributeValue> exclusiveStartKey,
                               String returnConsumedCapacity, String projectionExpression, String filterExpression,
                               String keyConditionExpression, Map<String, String> expressionAttributeNames,
                               Map<String, AttributeValue> expressionAttributeValues) {}

    /** Scan's and Query's answer. */
    public record ItemsResponse(List<Map<String, AttributeValue>> items, Integer count, Integer scannedCount,
                                Map<String, AttributeValue> lastEvaluatedKey, ConsumedCapacity consumedCapacity) {}
}
