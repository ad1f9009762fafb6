package io.sluice.protocol.kinesis;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Request and response shapes of the Kinesis Data Streams operations Sluice serves, named and
 * nested as in the AWS API model (kinesis 2013-12-02). Fields are the model's members in camel case;
 * the codec writes them in the model's Pascal case and leaves out absent ones.
 */
public final class Kinesis {
    private Kinesis() {}

    // ---- shared structures

    public record StreamModeDetails(String streamMode) {}

    public record HashKeyRange(String startingHashKey, String endingHashKey) {}

    public record SequenceNumberRange(String startingSequenceNumber, String endingSequenceNumber) {}

    public record Shard(String shardId, String parentShardId, String adjacentParentShardId,
                        HashKeyRange hashKeyRange, SequenceNumberRange sequenceNumberRange) {}

    public record EnhancedMetrics(List<String> shardLevelMetrics) {}

    public record Tag(String key, String value) {}

    public record Record(String sequenceNumber, Instant approximateArrivalTimestamp, byte[] data,
                         String partitionKey, String encryptionType) {}

    public record ShardFilter(String type, String shardId, Instant timestamp) {}

    /** A shard a closed shard's records continue in: listed by GetRecords at the parent's end. */
    public record ChildShard(String shardId, List<String> parentShards, HashKeyRange hashKeyRange) {}

    public record StreamSummary(String streamName, String streamARN, String streamStatus,
                                StreamModeDetails streamModeDetails, Instant streamCreationTimestamp) {}

    /** Members every stream-addressed request has: a name or an ARN. */
    public interface StreamAddressed {
        String streamName();

        String streamARN();
    }

    // ---- stream lifecycle

    public record CreateStreamRequest(String streamName, Integer shardCount, StreamModeDetails streamModeDetails,
                                      Map<String, String> tags) {}

    public record DeleteStreamRequest(String streamName, String streamARN, Boolean enforceConsumerDeletion)
            implements StreamAddressed {}

    public record DescribeStreamRequest(String streamName, String streamARN, Integer limit, String exclusiveStartShardId)
            implements StreamAddressed {}

    public record StreamDescription(String streamName, String streamARN, String streamStatus,
                                    StreamModeDetails streamModeDetails, List<Shard> shards, Boolean hasMoreShards,
                                    Integer retentionPeriodHours, Instant streamCreationTimestamp,
                                    List<EnhancedMetrics> enhancedMonitoring, String encryptionType,
                                    @JsonInclude(JsonInclude.Include.ALWAYS) String keyId) {}

    public record DescribeStreamResponse(StreamDescription streamDescription) {}

    public record DescribeStreamSummaryRequest(String streamName, String streamARN) implements StreamAddressed {}

    public record StreamDescriptionSummary(String streamName, String streamARN, String streamStatus,
                                           StreamModeDetails streamModeDetails, Integer retentionPeriodHours,
                                           Instant streamCreationTimestamp, List<EnhancedMetrics> enhancedMonitoring,
                                           String encryptionType,
                                           @JsonInclude(JsonInclude.Include.ALWAYS) String keyId,
                                           Integer openShardCount, Integer consumerCount) {}

    public record DescribeStreamSummaryResponse(StreamDescriptionSummary streamDescriptionSummary) {}

    public record ListStreamsRequest(Integer limit, String exclusiveStartStreamName, String nextToken) {}

    public record ListStreamsResponse(List<String> streamNames, Boolean hasMoreStreams, String nextToken,
                                      List<StreamSummary> streamSummaries) {}

    public record ListShardsRequest(String streamName, String streamARN, String nextToken, String exclusiveStartShardId,
                                    Integer maxResults, Instant streamCreationTimestamp, ShardFilter shardFilter)
            implements StreamAddressed {}

    public record ListShardsResponse(List<Shard> shards, String nextToken) {}

    public record RetentionPeriodRequest(String streamName, String streamARN, Integer retentionPeriodHours)
            implements StreamAddressed {}

    public record StreamEncryptionRequest(String streamName, String streamARN, String encryptionType, String keyId)
            implements StreamAddressed {}

    // ---- tags

    public record AddTagsToStreamRequest(String streamName, String streamARN, Map<String, String> tags)
            implements StreamAddressed {}

    public record RemoveTagsFromStreamRequest(String streamName, String streamARN, List<String> tagKeys)
            implements StreamAddressed {}

    public record ListTagsForStreamRequest(String streamName, String streamARN, String exclusiveStartTagKey,
                                           Integer limit) implements StreamAddressed {}

    public record ListTagsForStreamResponse(List<Tag> tags, Boolean hasMoreTags) {}

    // ---- data plane

    public record PutRecordRequest(String streamName, String streamARN, byte[] data, String partitionKey,
                                   String explicitHashKey, String sequenceNumberForOrdering)
            implements StreamAddressed {}

    public record PutRecordResponse(String shardId, String sequenceNumber, String encryptionType) {}

    public record PutRecordsRequestEntry(byte[] data, String explicitHashKey, String partitionKey) {}

    public record PutRecordsRequest(String streamName, String streamARN, List<PutRecordsRequestEntry> records)
            implements StreamAddressed {}

    public record PutRecordsResultEntry(String sequenceNumber, String shardId, String errorCode, String errorMessage) {}

    public record PutRecordsResponse(Integer failedRecordCount, List<PutRecordsResultEntry> records,
                                     String encryptionType) {}

    public record GetShardIteratorRequest(String streamName, String streamARN, String shardId,
                                          String shardIteratorType, String startingSequenceNumber, Instant timestamp)
            implements StreamAddressed {}

    public record GetShardIteratorResponse(String shardIterator) {}

    public record GetRecordsRequest(String shardIterator, Integer limit, String streamARN) {}

    public record GetRecordsResponse(List<Record> records, String nextShardIterator, Long millisBehindLatest,
                                     List<ChildShard> childShards) {}

    // ---- resharding

    public record SplitShardRequest(String streamName, String streamARN, String shardToSplit, String newStartingHashKey)
            implements StreamAddressed {}

    public record MergeShardsRequest(String streamName, String streamARN, String shardToMerge, String adjacentShardToMerge)
            implements StreamAddressed {}

    public record UpdateShardCountRequest(String streamName, String streamARN, Integer targetShardCount, String scalingType)
            implements StreamAddressed {}

    public record UpdateShardCountResponse(String streamName, Integer currentShardCount, Integer targetShardCount,
                                           String streamARN) {}

    public record UpdateStreamModeRequest(String streamARN, StreamModeDetails streamModeDetails) implements StreamAddressed {
        @Override
        public String streamName() {
            return null;
        }
    }

    // ---- enhanced fan-out consumers

    public record Consumer(String consumerName, String consumerARN, String consumerStatus,
                           Instant consumerCreationTimestamp) {}

    public record ConsumerDescription(String consumerName, String consumerARN, String consumerStatus,
                                      Instant consumerCreationTimestamp, String streamARN) {}

    /**
     * Members of the requests that name one consumer: its ARN, or the stream's ARN and the consumer's
     * name, or all three as long as they agree.
     */
    public interface ConsumerAddressed {
        String streamARN();

        String consumerName();

        String consumerARN();

        String streamId();
    }

    public record RegisterStreamConsumerRequest(String streamARN, String consumerName, String streamId,
                                                Map<String, String> tags) implements StreamAddressed {
        @Override
        public String streamName() {
            return null;
        }
    }

    public record RegisterStreamConsumerResponse(Consumer consumer) {}

    public record DescribeStreamConsumerRequest(String streamARN, String consumerName, String consumerARN, String streamId)
            implements ConsumerAddressed {}

    public record DescribeStreamConsumerResponse(ConsumerDescription consumerDescription) {}

    public record ListStreamConsumersRequest(String streamARN, String nextToken, Integer maxResults,
                                             Instant streamCreationTimestamp, String streamId) implements StreamAddressed {
        @Override
        public String streamName() {
            return null;
        }
    }

    public record ListStreamConsumersResponse(List<Consumer> consumers, String nextToken) {}

    public record DeregisterStreamConsumerRequest(String streamARN, String consumerName, String consumerARN, String streamId)
            implements ConsumerAddressed {}

    // ---- account

    public record DescribeLimitsResponse(Integer shardLimit, Integer openShardCount, Integer onDemandStreamCount,
                                         Integer onDemandStreamCountLimit) {}

    // ---- enhanced fan-out: SubscribeToShard (its answer is an event stream, see EventStream)

    public record StartingPosition(String type, String sequenceNumber, Instant timestamp) {}

    public record SubscribeToShardRequest(String consumerARN, String streamId, String shardId,
                                          StartingPosition startingPosition) {}

    /** One event of a subscription; {@code childShards} only at the end of a closed shard, with no continuation. */
    public record SubscribeToShardEvent(List<Record> records, String continuationSequenceNumber, Long millisBehindLatest,
                                        List<ChildShard> childShards) {}
}
