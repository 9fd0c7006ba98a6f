// Sends one sensor reading to wsn-watch (topic wsn.readings, key = node id).
// Run from the repository: node docs/examples/send-reading.mjs
// Broker address: WSN_KAFKA_BROKERS (default 127.0.0.1:9092).
import { Kafka, Partitioners } from 'kafkajs';

const kafka = new Kafka({
  clientId: 'my-gateway',
  brokers: (process.env.WSN_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
});
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });

const reading = {
  node: '12', // must be a node of the topology ingest runs with
  ts: new Date().toISOString(), // event time: when the sensor measured (ISO 8601 with zone, or epoch ms)
  values: { temperature: 21.4, humidity: 35.2 }, // one number per modality
};

await producer.connect();
await producer.send({
  topic: 'wsn.readings',
  acks: -1,
  messages: [{ key: reading.node, value: JSON.stringify(reading) }],
});
await producer.disconnect();
console.log(`sent reading of node ${reading.node} at ${reading.ts}`);
