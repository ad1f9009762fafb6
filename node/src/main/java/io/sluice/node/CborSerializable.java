package io.sluice.node;

/** Marks messages, events and snapshots that Pekko serializes with Jackson CBOR (see serialization.conf). */
public interface CborSerializable {}
