package io.sluice.node.runtime;

/** Marks messages, events and snapshots that Pekko serializes with Jackson CBOR (see serialization.conf). */
public interface CborSerializable {}
