/**
 * The shared vocabulary of wsn-watch: a reading, a frame, a score, an alert.
 * Every module imports these; none redeclares them.
 *
 * Time is event time (the reading's own timestamp) in UTC milliseconds since
 * the Unix epoch, everywhere.
 */

/** A node (mote) id, unique within one network. */
export type NodeId = string;

/** A measured quantity: temperature, humidity, light, voltage, or any named one. */
export type Modality = string;

/** The modalities wsn-watch knows by name; users may add others. */
export const KNOWN_MODALITIES = ['temperature', 'humidity', 'light', 'voltage'] as const;

/** One sensor reading as it arrives on `wsn.readings`. */
export interface Reading {
  network: string;
  node: NodeId;
  /** Event time, UTC ms since epoch. */
  ts: number;
  values: Record<Modality, number>;
}

/** One node's values in a frame, after alignment and gap filling. */
export interface FrameNode {
  node: NodeId;
  /** Aligned value per modality; null when the node never reported that modality yet. */
  values: Record<Modality, number | null>;
  /** How many ticks old the freshest real reading behind `values` is (0 = fresh). */
  staleTicks: number;
  /** True when the node has been silent longer than the configured silence limit. */
  silent: boolean;
}

/** One cluster's aligned values at one tick, as published on `wsn.frames`. */
export interface Frame {
  network: string;
  cluster: string;
  /** Tick start, UTC ms since epoch. */
  tick: number;
  /** Hash of the topology version the frame was built against. */
  topologyVersion: string;
  nodes: FrameNode[];
}

/** The detector's verdict on one node at one tick. */
export interface NodeScore {
  node: NodeId;
  /** Anomaly probability in [0, 1]. */
  probability: number;
  /** Unbounded anomaly score (higher = more anomalous), for ranking. */
  score: number;
  /** Reconstruction error per modality (mean squared, on normalized values). */
  reconstructionError: Record<Modality, number>;
  /**
   * The model's reconstruction of the node's newest sample per modality, in
   * the reading's own unit (denormalized). Absent for scorers that do not
   * reconstruct.
   */
  reconstruction?: Record<Modality, number>;
  isAnomaly: boolean;
  /** A maintenance silence covered the node when it was scored: its alerts were suppressed (common/silences.ts). */
  silenced?: boolean;
}

/** The detector's verdict on one cluster at one tick. */
export interface ClusterScore {
  network: string;
  cluster: string;
  tick: number;
  /** Probability that something in the cluster is anomalous at this tick. */
  probability: number;
  nodes: NodeScore[];
  /** The model version that scored it: a registry version (`v3`) or the folder of a pinned model. */
  model?: string;
}

export type AlertStatus = 'firing' | 'resolved';

/** Why a node alerts: its values look anomalous, it stopped reporting, or the topology changed it (informational). */
export type AlertKind = 'anomaly' | 'silent' | 'topology';

/** What a topology change did to a node. */
export type TopologyChangeKind = 'added' | 'moved' | 'removed';

/** An alert about one node, as routed to Alertmanager, webhooks and `wsn.alerts`. */
export interface Alert {
  /** Stable fingerprint: network/cluster/node. */
  id: string;
  kind: AlertKind;
  status: AlertStatus;
  network: string;
  cluster: string;
  node: NodeId;
  /** The modality most responsible (largest reconstruction error); `none` for a silent node. */
  modality: Modality;
  probability: number;
  /** Event time the anomaly started, UTC ms. */
  startsAt: number;
  /** Event time it resolved, UTC ms (only when resolved). */
  endsAt?: number;
  /** Link to the node's dashboard. */
  dashboardUrl: string;
  /** Why a resolved alert resolved when the data did not clear it: `silenced` (a maintenance silence began). */
  reason?: 'silenced';
  /** `topology` alerts: what changed for the node, and the topology version (hash) of the frame that showed it. */
  change?: TopologyChangeKind;
  topologyVersion?: string;
}

/** Kafka topic names, fixed by the design. */
export const TOPICS = {
  readings: 'wsn.readings',
  readingsDlq: 'wsn.readings.dlq',
  frames: 'wsn.frames',
  topology: 'wsn.topology',
  anomalies: 'wsn.anomalies',
  alerts: 'wsn.alerts',
  detectorState: 'wsn.detector.state',
} as const;

/**
 * InfluxDB measurement names, fixed by the design. `anomaly` holds one point
 * per node and tick: the node's readings and, once its cluster is scored, the
 * verdict (store/influx-sink.ts); `pipeline` one point per detector batch.
 */
export const MEASUREMENTS = {
  anomaly: 'anomaly',
  pipeline: 'pipeline',
} as const;
