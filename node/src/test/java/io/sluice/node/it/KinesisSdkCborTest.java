package io.sluice.node.it;

import org.junit.jupiter.api.BeforeAll;

/** The contract in CBOR, the AWS SDK for Java v2's default for Kinesis. */
class KinesisSdkCborTest extends KinesisSdkContract {
    @BeforeAll
    static void start() throws Exception {
        startNode(true);
    }

    @Override
    String expectedContentType() {
        return "application/x-amz-cbor-1.1";
    }

    @Override
    String prefix() {
        return "cbor";
    }
}
