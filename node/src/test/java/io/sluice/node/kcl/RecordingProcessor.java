package io.sluice.node.kcl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.kinesis.exceptions.InvalidStateException;
import software.amazon.kinesis.exceptions.KinesisClientLibDependencyException;
import software.amazon.kinesis.exceptions.ShutdownException;
import software.amazon.kinesis.exceptions.ThrottlingException;
import software.amazon.kinesis.lifecycle.events.InitializationInput;
import software.amazon.kinesis.lifecycle.events.LeaseLostInput;
import software.amazon.kinesis.lifecycle.events.ProcessRecordsInput;
import software.amazon.kinesis.lifecycle.events.ShardEndedInput;
import software.amazon.kinesis.lifecycle.events.ShutdownRequestedInput;
import software.amazon.kinesis.processor.RecordProcessorCheckpointer;
import software.amazon.kinesis.processor.ShardRecordProcessor;
import software.amazon.kinesis.processor.ShardRecordProcessorFactory;
import software.amazon.kinesis.retrieval.KinesisClientRecord;
import software.amazon.kinesis.retrieval.kpl.ExtendedSequenceNumber;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The application's record processor: logs every record it is given, then checkpoints at the batch's last
 * record; checkpoints at shard end (logged as a checkpoint at {@code SHARD_END}) and when asked to shut down. It never throws, as the KCL asks of processors.
 */
final class RecordingProcessor implements ShardRecordProcessor {
    private static final Logger log = LoggerFactory.getLogger(RecordingProcessor.class);

    private final ProcessedLog processed;
    private String shardId;

    RecordingProcessor(ProcessedLog processed) {
        this.processed = processed;
    }

    static ShardRecordProcessorFactory factory(ProcessedLog processed) {
        return () -> new RecordingProcessor(processed);
    }

    @Override
    public void initialize(InitializationInput input) {
        shardId = input.shardId();
        processed.write(new ProcessedLog.Initialized(shardId, input.extendedSequenceNumber().sequenceNumber()));
    }

    @Override
    public void processRecords(ProcessRecordsInput input) {
        List<KinesisClientRecord> records = input.records();
        if (records.isEmpty()) return;
        List<ProcessedLog.Event> lines = new ArrayList<>(records.size());
        for (KinesisClientRecord r : records) {
            lines.add(new ProcessedLog.Processed(shardId, r.sequenceNumber(), r.partitionKey(), bytes(r.data()),
                    String.valueOf(r.encryptionType())));
        }
        processed.write(lines);
        if (checkpoint(input.checkpointer())) {
            processed.write(new ProcessedLog.Checkpointed(shardId, records.get(records.size() - 1).sequenceNumber()));
        }
    }

    @Override
    public void leaseLost(LeaseLostInput input) {
        processed.write(new ProcessedLog.LeaseLost(shardId));
    }

    @Override
    public void shardEnded(ShardEndedInput input) {
        processed.write(new ProcessedLog.ShardEnded(shardId));
        if (checkpoint(input.checkpointer())) {
            processed.write(new ProcessedLog.Checkpointed(shardId, ExtendedSequenceNumber.SHARD_END.sequenceNumber()));
        }
    }

    @Override
    public void shutdownRequested(ShutdownRequestedInput input) {
        checkpoint(input.checkpointer());
    }

    /** True if the checkpoint was stored; a lost lease or a failing store is logged and left to the KCL. */
    private boolean checkpoint(RecordProcessorCheckpointer checkpointer) {
        try {
            checkpointer.checkpoint();
            return true;
        } catch (ShutdownException e) {
            log.info("{}: lease lost before the checkpoint; the next owner resumes from the previous one", shardId);
        } catch (ThrottlingException | KinesisClientLibDependencyException | InvalidStateException e) {
            log.warn("{}: checkpoint failed; the batch will be processed again after a failover", shardId, e);
        }
        return false;
    }

    private static byte[] bytes(ByteBuffer data) {
        ByteBuffer copy = data.duplicate();
        byte[] b = new byte[copy.remaining()];
        copy.get(b);
        return b;
    }
}
