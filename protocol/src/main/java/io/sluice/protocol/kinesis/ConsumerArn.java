package io.sluice.protocol.kinesis;

/**
 * A consumer's ARN as Kinesis forms it: {@code <stream ARN>/consumer/<consumer name>:<creation time in
 * epoch seconds>}. The creation time is part of it so that a consumer deregistered and registered
 * again under the same name (or on a stream deleted and created again) gets a new ARN, and IAM
 * policies naming the old one do not apply to the new one.
 */
public record ConsumerArn(String streamArn, String streamName, String consumerName, long creationEpochSeconds) {
    private static final String MARK = "/consumer/";

    public static String format(String streamArn, String consumerName, long creationEpochSeconds) {
        return streamArn + MARK + consumerName + ":" + creationEpochSeconds;
    }

    /**
     * The parts of a consumer ARN whose stream ARN starts with {@code streamArnPrefix} (the region's and
     * account's {@code arn:aws:kinesis:<region>:<account>:stream/}); null for anything else: another
     * region's or account's, or a string that only looks like one.
     */
    public static ConsumerArn parse(String arn, String streamArnPrefix) {
        if (arn == null || !arn.startsWith(streamArnPrefix)) {
            return null;
        }
        String rest = arn.substring(streamArnPrefix.length());
        int mark = rest.indexOf(MARK);
        int colon = rest.lastIndexOf(':');
        if (mark <= 0 || colon < mark + MARK.length() + 1 || colon == rest.length() - 1) {
            return null;
        }
        String streamName = rest.substring(0, mark);
        String consumerName = rest.substring(mark + MARK.length(), colon);
        String seconds = rest.substring(colon + 1);
        // 18 digits at most: a 19-digit number could pass Long.MAX_VALUE
        if (!KinesisLimits.STREAM_NAME.matcher(streamName).matches() || streamName.length() > 128
                || !KinesisLimits.CONSUMER_NAME.matcher(consumerName).matches() || consumerName.length() > 128
                || !seconds.matches("[0-9]{1,18}")) {
            return null;
        }
        return new ConsumerArn(streamArnPrefix + streamName, streamName, consumerName, Long.parseLong(seconds));
    }

    @Override
    public String toString() {
        return format(streamArn, consumerName, creationEpochSeconds);
    }
}
