package io.sluice.node.runtime;

import com.typesafe.config.ConfigException;
import io.sluice.node.SluiceNode;
import io.sluice.node.TestConfigs;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class NodeSettingsTest {
    static NodeSettings withTlsPort(String value) {
        return TestConfigs.settings(TestConfigs.entityTests("sluice.http.tls-port = " + value));
    }

    @Test
    void theHttpsListenerIsOnByDefaultOnPort4443AndOffWithOffOrZero() {
        NodeSettings defaults = TestConfigs.settings(TestConfigs.entityTests(""));
        assertEquals(4443, defaults.tlsPort());
        assertTrue(defaults.tlsEnabled());
        assertEquals("", defaults.tlsCertificate());
        assertEquals("", defaults.tlsPrivateKey());
        for (String off : new String[] {"off", "\"off\"", "0", "false"}) {
            assertFalse(withTlsPort(off).tlsEnabled(), off);
        }
        assertEquals(8443, withTlsPort("\"8443\"").tlsPort());
        assertThrows(ConfigException.BadValue.class, () -> withTlsPort("https"));
        assertThrows(ConfigException.BadValue.class, () -> withTlsPort("70000"));
    }

    @Test
    void theEnvironmentNamesThePortAndThePemFiles() {
        Map<String, Object> config = SluiceNode.fromEnvironment(Map.of(
                "SLUICE_TLS_PORT", "off", "SLUICE_TLS_CERT", "/etc/sluice/tls.crt", "SLUICE_TLS_KEY", "/etc/sluice/tls.key"));
        assertEquals("off", config.get("sluice.http.tls-port"));
        assertEquals("/etc/sluice/tls.crt", config.get("sluice.http.tls.certificate"));
        assertEquals("/etc/sluice/tls.key", config.get("sluice.http.tls.private-key"));
    }
}
