package io.sluice.protocol.kinesis;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ConsumerArnTest {
    private static final String PREFIX = "arn:aws:kinesis:us-east-1:123456789012:stream/";

    @Test
    void aConsumerArnIsItsStreamsArnItsNameAndItsCreationSecond() {
        String arn = ConsumerArn.format(PREFIX + "orders", "billing.app-1", 1_700_000_000L);
        assertEquals(PREFIX + "orders/consumer/billing.app-1:1700000000", arn);
        assertTrue(KinesisLimits.CONSUMER_ARN.matcher(arn).matches());
        ConsumerArn parsed = ConsumerArn.parse(arn, PREFIX);
        assertEquals(new ConsumerArn(PREFIX + "orders", "orders", "billing.app-1", 1_700_000_000L), parsed);
        assertEquals(arn, parsed.toString());
    }

    @Test
    void anArnOfAnotherRegionOrAccountOrOfAnotherShapeIsNoConsumerOfOurs() {
        assertNull(ConsumerArn.parse("arn:aws:kinesis:eu-west-1:123456789012:stream/orders/consumer/app:1", PREFIX));
        assertNull(ConsumerArn.parse("arn:aws:kinesis:us-east-1:210987654321:stream/orders/consumer/app:1", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "orders/consumer/app", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "orders/consumer/app:", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "orders/consumer/:1", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "/consumer/app:1", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "a/b/consumer/app:1", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "orders/consumer/app:99999999999999999999", PREFIX));
        assertNull(ConsumerArn.parse(PREFIX + "orders/consumer/a:pp:1", PREFIX));
        assertNull(ConsumerArn.parse(null, PREFIX));
    }
}
