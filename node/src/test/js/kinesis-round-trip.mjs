// CreateStream, PutRecord, GetShardIterator and GetRecords through @aws-sdk/client-kinesis with its
// default request handler (NodeHttp2Handler: HTTP/2, over http:// with prior knowledge), against the
// endpoint in SLUICE_ENDPOINT. Prints one JSON line for JavaScriptSdkTest; exits non-zero on failure.
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand,
  GetShardIteratorCommand, GetRecordsCommand,
} from "@aws-sdk/client-kinesis";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const client = new KinesisClient({
  endpoint: env("SLUICE_ENDPOINT"),
  region: env("SLUICE_REGION"),
  credentials: { accessKeyId: env("SLUICE_ACCESS_KEY_ID"), secretAccessKey: env("SLUICE_SECRET_ACCESS_KEY") },
  maxAttempts: 1,
});
const stream = env("SLUICE_STREAM");

try {
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (summary.StreamDescriptionSummary.StreamStatus === "ACTIVE") break;
    if (Date.now() > deadline) throw new Error(`${stream} not ACTIVE in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const put = await client.send(new PutRecordCommand({
    StreamName: stream, PartitionKey: "k", Data: new TextEncoder().encode("hello from javascript"),
  }));
  const iterator = await client.send(new GetShardIteratorCommand({
    StreamName: stream, ShardId: put.ShardId, ShardIteratorType: "TRIM_HORIZON",
  }));
  const got = await client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
  console.log(JSON.stringify({
    handler: client.config.requestHandler.constructor.name,
    shardId: put.ShardId,
    records: got.Records.map((r) => new TextDecoder().decode(r.Data)),
  }));
} finally {
  client.destroy();
}
