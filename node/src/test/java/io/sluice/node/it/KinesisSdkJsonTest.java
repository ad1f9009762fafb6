package io.sluice.node.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract in JSON 1.1 ({@code aws.cborEnabled=false}), as the CLI and most other SDKs speak it. */
class KinesisSdkJsonTest extends KinesisSdkContract {
    @BeforeAll
    static void start() throws Exception {
        System.setProperty("aws.cborEnabled", "false");
        startNode(false);
    }

    @AfterAll
    static void clearProperty() {
        System.clearProperty("aws.cborEnabled");
    }

    @Override
    String expectedContentType() {
        return "application/x-amz-json-1.1";
    }

    @Override
    String prefix() {
        return "json";
    }
}
