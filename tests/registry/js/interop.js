// The other side of Rill's schema-registry interoperability tests: kafkajs and
// @kafkajs/confluent-schema-registry (versions pinned in package-lock.json, installed by
// scripts/setup.sh into build/<preset>/npm; run with NODE_PATH=<that>/node_modules).
//
//   node interop.js avro-encode  URL SUBJECT SCHEMA_FILE   < json lines  > hex lines
//   node interop.js proto-encode URL SUBJECT PROTO_FILE    < json lines  > hex lines
//   node interop.js decode       URL [AVRO_READER_SCHEMA]  < hex lines   > json lines
//   node interop.js produce      BROKERS URL TOPIC SUBJECT SCHEMA_FILE < {"key","value"} lines
//   node interop.js consume      BROKERS URL TOPIC COUNT TIMEOUT_MS > {"key","value"} lines
//
// @kafkajs/confluent-schema-registry 3.x writes Protobuf without Confluent's message-index
// list (its issue #248): proto-encode inserts it (the byte 0, for the file's first message)
// after the header, as Confluent's own serializers write it. Its decoder skips the byte.
'use strict';
const fs = require('fs');
const readline = require('readline');
const {Kafka, logLevel} = require('kafkajs');
const {SchemaRegistry, SchemaType} = require('@kafkajs/confluent-schema-registry');

async function lines() {
  const out = [];
  const rl = readline.createInterface({input: process.stdin});
  for await (const line of rl)
    if (line.trim() !== '') out.push(line);
  return out;
}

// BigInt-free JSON: avsc gives longs as numbers.
const show = (v) => JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? Number(x) : x));

async function register(registry, subject, file, type) {
  const schema = fs.readFileSync(file, 'utf8');
  const {id} = await registry.register({type, schema}, {subject});
  return id;
}

function withIndexes(buffer) {
  return Buffer.concat([buffer.subarray(0, 5), Buffer.from([0]), buffer.subarray(5)]);
}

async function encode(url, subject, file, type) {
  const registry = new SchemaRegistry({host: url});
  const id = await register(registry, subject, file, type);
  for (const line of await lines()) {
    const encoded = await registry.encode(id, JSON.parse(line));
    console.log((type === SchemaType.PROTOBUF ? withIndexes(encoded) : encoded).toString('hex'));
  }
}

async function decode(url, readerFile) {
  const registry = new SchemaRegistry({host: url});
  const options = readerFile ?
      {[SchemaType.AVRO]: {readerSchema: JSON.parse(fs.readFileSync(readerFile, 'utf8'))}} :
      undefined;
  for (const line of await lines()) {
    const value = await registry.decode(Buffer.from(line, 'hex'), options);
    console.log(show(value.toJSON ? value.toJSON() : value));
  }
}

function kafka(brokers) {
  return new Kafka({clientId: 'rill-interop', brokers: [brokers], logLevel: logLevel.NOTHING});
}

async function produce(brokers, url, topic, subject, file) {
  const registry = new SchemaRegistry({host: url});
  const id = await register(registry, subject, file, SchemaType.AVRO);
  const messages = [];
  for (const line of await lines()) {
    const {key, value} = JSON.parse(line);
    messages.push({key, value: await registry.encode(id, value)});
  }
  const producer = kafka(brokers).producer({allowAutoTopicCreation: false});
  await producer.connect();
  await producer.send({topic, messages});
  await producer.disconnect();
  console.log(`produced ${messages.length}`);
}

async function consume(brokers, url, topic, count, timeoutMs) {
  const registry = new SchemaRegistry({host: url});
  const consumer = kafka(brokers).consumer({
    groupId: `rill-interop-${process.pid}`,
    sessionTimeout: 10000,
    heartbeatInterval: 1000,
  });
  let seen = 0;
  let failed = null;
  const timer = setTimeout(() => {
    failed = `timed out after ${timeoutMs} ms with ${seen} of ${count} records`;
  }, timeoutMs);
  await consumer.connect();
  await consumer.subscribe({topic, fromBeginning: true});
  await consumer.run({
    eachMessage: async ({message}) => {
      const value = await registry.decode(message.value);
      console.log(
          show({key: message.key.toString(), value: value.toJSON ? value.toJSON() : value}));
      seen += 1;
    },
  });
  while (seen < count && failed === null) await new Promise((r) => setTimeout(r, 100));
  clearTimeout(timer);
  await consumer.disconnect();
  if (failed !== null) throw new Error(failed);
}

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  switch (cmd) {
    case 'avro-encode':
      return encode(a[0], a[1], a[2], SchemaType.AVRO);
    case 'proto-encode':
      return encode(a[0], a[1], a[2], SchemaType.PROTOBUF);
    case 'decode':
      return decode(a[0], a[1]);
    case 'produce':
      return produce(a[0], a[1], a[2], a[3], a[4]);
    case 'consume':
      return consume(a[0], a[1], a[2], Number(a[3]), Number(a[4]));
    default:
      throw new Error(`unknown command '${cmd}'`);
  }
}

main().then(
    () => process.exit(0),
    (e) => {
      console.error(`interop.js: ${e && e.stack ? e.stack : e}`);
      process.exit(1);
    },
);
