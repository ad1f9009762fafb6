package io.sluice.node.api;

import io.sluice.node.runtime.Futures;
import io.sluice.node.runtime.NodeSettings;
import io.sluice.node.auth.Caller;
import io.sluice.node.shard.AppendBatcher;
import io.sluice.node.shard.ShardEntity;
import io.sluice.node.shard.ShardReader;
import io.sluice.node.shard.ShardReads;
import io.sluice.node.stream.StreamCrypto;
import io.sluice.node.stream.StreamDirectory;
import io.sluice.node.stream.StreamEntity;
import io.sluice.node.stream.StreamEntity.StreamInfo;
import io.sluice.node.traffic.TrafficCounters;
import io.sluice.protocol.ApiException;
import io.sluice.protocol.AwsError;
import io.sluice.protocol.Validation;
import io.sluice.protocol.kinesis.HashKeys;
import io.sluice.protocol.kinesis.Kinesis.*;
import io.sluice.protocol.kinesis.KinesisLimits;
import io.sluice.protocol.kinesis.SequenceNumber;
import io.sluice.protocol.kinesis.ShardIterator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static io.sluice.node.api.Service.KINESIS;

/**
 * Kinesis records: PutRecord and PutRecords (route by hash key, seal for encrypted streams, group
 * commit through the {@link AppendBatcher}), GetShardIterator and GetRecords (through the node's
 * {@link ShardReader}, opened for the caller). Stream administration is {@link KinesisStreams}.
 * Acknowledged puts and answered reads are counted in the node's {@link TrafficCounters}.
 */
public final class KinesisRecords {
    private final ActorSystem<?> system;
    private final ClusterSharding sharding;
    private final NodeSettings settings;
    private final Clock clock;
    private final StreamDirectory streams;
    private final ShardReader reader;
    private final ActorRef<AppendBatcher.Command> batcher;
    private final byte[] iteratorSecret;
    private final StreamCrypto crypto;
    private final TrafficCounters traffic;

    public KinesisRecords(ActorSystem<?> system, NodeSettings settings, Clock clock, StreamDirectory streams,
                          ActorRef<AppendBatcher.Command> batcher, ShardReader reader, byte[] iteratorSecret,
                          StreamCrypto crypto, TrafficCounters traffic) {
        this.system = system;
        this.sharding = ClusterSharding.get(system);
        this.settings = settings;
        this.clock = clock;
        this.streams = streams;
        this.reader = reader;
        this.batcher = batcher;
        this.iteratorSecret = iteratorSecret.clone();
        this.crypto = crypto;
        this.traffic = traffic;
    }

    public List<Operation<?>> operations() {
        return List.of(
                Operation.of(KINESIS, "PutRecord", PutRecordRequest.class, (c, r) -> streams.resourceOf(r), this::putRecord),
                Operation.of(KINESIS, "PutRecords", PutRecordsRequest.class, (c, r) -> streams.resourceOf(r), this::putRecords),
                Operation.of(KINESIS, "GetShardIterator", GetShardIteratorRequest.class, (c, r) -> streams.resourceOf(r),
                        this::getShardIterator),
                Operation.of(KINESIS, "GetRecords", GetRecordsRequest.class, this::iteratorResource, this::getRecords)
                        .checkedBy(KinesisRecords::checkGetRecords));
    }

    private CompletionStage<?> putRecord(Caller caller, PutRecordRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("data", r.data())
                .bytes("data", KinesisLimits.recordBytes(r.data(), r.partitionKey()), KinesisLimits.MAX_RECORD_BYTES)
                .required("partitionKey", r.partitionKey()).length("partitionKey", r.partitionKey(), 1, 256)
                .pattern("explicitHashKey", r.explicitHashKey(), KinesisLimits.HASH_KEY)
                .pattern("sequenceNumberForOrdering", r.sequenceNumberForOrdering(), KinesisLimits.SEQUENCE_NUMBER)
                .check();
        BigInteger key = hashKey(r.partitionKey(), r.explicitHashKey());
        return streams.get(name).thenCompose(info -> putRecord(caller, r, key, info, 1));
    }

    /**
     * One try at a PutRecord. A shard closed by a reshard since this node's metadata was read takes
     * nothing: the record is routed again by fresh metadata, to the child that covers its key.
     */
    private CompletionStage<PutRecordResponse> putRecord(Caller caller, PutRecordRequest r, BigInteger key, StreamInfo info,
                                                         int attempt) {
        streams.active(info);
        StreamEntity.ShardRange shard = streams.route(info, key);
        return sealed(info, caller, List.of(ShardEntity.StoredRecord.plain(r.partitionKey(), r.data())), List.of(shard))
                .thenCompose(sealed -> append(info, shard, sealed.records(), sealed.dataKeys()))
                .thenApply(landed -> {
                    traffic.incoming(info.name(), info.createdAtMillis(), shard.index(), 1,
                            KinesisLimits.recordBytes(r.data(), r.partitionKey()), clock.millis());
                    return new PutRecordResponse(shard.shardId(),
                            new SequenceNumber(shard.index(), landed.eventSeqNr(), landed.firstIndex()).toString(),
                            encryptionType(info));
                })
                .exceptionallyCompose(failure -> closed(failure)
                        ? rerouted(info, shard, attempt).thenCompose(fresh -> putRecord(caller, r, key, fresh, attempt + 1))
                        : CompletableFuture.failedStage(failure));
    }

    /** Whether an append failed only because its shard was closed by a reshard (and stored nothing). */
    private static boolean closed(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof AppendBatcher.ShardClosedException;
    }

    /**
     * Fresh metadata of a stream after a put found {@code shard} closed: at once the first time, then
     * after a growing pause while the reshard persists the closed shard's children (milliseconds, unless
     * the stream's node is failing over). A put that still finds no open shard after about the ask
     * timeout is refused with the error every Kinesis client retries.
     */
    private CompletionStage<StreamInfo> rerouted(StreamInfo info, StreamEntity.ShardRange shard, int attempt) {
        long pause = attempt <= 1 ? 0 : Math.min(200, 5L << Math.min(attempt, 6));
        if (attempt > 2 + settings.askTimeout().toMillis() / 200) {
            return CompletableFuture.failedStage(AwsError.ProvisionedThroughputExceededException.exception(
                    "Rate exceeded for shard " + shard.shardId() + " in stream " + info.name() + " under account "
                            + settings.accountId() + "."));
        }
        java.util.concurrent.Executor later = pause == 0 ? Runnable::run
                : CompletableFuture.delayedExecutor(pause, java.util.concurrent.TimeUnit.MILLISECONDS, Runnable::run);
        return CompletableFuture.runAsync(() -> {}, later).thenCompose(v -> streams.describe(info.name()));
    }

    private CompletionStage<?> putRecords(Caller caller, PutRecordsRequest r, String arn) {
        String name = streams.nameOf(r);
        Validation v = new Validation().required("records", r.records()).size("records", r.records(), 1, 500);
        v.check();
        long total = 0;
        for (int i = 0; i < r.records().size(); i++) {
            PutRecordsRequestEntry e = r.records().get(i);
            String at = "records." + (i + 1) + ".member.";
            // one count for both limits: data plus partition key in UTF-8 bytes, as AWS counts them
            long size = KinesisLimits.recordBytes(e.data(), e.partitionKey());
            v.required(at + "data", e.data()).bytes(at + "data", size, KinesisLimits.MAX_RECORD_BYTES)
                    .required(at + "partitionKey", e.partitionKey()).length(at + "partitionKey", e.partitionKey(), 1, 256)
                    .pattern(at + "explicitHashKey", e.explicitHashKey(), KinesisLimits.HASH_KEY);
            total += size;
        }
        v.check();
        if (total > KinesisLimits.MAX_PUT_RECORDS_BYTES) {
            throw AwsError.InvalidArgumentException.exception("Records size exceeds 5 MB limit");
        }
        List<BigInteger> keys = new ArrayList<>(r.records().size());
        for (PutRecordsRequestEntry e : r.records()) {
            keys.add(hashKey(e.partitionKey(), e.explicitHashKey()));
        }
        List<Integer> all = new ArrayList<>(r.records().size());
        for (int i = 0; i < r.records().size(); i++) all.add(i);
        return streams.get(name).thenCompose(info -> {
            streams.active(info);
            PutRecordsResultEntry[] results = new PutRecordsResultEntry[r.records().size()];
            return place(caller, r, keys, all, info, results, 1).thenApply(done -> {
                int failed = 0;
                for (PutRecordsResultEntry e : results) if (e.errorCode() != null) failed++;
                return new PutRecordsResponse(failed, List.of(results), encryptionType(info));
            });
        });
    }

    /**
     * Places the entries {@code entries} of a PutRecords: grouped by shard (each shard's entries in
     * request order), sealed once for all (one data key, one ask to the cache), appended per shard, each
     * entry's outcome written into {@code results}. The entries of a shard a reshard closed meanwhile
     * are placed again by fresh metadata. A KMS refusal fails the request as AWS's PutRecords does,
     * not entry by entry.
     */
    private CompletionStage<Void> place(Caller caller, PutRecordsRequest r, List<BigInteger> keys, List<Integer> entries,
                                        StreamInfo info, PutRecordsResultEntry[] results, int attempt) {
        Map<Integer, List<Integer>> byShard = new LinkedHashMap<>(); // shard index -> positions in entries
        List<StreamEntity.ShardRange> shardOf = new ArrayList<>(entries.size());
        List<ShardEntity.StoredRecord> plain = new ArrayList<>(entries.size());
        for (int p = 0; p < entries.size(); p++) {
            int i = entries.get(p);
            StreamEntity.ShardRange shard = streams.route(info, keys.get(i));
            shardOf.add(shard);
            byShard.computeIfAbsent(shard.index(), k -> new ArrayList<>()).add(p);
            PutRecordsRequestEntry e = r.records().get(i);
            plain.add(ShardEntity.StoredRecord.plain(e.partitionKey(), e.data()));
        }
        return sealed(info, caller, plain, shardOf).thenCompose(sealed -> {
            List<Integer> again = java.util.Collections.synchronizedList(new ArrayList<>());
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (List<Integer> positions : byShard.values()) {
                StreamEntity.ShardRange shard = shardOf.get(positions.get(0));
                List<ShardEntity.StoredRecord> records = new ArrayList<>(positions.size());
                for (int p : positions) {
                    records.add(sealed.records().get(p));
                }
                writes.add(append(info, shard, records, sealed.dataKeys()).handle((landed, failure) -> {
                    long bytes = 0;
                    for (int k = 0; k < positions.size(); k++) {
                        int i = entries.get(positions.get(k));
                        if (failure == null) {
                            results[i] = new PutRecordsResultEntry(new SequenceNumber(shard.index(),
                                    landed.eventSeqNr(), landed.firstIndex() + k).toString(), shard.shardId(), null, null);
                            PutRecordsRequestEntry e = r.records().get(i);
                            bytes += KinesisLimits.recordBytes(e.data(), e.partitionKey());
                        } else if (closed(failure)) {
                            again.add(i);
                        } else {
                            results[i] = failedEntry(failure);
                        }
                    }
                    if (failure == null) {
                        traffic.incoming(info.name(), info.createdAtMillis(), shard.index(), positions.size(), bytes, clock.millis());
                    }
                    return (Void) null;
                }).toCompletableFuture());
            }
            return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                if (again.isEmpty()) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
                List<Integer> retry = again.stream().sorted().toList();
                StreamEntity.ShardRange closedShard = streams.route(info, keys.get(retry.get(0)));
                return rerouted(info, closedShard, attempt)
                        .thenCompose(fresh -> {
                            streams.active(fresh);
                            return place(caller, r, keys, retry, fresh, results, attempt + 1);
                        })
                        .exceptionally(failure -> {
                            for (int i : retry) results[i] = failedEntry(failure);
                            return null;
                        });
            });
        });
    }

    private static PutRecordsResultEntry failedEntry(Throwable failure) {
        ApiException api = ApiException.of(failure);
        String code = api.error() == AwsError.ProvisionedThroughputExceededException ? api.error().wireName() : "InternalFailure";
        return new PutRecordsResultEntry(null, null, code, api.getMessage());
    }

    /** Records as they will be stored: sealed for their shards with a data key for encrypted streams, as given otherwise. */
    private CompletionStage<StreamCrypto.Sealed> sealed(StreamInfo info, Caller caller, List<ShardEntity.StoredRecord> records,
                                                        List<StreamEntity.ShardRange> shards) {
        if (!"KMS".equals(info.encryptionType())) {
            return CompletableFuture.completedFuture(new StreamCrypto.Sealed(records, List.of()));
        }
        return crypto.seal(info, caller, records, shards);
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
                    // a closed shard is kept as it is, for the caller to route the records again (see closed)
                    if (reply.isError() && reply.getError() instanceof AppendBatcher.ShardClosedException shardClosed) throw shardClosed;
                    if (reply.isError()) throw ApiException.of(reply.getError());
                    return reply.getValue();
                });
    }

    private CompletionStage<?> getShardIterator(Caller caller, GetShardIteratorRequest r, String arn) {
        String name = streams.nameOf(r);
        new Validation().required("shardId", r.shardId()).length("shardId", r.shardId(), 1, 128)
                .pattern("shardId", r.shardId(), KinesisLimits.STREAM_NAME)
                .required("shardIteratorType", r.shardIteratorType())
                .oneOf("shardIteratorType", r.shardIteratorType(), KinesisLimits.ITERATOR_TYPES)
                .pattern("startingSequenceNumber", r.startingSequenceNumber(), KinesisLimits.SEQUENCE_NUMBER)
                .check();
        return streams.get(name).thenCompose(info -> {
            streams.readable(info);
            StreamEntity.ShardRange shard = streams.readableShard(info, r.shardId(), clock.millis());
            String type = r.shardIteratorType();
            long now = clock.millis();
            switch (type) {
                case "TRIM_HORIZON":
                    return done(iterator(info, new SequenceNumber(shard.index(), 1, 0), 0, now));
                case "AT_SEQUENCE_NUMBER":
                case "AFTER_SEQUENCE_NUMBER": {
                    SequenceNumber at = sequencePosition(type, r.startingSequenceNumber(), shard);
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

    private static void checkGetRecords(GetRecordsRequest r) {
        new Validation().required("shardIterator", r.shardIterator()).length("shardIterator", r.shardIterator(), 1, 512)
                .range("limit", r.limit(), 1, KinesisLimits.MAX_GET_RECORDS_LIMIT).check();
    }

    /** GetRecords names its stream only through its (signed, expiring) iterator. */
    private String iteratorResource(Caller caller, GetRecordsRequest r) {
        return settings.streamArn(ShardIterator.decode(r.shardIterator(), iteratorSecret, clock.millis()).streamName());
    }

    private CompletionStage<?> getRecords(Caller caller, GetRecordsRequest r, String arn) {
        long now = clock.millis();
        ShardIterator it = ShardIterator.decode(r.shardIterator(), iteratorSecret, now);
        int limit = r.limit() == null ? 10_000 : r.limit();
        return streams.get(it.streamName()).thenCompose(info -> {
            streams.readable(info, it.streamCreatedAt());
            StreamEntity.ShardRange shard = info.shards().stream().filter(s -> s.index() == it.position().shardIndex())
                    .findFirst().orElseThrow(() -> AwsError.InvalidArgumentException.exception("Invalid ShardIterator."));
            long retentionCutoff = now - info.retentionHours() * 3_600_000L;
            long minArrival = Math.max(it.minArrivalMillis(), retentionCutoff);
            SequenceNumber from = it.position();
            String entityId = ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index());
            return reader.read(shardRef(info, shard), entityId, from.eventSeqNr(), from.indexInEvent(), limit,
                            KinesisLimits.MAX_GET_RECORDS_BYTES, minArrival)
                    .thenCompose(read -> crypto.open(info, caller, shard, read.records())
                            .thenCompose(opened -> read.shardEnded() && opened.size() == read.records().size()
                                    ? streams.childShards(info, shard).thenApply(children -> records(it, shard, read, opened, now, children))
                                    : done(records(it, shard, read, opened, now, List.of()))));
        });
    }

    /**
     * The answer: the records that opened; when one did not, the read ends before it and says there is
     * more. With {@code children}, the read reached the end of a closed shard: no next iterator, and the
     * shards to read on in (as AWS, and as the KCL requires: never children beside an iterator).
     */
    private GetRecordsResponse records(ShardIterator it, StreamEntity.ShardRange shard, ShardReader.Outcome read,
                                       List<StreamCrypto.Opened> opened, long now, List<ChildShard> children) {
        List<ShardReads.ReadRecord> found = read.records();
        List<io.sluice.protocol.kinesis.Kinesis.Record> records = wireRecords(shard, found, opened);
        SequenceNumber next;
        long behind = read.millisBehindLatest();
        if (opened.size() < found.size()) {
            ShardReads.ReadRecord stop = found.get(opened.size());
            next = new SequenceNumber(shard.index(), stop.eventSeqNr(), stop.index());
            behind = Math.max(1, behind);
        } else {
            next = new SequenceNumber(shard.index(), Math.max(read.nextEventSeqNr(), 1), read.nextIndex());
        }
        if (!children.isEmpty()) {
            traffic.read(it.streamName(), it.streamCreatedAt(), shard.index(), records.size(), 0, now);
            return new GetRecordsResponse(records, null, 0L, children);
        }
        traffic.read(it.streamName(), it.streamCreatedAt(), shard.index(), records.size(), behind, now);
        return new GetRecordsResponse(records, it.at(next, now).encode(iteratorSecret), behind, null);
    }

    /**
     * Where an AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER position starts in a shard (GetShardIterator's
     * and SubscribeToShard's), or AWS's refusal of a missing number or one of another shard.
     */
    static SequenceNumber sequencePosition(String type, String sequenceNumber, StreamEntity.ShardRange shard) {
        if (sequenceNumber == null) {
            throw AwsError.InvalidArgumentException.exception(
                    "StartingSequenceNumber must be provided for ShardIteratorType " + type + ".");
        }
        SequenceNumber seq = SequenceNumber.parse(sequenceNumber, "StartingSequenceNumber");
        if (seq.shardIndex() != shard.index()) {
            throw AwsError.InvalidArgumentException.exception("Invalid StartingSequenceNumber. It encodes "
                    + HashKeys.shardId(seq.shardIndex()) + ", while it was used in a call to a shard with "
                    + shard.shardId());
        }
        SequenceNumber at = type.equals("AT_SEQUENCE_NUMBER") ? seq : seq.next();
        return at.eventSeqNr() == 0 ? new SequenceNumber(shard.index(), 1, 0) : at;
    }

    /** The records that opened, as the wire shows them: sequence number, arrival, data, key, encryption. */
    static List<io.sluice.protocol.kinesis.Kinesis.Record> wireRecords(StreamEntity.ShardRange shard,
                                                                      List<ShardReads.ReadRecord> found,
                                                                      List<StreamCrypto.Opened> opened) {
        List<io.sluice.protocol.kinesis.Kinesis.Record> records = new ArrayList<>(opened.size());
        for (int i = 0; i < opened.size(); i++) {
            ShardReads.ReadRecord rr = found.get(i);
            records.add(new io.sluice.protocol.kinesis.Kinesis.Record(
                    new SequenceNumber(shard.index(), rr.eventSeqNr(), rr.index()).toString(),
                    Instant.ofEpochMilli(rr.arrivalMillis()), opened.get(i).data(), opened.get(i).partitionKey(),
                    rr.wrappedKey() != null ? "KMS" : null));
        }
        return records;
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<ShardEntity.Command> shardRef(
            StreamInfo info, StreamEntity.ShardRange shard) {
        return sharding.entityRefFor(ShardEntity.ENTITY_KEY,
                ShardEntity.entityId(info.name(), info.createdAtMillis(), shard.index()));
    }

    /** The 128-bit hash key of a record: its ExplicitHashKey, or the MD5 of its partition key. */
    private static BigInteger hashKey(String partitionKey, String explicitHashKey) {
        if (explicitHashKey == null) {
            return HashKeys.ofPartitionKey(partitionKey);
        }
        BigInteger key = new BigInteger(explicitHashKey);
        if (key.compareTo(HashKeys.MAX) > 0) {
            throw AwsError.InvalidArgumentException.exception("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "
                    + explicitHashKey);
        }
        return key;
    }


}
