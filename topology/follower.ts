import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../common/log.ts';
import type { IncomingMessage, Subscription, Transport } from '../common/transport.ts';
import { TOPICS } from '../common/types.ts';
import { announcedVersion, exportedTopologyFromRecords } from './records.ts';
import { ensureTopologyTopic, topologyTransport, type TopologyKafkaOptions } from './topic.ts';
import type { ClusterExport, Topology } from './types.ts';

/** Gets each new version with its cluster exports (`denseLimit` 0), which checking the version computed anyway. */
export type TopologyListener = (
  topology: Topology,
  version: string,
  clusters: readonly ClusterExport[],
) => void | Promise<void>;

/** Whether a follower is following now, and if not, why. */
export interface FollowerHealth {
  following: boolean;
  /** Why it is not following (what its subscription reports), null while it follows. */
  reason: string | null;
  /** Times its consumer was rebuilt after a crash the Kafka client does not recover from. */
  restarts: number;
}

export type FollowerOptions = TopologyKafkaOptions & {
  /** Consumer group of the follower (default: one of its own, so every follower reads every record). */
  groupId?: string;
  /**
   * Keep the latest topology for `current()` and `waitFor` (default true).
   * False: each version goes to the listener and is let go, for a service
   * that keeps only what it derives from it (a 100,000-node topology takes
   * about 120 MB of heap).
   */
  keepTopology?: boolean;
};

/**
 * Rebuilding a very large topology runs inside one batch, without heartbeats;
 * a follower is alone in its group, so nobody waits on a long session timeout.
 * Used when the follower makes its own Kafka transport.
 */
const FOLLOWER_SESSION_TIMEOUT_MS = 300_000;

/**
 * Follows the topic and keeps the current topology of one network: replays
 * from the start (compaction keeps it short), then applies changes as they
 * arrive, in offset order. `onTopology` runs each time a new consistent
 * version appears (meta and the records agree).
 *
 * It reads through a transport subscription, so on Kafka it never gives up:
 * a consumer the client gave up on after a broker outage ("Failed to find
 * group coordinator") is rebuilt with backoff for as long as the follower
 * runs, and resumes from its group's committed offset; the records already
 * read are kept. `health()` says whether it follows now, so a service can
 * fail its /readyz meanwhile; the transport logs why.
 */
export class TopologyFollower {
  private readonly options: FollowerOptions;
  private readonly topic: string;
  private readonly logger: Logger;
  private readonly groupId: string;
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly records = new Map<string, string>();
  private subscription: Subscription | null = null;
  private latest: { topology: Topology | null; version: string } | null = null;
  private waiters: Array<{ predicate: (t: Topology, v: string) => boolean; resolve: (t: Topology) => void }> = [];
  private listener: TopologyListener | undefined;
  private stopped = false;
  private restarts = 0;

  constructor(options: FollowerOptions) {
    this.options = options;
    this.topic = options.topic ?? TOPICS.topology;
    this.logger = options.logger ?? createLogger('topology.follower');
    this.groupId = options.groupId ?? `wsn-topology-follower-${randomUUID()}`;
    ({ transport: this.transport, owned: this.ownsTransport } = topologyTransport(
      { ...options, logger: this.logger },
      { sessionTimeoutMs: FOLLOWER_SESSION_TIMEOUT_MS },
    ));
  }

  /** The latest consistent topology, or null before one was seen (or when it is not kept: `keepTopology`). */
  current(): Topology | null {
    return this.latest?.topology ?? null;
  }

  currentVersion(): string | null {
    return this.latest?.version ?? null;
  }

  health(): FollowerHealth {
    if (!this.subscription)
      return { following: false, reason: this.stopped ? 'stopped' : 'not started', restarts: this.restarts };
    const { problem, restarts } = this.subscription.health?.() ?? { problem: null, restarts: 0 };
    this.restarts = restarts;
    return { following: problem === null, reason: problem, restarts };
  }

  /** Starts following; rejects only when the first connection fails (later failures are retried forever). */
  async start(onTopology?: TopologyListener): Promise<void> {
    this.listener = onTopology;
    this.stopped = false;
    try {
      await ensureTopologyTopic(this.transport, this.topic);
      this.subscription = await this.transport.subscribe({
        groupId: this.groupId,
        topics: [this.topic],
        fromBeginning: true,
        onBatch: (batch) => this.apply(batch.messages),
      });
    } catch (error) {
      // A wrong broker address or refused credentials fail the command that follows.
      if (this.ownsTransport) await this.transport.close().catch(() => undefined);
      throw error;
    }
  }

  /** Takes in a batch of records; announces the topology when they complete a new version. */
  private async apply(messages: IncomingMessage[]): Promise<void> {
    const network = this.options.network;
    let changed = false;
    for (const message of messages) {
      if (message.key === null || !message.key.startsWith(`${network}/`)) continue;
      if (message.tombstone) this.records.delete(message.key);
      else this.records.set(message.key, message.value.toString('utf8'));
      changed = true;
    }
    if (!changed) return;
    const wanted = announcedVersion(network, this.records, this.logger);
    if (wanted === null || wanted === this.latest?.version) return;
    const exported = exportedTopologyFromRecords(network, this.records, this.logger);
    if (!exported) return;
    const { topology, clusters } = exported;
    this.latest = { topology: this.options.keepTopology === false ? null : topology, version: wanted };
    this.logger.info({ network, version: wanted, nodes: topology.network.graph.order }, 'topology updated');
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate(topology, wanted)) return true;
      w.resolve(topology);
      return false;
    });
    try {
      await this.listener?.(topology, wanted, clusters);
    } catch (error) {
      // The version is current all the same; what the listener did with it is its own to retry.
      this.logger.error({ err: error, network, version: wanted }, 'topology listener failed');
    }
  }

  /** Resolves with the first topology (current or future) that satisfies the predicate. */
  waitFor(predicate: (topology: Topology, version: string) => boolean, timeoutMs = 60_000): Promise<Topology> {
    const latest = this.latest;
    if (latest?.topology && predicate(latest.topology, latest.version)) return Promise.resolve(latest.topology);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== wrapped);
        reject(
          new Error(
            `no matching topology on ${this.topic} within ${timeoutMs} ms (latest version ${this.latest?.version ?? 'none'})`,
          ),
        );
      }, timeoutMs);
      const wrapped = (t: Topology): void => {
        clearTimeout(timer);
        resolve(t);
      };
      this.waiters.push({ predicate, resolve: wrapped });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const subscription = this.subscription;
    if (subscription) this.restarts = subscription.health?.().restarts ?? this.restarts;
    this.subscription = null;
    await subscription?.close();
    if (this.ownsTransport) await this.transport.close();
  }
}
