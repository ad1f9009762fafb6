package io.sluice.node;

import io.sluice.node.runtime.NodeSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** Configurations for entity unit tests: the node's own config on Pekko's in-memory journal. */
public final class TestConfigs {
    private TestConfigs() {}

    public static Config entityTests(String overrides) {
        return ConfigFactory.parseString(overrides)
                .withFallback(ConfigFactory.parseString("pekko.actor.provider = local\npekko.remote.artery.enabled = off"))
                .withFallback(EventSourcedBehaviorTestKit.config())
                .withFallback(ConfigFactory.load())
                .resolve();
    }

    public static NodeSettings settings(Config config) {
        return NodeSettings.from(config);
    }
}
