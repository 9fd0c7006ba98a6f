/**
 * What the built-in dashboard reads: a small, read-only view of the
 * detector's results plus where the nodes are. The embedded result store
 * (store/memory.ts, MemoryResultStore) satisfies `DashboardResults`
 * as it is; positions come from the topology. The dashboard never computes a
 * score itself.
 */
import type { Feedback } from '../common/feedback.ts';
import type { Silence } from '../common/silences.ts';
import type { Alert, ClusterScore, Modality, NodeId } from '../common/types.ts';

/** A node drawn on the map: where it is and which cluster it belongs to. */
export type { NodePlacement, TopologyView } from '../topology/view.ts';
import type { TopologyView } from '../topology/view.ts';

/** One scored node at one tick: what it measured, what the model reconstructed, and the verdict. */
export interface NodeSample {
  /** Tick start, UTC ms. */
  tick: number;
  /** Measured (aligned) value per modality; null where the node had none. */
  values: Record<Modality, number | null>;
  /** The model's reconstruction per modality, in the same unit as `values`; null where unknown. */
  reconstruction: Record<Modality, number | null>;
  probability: number;
  isAnomaly: boolean;
}

/** What changed; the dashboard only needs to know which network to re-read. */
export interface ResultChangeNotice {
  kind: string;
  network: string;
}

/** The detector's results as the dashboard reads them. */
export interface DashboardResults {
  /** Networks with results, in a stable order. */
  networks(): Promise<string[]>;
  /** The most recent score of every cluster of the network. */
  latestScores(network: string): Promise<ClusterScore[]>;
  /** A node's newest `limit` scored samples, oldest first. */
  nodeHistory(network: string, node: NodeId, limit: number): Promise<NodeSample[]>;
  /** Firing alerts and recently resolved ones, of one network or all. */
  alerts(network?: string): Promise<Alert[]>;
  /** Maintenance silences in force in the network (`wsn-watch silence add`); absent where the store has none. */
  silences?(network: string): Promise<Silence[]>;
  /** The newest operator marks of the network's alerts (`wsn-watch feedback mark`, the dashboard buttons), newest first. */
  feedback?(network: string): Promise<Feedback[]>;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (change: ResultChangeNotice) => void): () => void;
}

/** Where the nodes are. */
export interface TopologySource {
  networks(): Promise<string[]>;
  topology(network: string): Promise<TopologyView | undefined>;
}

/** A topology source over fixed views (embedded mode builds them once from the loaded topology). */
export function staticTopology(views: TopologyView[]): TopologySource {
  const byNetwork = new Map(views.map((view) => [view.network, view]));
  return {
    async networks() {
      return [...byNetwork.keys()].sort();
    },
    async topology(network) {
      return byNetwork.get(network);
    },
  };
}
