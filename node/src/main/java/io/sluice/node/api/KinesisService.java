package io.sluice.node.api;

import io.sluice.node.Futures;
import io.sluice.node.NodeSettings;
import io.sluice.node.auth.Authorizer;
import io.sluice.node.auth.Caller;
import io.sluice.node.kms.KeyRing;
import io.sluice.node.stream.StreamCrypto;
import io.sluice.node.shard.AppendBatcher;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardReader;
import io.sluice.node.shard.ShardReads;
import io.sluice.node.stream.StreamCatalog;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kinesis.HashKeys;
import io.sluice.protocol.kinesis.Kinesis.*;
import io.sluice.protocol.kinesis.SequenceNumber;
import io.sluice.protocol.kinesis.ShardIterator;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * The Kinesis operations: validates each request as AWS does, then asks the stream and shard
 * entities. Returns wire records from {@code protocol}; entity messages never leave this class.
 */
public final class KinesisService {
    static final Pattern STREAM_NAME = Pattern.compile("[a-zA-Z0-9_.-]+");
    static final Pattern STREAM_ARN = Pattern.compile("arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
    static final Pattern HASH_KEY = Pattern.compile("0|([1-9]\\d{0,38})");
    static final Pattern SEQUENCE_NUMBER = Pattern.compile("0|([1-9]\\d{0,128})");
    static final int MAX_RECORD_BYTES = 1 << 20;
    static final int MAX_PUT_RECORDS_BYTES = 5 << 20;
    static final int MAX_GET_RECORDS_BYTES = 10 << 20;
    static final List<String> ITERATOR_TYPES =
            List.of("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP");

    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final Clock clock;
    private final StreamDirectory streams;
    private final ShardReader reader;
    private final ActorRef<AppendBatcher.Command> batcher;
    private final byte[] iteratorSecret;
    private final KeyRing keys;
    private final StreamCrypto crypto;
    private final Authorizer authorizer;

    public KinesisService(ActorSystem<?> system, NodeSettings settings, Clock clock,
                          ActorRef<AppendBatcher.Command> batcher, ShardReader reader, byte[] iteratorSecret, KeyRing keys,
                          StreamCrypto crypto, Authorizer authorizer) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.clock = clock;
        this.streams = new StreamDirectory(system, settings);
        this.reader = reader;
        this.batcher = batcher;
        this.iteratorSecret = iteratorSecret.clone();
        this.keys = keys;
        this.crypto = crypto;
        this.authorizer = authorizer;
    }

    /** The operations by X-Amz-Target name, each with its request shape. */
    public Map<String, Operation<?>> operations() {
        Map<String, Operation<?>> ops = new LinkedHashMap<>();
        ops.put("CreateStream", new Operation<>(CreateStreamRequest.class, this::createStream));
        ops.put("DeleteStream", new Operation<>(DeleteStreamRequest.class, this::deleteStream));
        ops.put("DescribeStream", new Operation<>(DescribeStreamRequest.class, this::describeStream));
        ops.put("DescribeStreamSummary", new Operation<>(DescribeStreamSummaryRequest.class, this::describeStreamSummary));
        ops.put("ListStreams", new Operation<>(ListStreamsRequest.class, this::listStreams));
        ops.put("ListShards", new Operation<>(ListShardsRequest.class, this::listShards));
        ops.put("PutRecord", new Operation<>(PutRecordRequest.class, this::putRecord));
        ops.put("PutRecords", new Operation<>(PutRecordsRequest.class, this::putRecords));
        ops.put("GetShardIterator", new Operation<>(GetShardIteratorRequest.class, this::getShardIterator));
        ops.put("GetRecords", new Operation<>(GetRecordsRequest.class, this::getRecords));
        ops.put("IncreaseStreamRetentionPeriod", new Operation<>(RetentionPeriodRequest.class, (c, r) -> changeRetention(r, true)));
        ops.put("DecreaseStreamRetentionPeriod", new Operation<>(RetentionPeriodRequest.class, (c, r) -> changeRetention(r, false)));
        ops.put("AddTagsToStream", new Operation<>(AddTagsToStreamRequest.class, this::addTags));
        ops.put("RemoveTagsFromStream", new Operation<>(RemoveTagsFromStreamRequest.class, this::removeTags));
        ops.put("ListTagsForStream", new Operation<>(ListTagsForStreamRequest.class, this::listTags));
        ops.put("DescribeLimits", new Operation<>(Object.class, (c, r) -> describeLimits()));
        ops.put("StartStreamEncryption", new Operation<>(StreamEncryptionRequest.class, this::startEncryption));
        ops.put("StopStreamEncryption", new Operation<>(StreamEncryptionRequest.class, this::stopEncryption));
        Map<String, Operation<?>> guarded = new LinkedHashMap<>();
        ops.forEach((name, op) -> guarded.put(name, guarded(name, op)));
        return guarded;
    }

    /**
     * Every operation checks {@code kinesis:<Operation>} on the stream it names ("*" for account-wide
     * ones) before it runs; GetRecords checks on the stream its iterator names.
     */
    private <Q> Operation<Q> guarded(String name, Operation<Q> op) {
        if (name.equals("GetRecords")) {
            return op;
        }
        return new Operation<>(op.requestType(), (caller, request) -> {
            String resource = "*";
            if (request instanceof ListShardsRequest list && list.nextToken() != null && list.streamName() == null
                    && list.streamARN() == null) {
                String opened = PageToken.open(list.nextToken(), "shards", clock);
                resource = settings.streamArn(opened.substring(0, opened.lastIndexOf('|')));
            } else if (request instanceof StreamAddressed addressed
                    && (addressed.streamName() != null || addressed.streamARN() != null)) {
                resource = settings.streamArn(streamName(addressed));
            } else if (request instanceof CreateStreamRequest create && create.streamName() != null) {
                resource = settings.streamArn(create.streamName());
            }
            authorizer.require(caller, "kinesis:" + name, resource);
            return op.handler().handle(caller, request);
        });
    }

    private static final Map<String, Object> EMPTY = Map.of();

    // ---- stream lifecycle

    private CompletionStage<?> createStream(Caller caller, CreateStreamRequest r) {
        String mode = r.streamModeDetails() == null ? null : r.streamModeDetails().streamMode();
        new Validation()
                .required("streamName", r.streamName()).length("streamName", r.streamName(), 1, 128)
                .pattern("streamName", r.streamName(), STREAM_NAME)
                .range("shardCount", r.shardCount(), 1, 100_000)
                .oneOf("streamModeDetails.streamMode", mode, List.of("PROVISIONED", "ON_DEMAND"))
                .size("tags", r.tags(), 1, 200)
                .check();
        if (mode == null) {
            mode = r.shardCount() == null ? "ON_DEMAND" : "PROVISIONED";
        }
        if (mode.equals("PROVISIONED") && r.shardCount() == null) {
            throw AwsError.InvalidArgumentException.exception("ShardCount must be specified for streams in PROVISIONED mode.");
        }
        int shards = mode.equals("ON_DEMAND") ? settings.onDemandShards() : r.shardCount();
        String finalMode = mode;
        Map<String, String> tags = r.tags() == null ? Map.of() : r.tags();
        return openShardCount().thenCompose(open -> Futures.direct(stream(r.streamName())
                .<StreamInfo>askWithStatus(replyTo -> new StreamEntity.Create(shards, finalMode, tags, open, replyTo),
                        settings.askTimeout())))
                .handle((info, failure) -> {
                    streams.forget(r.streamName());
                    if (failure != null) throw ApiException.of(failure);
                    return EMPTY;
                });
    }

    private CompletionStage<?> deleteStream(Caller caller, DeleteStreamRequest r) {
        String name = streamName(r);
        return Futures.direct(stream(name).<Done>askWithStatus(StreamEntity.Delete::new, settings.askTimeout()))
                .handle((done, failure) -> {
                    streams.forget(name);
                    if (failure != null) throw ApiException.of(failure);
                    return EMPTY;
                });
    }

    private CompletionStage<?> describeStream(Caller caller, DescribeStreamRequest r) {
        String name = streamName(r);
        new Validation().range("limit", r.limit(), 1, 10_000)
                .length("exclusiveStartShardId", r.exclusiveStartShardId(), 1, 128)
                .pattern("exclusiveStartShardId", r.exclusiveStartShardId(), STREAM_NAME).check();
        int limit = r.limit() == null ? 100 : r.limit();
        return streams.describe(name).thenApply(info -> {
            List<Shard> all = shards(info);
            List<Shard> page = new ArrayList<>();
            boolean more = false;
            for (Shard s : all) {
                if (r.exclusiveStartShardId() != null && s.shardId().compareTo(r.exclusiveStartShardId()) <= 0) continue;
                if (page.size() == limit) {
                    more = true;
                    break;
                }
                page.add(s);
            }
            return new DescribeStreamResponse(new StreamDescription(info.name(), info.arn(), info.status(),
                    new StreamModeDetails(info.streamMode()), page, more, info.retentionHours(),
                    Instant.ofEpochMilli(info.createdAtMillis()), List.of(new EnhancedMetrics(List.of())),
                    info.encryptionType(), info.keyId()));
        });
    }

    private CompletionStage<?> describeStreamSummary(Caller caller, DescribeStreamSummaryRequest r) {
        return streams.describe(streamName(r)).thenApply(info -> new DescribeStreamSummaryResponse(
                new StreamDescriptionSummary(info.name(), info.arn(), info.status(),
                        new StreamModeDetails(info.streamMode()), info.retentionHours(),
                        Instant.ofEpochMilli(info.createdAtMillis()), List.of(new EnhancedMetrics(List.of())),
                        info.encryptionType(), info.keyId(), info.shards().size(), 0)));
    }

    private CompletionStage<?> listStreams(Caller caller, ListStreamsRequest r) {
        new Validation().range("limit", r.limit(), 1, 10_000)
                .length("exclusiveStartStreamName", r.exclusiveStartStreamName(), 1, 128)
                .pattern("exclusiveStartStreamName", r.exclusiveStartStreamName(), STREAM_NAME)
                .length("nextToken", r.nextToken(), 1, 1_048_576).check();
        String after = r.exclusiveStartStreamName();
        if (r.nextToken() != null) {
            after = PageToken.open(r.nextToken(), "streams", clock);
        }
        int limit = r.limit() == null ? 100 : r.limit();
        String start = after;
        return catalog().thenCompose(listing -> {
            List<String> names = new ArrayList<>();
            boolean more = false;
            for (String name : listing.keySet()) {
                if (start != null && name.compareTo(start) <= 0) continue;
                if (names.size() == limit) {
                    more = true;
                    break;
                }
                names.add(name);
            }
            List<CompletableFuture<StreamSummary>> summaries = new ArrayList<>();
            for (String name : names) {
                summaries.add(streams.get(name).thenApply(info -> new StreamSummary(info.name(), info.arn(), info.status(),
                        new StreamModeDetails(info.streamMode()), Instant.ofEpochMilli(info.createdAtMillis())))
                        .toCompletableFuture());
            }
            boolean hasMore = more;
            return CompletableFuture.allOf(summaries.toArray(CompletableFuture[]::new)).thenApply(v -> {
                List<StreamSummary> list = summaries.stream().map(CompletableFuture::join).toList();
                String token = hasMore ? PageToken.issue("streams", names.get(names.size() - 1), clock) : null;
                return new ListStreamsResponse(names, hasMore, token, list);
            });
        });
    }

    private CompletionStage<?> listShards(Caller caller, ListShardsRequest r) {
        new Validation().range("maxResults", r.maxResults(), 1, 10_000)
                .length("exclusiveStartShardId", r.exclusiveStartShardId(), 1, 128)
                .length("nextToken", r.nextToken(), 1, 1_048_576).check();
        String name;
        String after = r.exclusiveStartShardId();
        if (r.nextToken() != null) {
            if (r.streamName() != null || r.streamARN() != null) {
                throw AwsError.InvalidArgumentException.exception("NextToken and StreamName cannot be provided together.");
            }
            String opened = PageToken.open(r.nextToken(), "shards", clock);
            int bar = opened.lastIndexOf('|');
            name = opened.substring(0, bar);
            after = opened.substring(bar + 1);
        } else {
            name = streamName(r);
        }
        if (r.shardFilter() != null && r.shardFilter().type() != null && r.shardFilter().type().equals("AFTER_SHARD_ID")) {
            if (r.shardFilter().shardId() == null) {
                throw AwsError.InvalidArgumentException.exception("ShardId must be provided for the AFTER_SHARD_ID ShardFilter.");
            }
            after = r.shardFilter().shardId();
        }
        int limit = r.maxResults() == null ? 1000 : r.maxResults();
        String start = after;
        return streams.describe(name).thenApply(info -> {
            List<Shard> page = new ArrayList<>();
            boolean more = false;
            for (Shard s : shards(info)) {
                if (start != null && s.shardId().compareTo(start) <= 0) continue;
                if (page.size() == limit) {
                    more = true;
                    break;
                }
                page.add(s);
            }
            String token = more ? PageToken.issue("shards", name + "|" + page.get(page.size() - 1).shardId(), clock) : null;
            return new ListShardsResponse(page, token);
        });
    }

    private CompletionStage<?> changeRetention(RetentionPeriodRequest r, boolean increase) {
        String name = streamName(r);
        new Validation().required("retentionPeriodHours", r.retentionPeriodHours()).check();
        int hours = r.retentionPeriodHours();
        if (hours < 24) {
            throw AwsError.InvalidArgumentException.exception("Minimum allowed retention period is 24 hours. Requested retention period ("
                    + hours + " hours) is too short.");
        }
        if (hours > 8760) {
            throw AwsError.InvalidArgumentException.exception("Maximum allowed retention period is 8760 hours. Requested retention period ("
                    + hours + " hours) is too long.");
        }
        return Futures.direct(stream(name).<Done>askWithStatus(replyTo -> new StreamEntity.ChangeRetention(hours, increase, replyTo),
                settings.askTimeout())).handle((d, failure) -> {
            streams.forget(name);
            if (failure != null) throw ApiException.of(failure);
            return EMPTY;
        });
    }

    // ---- server-side encryption

    private CompletionStage<?> startEncryption(Caller caller, StreamEncryptionRequest r) {
        String name = streamName(r);
        validateEncryption(r);
        return keys.keyIdOf(r.keyId())
                .thenCompose(keys::view)
                .exceptionally(f -> {
                    ApiException api = ApiException.of(f);
                    if (api.error() == AwsError.NotFoundException) {
                        throw AwsError.KMSNotFoundException.exception("Could not find KMS key " + r.keyId() + ".");
                    }
                    throw api;
                })
                .thenCompose(key -> {
                    if (key.keyState().equals("Disabled")) {
                        throw AwsError.KMSDisabledException.exception("The KMS key " + key.arn() + " is disabled.");
                    }
                    if (key.keyState().equals("PendingDeletion")) {
                        throw AwsError.KMSInvalidStateException.exception("The KMS key " + key.arn() + " is pending deletion.");
                    }
                    return Futures.direct(stream(name).<Done>askWithStatus(replyTo -> new StreamEntity.StartEncryption(r.keyId(), key.keyId(), replyTo),
                            settings.askTimeout()));
                })
                .handle((d, f) -> {
                    streams.forget(name);
                    if (f != null) throw ApiException.of(f);
                    return EMPTY;
                });
    }

    private CompletionStage<?> stopEncryption(Caller caller, StreamEncryptionRequest r) {
        String name = streamName(r);
        validateEncryption(r);
        return Futures.direct(stream(name).<Done>askWithStatus(StreamEntity.StopEncryption::new, settings.askTimeout()))
                .handle((d, f) -> {
                    streams.forget(name);
                    if (f != null) throw ApiException.of(f);
                    return EMPTY;
                });
    }

    private static void validateEncryption(StreamEncryptionRequest r) {
        new Validation().required("encryptionType", r.encryptionType())
                .oneOf("encryptionType", r.encryptionType(), List.of("NONE", "KMS"))
                .required("keyId", r.keyId()).length("keyId", r.keyId(), 1, 2048).check();
        if (!r.encryptionType().equals("KMS")) {
            throw AwsError.InvalidArgumentException.exception("Encryption type must be KMS.");
        }
    }

    // ---- tags

    private CompletionStage<?> addTags(Caller caller, AddTagsToStreamRequest r) {
        String name = streamName(r);
        new Validation().required("tags", r.tags()).size("tags", r.tags(), 1, 200).check();
        validateTags(r.tags());
        return Futures.direct(stream(name).<Done>askWithStatus(replyTo -> new StreamEntity.AddTags(r.tags(), replyTo), settings.askTimeout()))
                .handle((d, failure) -> {
                    if (failure != null) throw ApiException.of(failure);
                    return EMPTY;
                });
    }

    private static void validateTags(Map<String, String> tags) {
        Validation v = new Validation();
        tags.forEach((k, val) -> v.length("tags", k, 1, 128).required("tags", val).length("tags", val, 0, 256));
        v.check();
    }

    private CompletionStage<?> removeTags(Caller caller, RemoveTagsFromStreamRequest r) {
        String name = streamName(r);
        new Validation().required("tagKeys", r.tagKeys()).size("tagKeys", r.tagKeys(), 1, 50).check();
        return Futures.direct(stream(name).<Done>askWithStatus(replyTo -> new StreamEntity.RemoveTags(r.tagKeys(), replyTo), settings.askTimeout()))
                .handle((d, failure) -> {
                    if (failure != null) throw ApiException.of(failure);
                    return EMPTY;
                });
    }

    private CompletionStage<?> listTags(Caller caller, ListTagsForStreamRequest r) {
        String name = streamName(r);
        new Validation().range("limit", r.limit(), 1, 50).length("exclusiveStartTagKey", r.exclusiveStartTagKey(), 1, 128).check();
        int limit = r.limit() == null ? 50 : r.limit();
        return streams.describe(name).thenApply(info -> {
            List<Tag> tags = new ArrayList<>();
            boolean more = false;
            for (Map.Entry<String, String> t : info.tags().entrySet()) {
                if (r.exclusiveStartTagKey() != null && t.getKey().compareTo(r.exclusiveStartTagKey()) <= 0) continue;
                if (tags.size() == limit) {
                    more = true;
                    break;
                }
                tags.add(new Tag(t.getKey(), t.getValue()));
            }
            return new ListTagsForStreamResponse(tags, more);
        });
    }

    private CompletionStage<?> describeLimits() {
        return allStreams().thenApply(infos -> {
            int open = infos.stream().mapToInt(i -> i.shards().size()).sum();
            int onDemand = (int) infos.stream().filter(i -> i.streamMode().equals("ON_DEMAND")).count();
            return new DescribeLimitsResponse(settings.shardLimit(), open, onDemand, settings.onDemandStreamLimit());
        });
    }

    // ---- data plane

    private CompletionStage<?> putRecord(Caller caller, PutRecordRequest r) {
        String name = streamName(r);
        new Validation().required("data", r.data()).bytes("data", r.data(), MAX_RECORD_BYTES)
                .required("partitionKey", r.partitionKey()).length("partitionKey", r.partitionKey(), 1, 256)
                .pattern("explicitHashKey", r.explicitHashKey(), HASH_KEY)
                .pattern("sequenceNumberForOrdering", r.sequenceNumberForOrdering(), SEQUENCE_NUMBER)
                .check();
        checkRecordSize(r.data(), r.partitionKey());
        return streams.get(name).thenCompose(info -> {
            requireActive(info);
            StreamEntity.ShardRange shard = shardFor(info, r.partitionKey(), r.explicitHashKey());
            return sealed(info, caller, List.of(ShardEntity.StoredRecord.plain(r.partitionKey(), r.data())))
                    .thenCompose(sealed -> append(info, shard, sealed.records(), sealed.dataKeys()))
                    .thenApply(landed -> new PutRecordResponse(shard.shardId(),
                            new SequenceNumber(shard.index(), landed.eventSeqNr(), landed.firstIndex()).toString(),
                            encryptionType(info)));
        });
    }

    private CompletionStage<?> putRecords(Caller caller, PutRecordsRequest r) {
        String name = streamName(r);
        Validation v = new Validation().required("records", r.records()).size("records", r.records(), 1, 500);
        v.check();
        long total = 0;
        for (int i = 0; i < r.records().size(); i++) {
            PutRecordsRequestEntry e = r.records().get(i);
            String at = "records." + (i + 1) + ".member.";
            v.required(at + "data", e.data()).bytes(at + "data", e.data(), MAX_RECORD_BYTES)
                    .required(at + "partitionKey", e.partitionKey()).length(at + "partitionKey", e.partitionKey(), 1, 256)
                    .pattern(at + "explicitHashKey", e.explicitHashKey(), HASH_KEY);
            total += (e.data() == null ? 0 : e.data().length) + (e.partitionKey() == null ? 0 : e.partitionKey().length());
        }
        v.check();
        for (PutRecordsRequestEntry e : r.records()) {
            checkRecordSize(e.data(), e.partitionKey());
        }
        if (total > MAX_PUT_RECORDS_BYTES) {
            throw AwsError.InvalidArgumentException.exception("Records size exceeds 5 MB limit");
        }
        return streams.get(name).thenCompose(info -> {
            requireActive(info);
            // group the entries by shard, keeping each shard's entries in request order
            Map<Integer, List<Integer>> byShard = new LinkedHashMap<>();
            List<StreamEntity.ShardRange> shardOf = new ArrayList<>();
            for (int i = 0; i < r.records().size(); i++) {
                PutRecordsRequestEntry e = r.records().get(i);
                StreamEntity.ShardRange shard = shardFor(info, e.partitionKey(), e.explicitHashKey());
                shardOf.add(shard);
                byShard.computeIfAbsent(shard.index(), k -> new ArrayList<>()).add(i);
            }
            PutRecordsResultEntry[] results = new PutRecordsResultEntry[r.records().size()];
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (Map.Entry<Integer, List<Integer>> group : byShard.entrySet()) {
                List<Integer> indexes = group.getValue();
                StreamEntity.ShardRange shard = shardOf.get(indexes.get(0));
                List<ShardEntity.StoredRecord> records = new ArrayList<>(indexes.size());
                for (int i : indexes) {
                    PutRecordsRequestEntry e = r.records().get(i);
                    records.add(ShardEntity.StoredRecord.plain(e.partitionKey(), e.data()));
                }
                writes.add(sealed(info, caller, records)
                        .thenCompose(sealed -> append(info, shard, sealed.records(), sealed.dataKeys()))
                        .handle((landed, failure) -> {
                    for (int k = 0; k < indexes.size(); k++) {
                        if (failure == null) {
                            results[indexes.get(k)] = new PutRecordsResultEntry(new SequenceNumber(shard.index(),
                                    landed.eventSeqNr(), landed.firstIndex() + k).toString(), shard.shardId(), null, null);
                        } else {
                            ApiException api = ApiException.of(failure);
                            String code = api.error() == AwsError.ProvisionedThroughputExceededException
                                    ? api.error().wireName() : "InternalFailure";
                            results[indexes.get(k)] = new PutRecordsResultEntry(null, null, code, api.getMessage());
                        }
                    }
                    return (Void) null;
                }).toCompletableFuture());
            }
            return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).thenApply(x -> {
                int failed = 0;
                for (PutRecordsResultEntry e : results) if (e.errorCode() != null) failed++;
                return new PutRecordsResponse(failed, List.of(results), encryptionType(info));
            });
        });
    }

    private static void checkRecordSize(byte[] data, String partitionKey) {
        if (data.length + partitionKey.getBytes(StandardCharsets.UTF_8).length > MAX_RECORD_BYTES) {
            throw AwsError.InvalidArgumentException.exception("Record size (data + partition key) exceeds the maximum record size of 1024 KiB");
        }
    }

    /** Records as they will be stored: sealed with a data key for encrypted streams, as given otherwise. */
    private CompletionStage<StreamCrypto.Sealed> sealed(StreamInfo info, Caller caller, List<ShardEntity.StoredRecord> records) {
        if (!"KMS".equals(info.encryptionType())) {
            return CompletableFuture.completedFuture(new StreamCrypto.Sealed(records, List.of()));
        }
        return crypto.seal(info, caller, records);
    }

    private static String encryptionType(StreamInfo info) {
        return "KMS".equals(info.encryptionType()) ? "KMS" : null;
    }

    private CompletionStage<AppendBatcher.Landed> append(StreamInfo info, StreamEntity.ShardRange shard,
                                                         List<ShardEntity.StoredRecord> records, List<byte[]> dataKeys) {
        String entityId = ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index());
        return Futures.direct(AskPattern.<AppendBatcher.Command, StatusReply<AppendBatcher.Landed>>ask(batcher,
                        replyTo -> new AppendBatcher.Enqueue(entityId, info.name(), shard.index(), records, dataKeys, replyTo),
                        settings.askTimeout().plus(settings.askTimeout()), system.scheduler()))
                .thenApply(reply -> {
                    if (reply.isError()) throw ApiException.of(reply.getError());
                    return reply.getValue();
                });
    }

    private CompletionStage<?> getShardIterator(Caller caller, GetShardIteratorRequest r) {
        String name = streamName(r);
        new Validation().required("shardId", r.shardId()).length("shardId", r.shardId(), 1, 128)
                .pattern("shardId", r.shardId(), STREAM_NAME)
                .required("shardIteratorType", r.shardIteratorType())
                .oneOf("shardIteratorType", r.shardIteratorType(), ITERATOR_TYPES)
                .pattern("startingSequenceNumber", r.startingSequenceNumber(), SEQUENCE_NUMBER)
                .check();
        return streams.get(name).thenCompose(info -> {
            StreamEntity.ShardRange shard = shardById(info, r.shardId());
            String type = r.shardIteratorType();
            long now = clock.millis();
            switch (type) {
                case "TRIM_HORIZON":
                    return done(iterator(info, new SequenceNumber(shard.index(), 1, 0), 0, now));
                case "AT_SEQUENCE_NUMBER":
                case "AFTER_SEQUENCE_NUMBER": {
                    if (r.startingSequenceNumber() == null) {
                        throw AwsError.InvalidArgumentException.exception(
                                "StartingSequenceNumber must be provided for ShardIteratorType " + type + ".");
                    }
                    SequenceNumber seq = SequenceNumber.parse(r.startingSequenceNumber(), "StartingSequenceNumber");
                    if (seq.shardIndex() != shard.index()) {
                        throw AwsError.InvalidArgumentException.exception("Invalid StartingSequenceNumber. It encodes "
                                + HashKeys.shardId(seq.shardIndex()) + ", while it was used in a call to a shard with "
                                + shard.shardId());
                    }
                    SequenceNumber at = type.equals("AT_SEQUENCE_NUMBER") ? seq : seq.next();
                    if (at.eventSeqNr() == 0) at = new SequenceNumber(shard.index(), 1, 0);
                    return done(iterator(info, at, 0, now));
                }
                case "AT_TIMESTAMP": {
                    if (r.timestamp() == null) {
                        throw AwsError.InvalidArgumentException.exception(
                                "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.");
                    }
                    return done(iterator(info, new SequenceNumber(shard.index(), 1, 0), r.timestamp().toEpochMilli(), now));
                }
                default: // LATEST
                    return Futures.direct(shardRef(info, shard).<ShardEntity.TipInfo>ask(ShardEntity.Tip::new, settings.askTimeout()))
                            .thenApply(tip -> iterator(info, new SequenceNumber(shard.index(), tip.lastEventSeqNr() + 1, 0), 0, now));
            }
        });
    }

    private GetShardIteratorResponse iterator(StreamInfo info, SequenceNumber at, long minArrival, long now) {
        return new GetShardIteratorResponse(new ShardIterator(info.name(), info.createdAtMillis(), at, minArrival, now)
                .encode(iteratorSecret));
    }

    private CompletionStage<?> getRecords(Caller caller, GetRecordsRequest r) {
        new Validation().required("shardIterator", r.shardIterator()).length("shardIterator", r.shardIterator(), 1, 512)
                .range("limit", r.limit(), 1, 10_000).check();
        long now = clock.millis();
        ShardIterator it = ShardIterator.decode(r.shardIterator(), iteratorSecret, now);
        authorizer.require(caller, "kinesis:GetRecords", settings.streamArn(it.streamName()));
        int limit = r.limit() == null ? 10_000 : r.limit();
        return streams.get(it.streamName()).thenCompose(info -> {
            if (info.createdAtMillis() != it.streamCreatedAt() || info.status().equals("DELETING")) {
                throw AwsError.ResourceNotFoundException.exception("Stream " + it.streamName() + " under account "
                        + settings.accountId() + " not found.");
            }
            StreamEntity.ShardRange shard = info.shards().stream().filter(s -> s.index() == it.position().shardIndex())
                    .findFirst().orElseThrow(() -> AwsError.InvalidArgumentException.exception("Invalid ShardIterator."));
            long retentionCutoff = now - info.retentionHours() * 3_600_000L;
            long minArrival = Math.max(it.minArrivalMillis(), retentionCutoff);
            SequenceNumber from = it.position();
            String entityId = ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index());
            return reader.read(shardRef(info, shard), entityId, from.eventSeqNr(), from.indexInEvent(), limit,
                            MAX_GET_RECORDS_BYTES, minArrival)
                    .thenCompose(read -> crypto.open(info, caller, read.records())
                            .thenApply(plaintexts -> records(it, shard, read, plaintexts, now)));
        });
    }

    private GetRecordsResponse records(ShardIterator it, StreamEntity.ShardRange shard, ShardReader.Outcome read,
                                       List<byte[]> plaintexts, long now) {
        List<ShardReads.ReadRecord> found = read.records();
        List<io.sluice.protocol.kinesis.Kinesis.Record> records = new ArrayList<>(found.size());
        for (int i = 0; i < found.size(); i++) {
            ShardReads.ReadRecord rr = found.get(i);
            records.add(new io.sluice.protocol.kinesis.Kinesis.Record(
                    new SequenceNumber(shard.index(), rr.eventSeqNr(), rr.index()).toString(),
                    Instant.ofEpochMilli(rr.arrivalMillis()), plaintexts.get(i), rr.partitionKey(),
                    rr.wrappedKey() != null ? "KMS" : null));
        }
        SequenceNumber next = new SequenceNumber(shard.index(), Math.max(read.nextEventSeqNr(), 1), read.nextIndex());
        return new GetRecordsResponse(records, it.at(next, now).encode(iteratorSecret), read.millisBehindLatest(), null);
    }

    // ---- helpers

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<StreamEntity.Command> stream(String name) {
        return sharding.entityRefFor(StreamEntity.ENTITY_KEY, name);
    }

    private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<ShardEntity.Command> shardRef(
            StreamInfo info, StreamEntity.ShardRange shard) {
        return sharding.entityRefFor(ShardEntity.ENTITY_KEY,
                ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index()));
    }

    private CompletionStage<java.util.SortedMap<String, Long>> catalog() {
        return Futures.direct(StreamCatalog.ref(system, settings.accountId())
                .<StreamCatalog.Listing>ask(StreamCatalog.ListAll::new, settings.askTimeout()))
                .thenApply(StreamCatalog.Listing::streams);
    }

    private CompletionStage<Integer> openShardCount() {
        return allStreams().thenApply(infos -> infos.stream().mapToInt(i -> i.shards().size()).sum());
    }

    /** Every catalogued stream that can be described now (one deleted meanwhile is left out, not an error). */
    private CompletionStage<List<StreamInfo>> allStreams() {
        return catalog().thenCompose(listing -> {
            List<CompletableFuture<StreamInfo>> infos = listing.keySet().stream()
                    .map(n -> streams.get(n).toCompletableFuture()).toList();
            return CompletableFuture.allOf(infos.toArray(CompletableFuture[]::new))
                    .handle((v, failure) -> infos.stream().filter(f -> !f.isCompletedExceptionally())
                            .map(CompletableFuture::join).toList());
        });
    }

    /** The stream a request names, by StreamName or StreamARN (which must be of this region and account). */
    String streamName(StreamAddressed r) {
        Validation v = new Validation().length("streamName", r.streamName(), 1, 128)
                .pattern("streamName", r.streamName(), STREAM_NAME)
                .length("streamARN", r.streamARN(), 1, 2048).pattern("streamARN", r.streamARN(), STREAM_ARN);
        v.check();
        if (r.streamName() != null) {
            return r.streamName();
        }
        if (r.streamARN() == null) {
            throw AwsError.ValidationException.exception("Either StreamName or StreamARN should be provided.");
        }
        String arn = r.streamARN();
        String prefix = "arn:aws:kinesis:" + settings.region() + ":" + settings.accountId() + ":stream/";
        if (!arn.startsWith(prefix)) {
            throw AwsError.ResourceNotFoundException.exception("Stream " + arn + " not found.");
        }
        return arn.substring(prefix.length());
    }

    private void requireActive(StreamInfo info) {
        if (!info.acceptsData()) {
            throw AwsError.ResourceNotFoundException.exception("Stream " + info.name() + " under account "
                    + settings.accountId() + " not found.");
        }
    }

    private static StreamEntity.ShardRange shardFor(StreamInfo info, String partitionKey, String explicitHashKey) {
        BigInteger key;
        if (explicitHashKey != null) {
            key = new BigInteger(explicitHashKey);
            if (key.compareTo(HashKeys.MAX) > 0) {
                throw AwsError.InvalidArgumentException.exception("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "
                        + explicitHashKey);
            }
        } else {
            key = HashKeys.ofPartitionKey(partitionKey);
        }
        // streams are split evenly (no resharding yet), so the shard follows from the key by division
        // (HashKeysTest proves the division agrees with the ranges StreamEntity hands out)
        return info.shards().get(HashKeys.evenRangeIndex(key, info.shards().size()));
    }

    private StreamEntity.ShardRange shardById(StreamInfo info, String shardId) {
        int index = HashKeys.shardIndex(shardId);
        return info.shards().stream().filter(s -> s.index() == index).findFirst()
                .orElseThrow(() -> AwsError.ResourceNotFoundException.exception("Shard " + shardId + " in stream "
                        + info.name() + " under account " + settings.accountId() + " does not exist"));
    }

    private static List<Shard> shards(StreamInfo info) {
        List<Shard> out = new ArrayList<>(info.shards().size());
        for (StreamEntity.ShardRange s : info.shards()) {
            out.add(new Shard(s.shardId(), null, null, new HashKeyRange(s.startingHashKey(), s.endingHashKey()),
                    new SequenceNumberRange(SequenceNumber.start(s.index()).toString(), null)));
        }
        return out;
    }

    /** Opaque paging tokens: what the next page starts after, valid for 5 minutes like AWS's. */
    static final class PageToken {
        private static final long TTL_MILLIS = 300_000;

        static String issue(String kind, String after, Clock clock) {
            String raw = kind + "\n" + clock.millis() + "\n" + after;
            return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
        }

        static String open(String token, String kind, Clock clock) {
            String[] parts;
            try {
                parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\n", 3);
            } catch (IllegalArgumentException e) {
                throw AwsError.InvalidArgumentException.exception("Invalid NextToken.");
            }
            if (parts.length != 3 || !parts[0].equals(kind) || !parts[1].matches("\\d{1,19}")) {
                throw AwsError.InvalidArgumentException.exception("Invalid NextToken.");
            }
            if (clock.millis() - Long.parseLong(parts[1]) > TTL_MILLIS) {
                throw AwsError.ExpiredNextTokenException.exception("The token has expired.");
            }
            return parts[2];
        }
    }
}
