/**
 * The topology on a message transport: a compacted topic (`wsn.topology`)
 * that `TopologyPublisher` writes and `TopologyFollower` reads, on Kafka or on
 * the in-process transport. Kept out of topology/index.ts so that importing
 * the topology does not load a Kafka client.
 *
 *   records.ts    a topology ⇄ its keyed records (node, cluster, meta)
 *   topic.ts      the topic on a transport; a Kafka transport from brokers + SASL/TLS
 *   publisher.ts  sends what changed, in bounded requests, meta last
 *   follower.ts   replays and follows the topic, announces consistent versions
 */
export {
  announcedVersion,
  metaRecord,
  parseTopologyRecord,
  topologyDelta,
  topologyFromRecords,
  topologyRecords,
  type MetaRecord,
  type TopologyRecord,
  type TopologyRecordEntry,
} from './records.ts';
export {
  ensureTopologyTopic,
  kafkaConnection,
  readTopologyRecords,
  type KafkaConnection,
  type TopologyConnection,
  type TopologyKafkaOptions,
} from './topic.ts';
export { TOPOLOGY_REQUEST_BYTES, TopologyPublisher, type PublishResult, type PublisherProgress } from './publisher.ts';
export { TopologyFollower, type FollowerHealth, type FollowerOptions, type TopologyListener } from './follower.ts';
