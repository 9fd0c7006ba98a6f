import { redactUrl, type Logger } from '../../common/log.ts';
import { isActive, type Silence } from '../../common/silences.ts';

/** One matcher of an Alertmanager silence (API v2). */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** An Alertmanager silence as `GET /api/v2/silences` lists it. */
interface GettableSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/**
 * The mark that ties an Alertmanager silence to the wsn-watch silence it
 * mirrors and to its silences topic: a detector manages only the mirrors of
 * its own topic, so deployments (or test runs) sharing an Alertmanager leave
 * each other's silences alone.
 */
const MARK = /\[wsn-watch silence (\S+) from (\S+)\]$/;

export function mirrorComment(silence: Silence, topic: string): string {
  return `${silence.reason} [wsn-watch silence ${silence.id} from ${topic}]`;
}

/** The wsn-watch silence id an Alertmanager silence mirrors, if it is one of this topic's. */
export function mirroredId(comment: string, topic: string): string | undefined {
  const match = MARK.exec(comment);
  return match && match[2] === topic ? match[1] : undefined;
}

/** Matchers on the labels wsn-watch alerts carry (detector/alerts/alertmanager.ts): network, node, and modality when set. */
export function silenceMatchers(silence: Silence): SilenceMatcher[] {
  const matcher = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true });
  return [
    matcher('network', silence.network),
    matcher('node', silence.node),
    ...(silence.modality ? [matcher('modality', silence.modality)] : []),
  ];
}

export interface AlertmanagerSilenceMirrorOptions {
  /** Alertmanager base URL (config alertmanager.url). */
  url: string;
  /** The silences topic mirrored (config silences.topic). */
  topic: string;
  logger?: Logger;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

/**
 * Mirrors wsn-watch silences to Alertmanager silences (API v2), so anything
 * else routed through Alertmanager about the node is muted too and operators
 * see the maintenance in Alertmanager's UI. Reconciling is idempotent: an
 * active or pending wsn-watch silence without a live mirror gets one, and a
 * live mirror whose wsn-watch silence was expired early (or is gone) is
 * expired. Mirrors are found by the mark at the end of their comment.
 */
export class AlertmanagerSilenceMirror {
  private readonly base: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: AlertmanagerSilenceMirrorOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** Brings Alertmanager in line with `silences`; runs after the reconciles before it. Failures are logged, not thrown. */
  reconcile(silences: readonly Silence[], now = Date.now()): Promise<void> {
    const run = this.queue.then(() => this.reconcileNow(silences, now));
    this.queue = run.catch((error: Error) => {
      this.options.logger?.warn(
        { url: redactUrl(this.base), err: error.message },
        'cannot mirror the silences to Alertmanager; retrying at the next change or refresh',
      );
    });
    return this.queue;
  }

  /** The live (active or pending) Alertmanager silences mirroring wsn-watch silences, by wsn-watch id. */
  async mirrors(): Promise<Map<string, GettableSilence[]>> {
    const listed = (await this.request('GET', '/api/v2/silences')) as GettableSilence[];
    const out = new Map<string, GettableSilence[]>();
    for (const silence of listed) {
      const id = mirroredId(silence.comment ?? '', this.options.topic);
      if (id === undefined || silence.status.state === 'expired') continue;
      out.set(id, [...(out.get(id) ?? []), silence]);
    }
    return out;
  }

  private async reconcileNow(silences: readonly Silence[], now: number): Promise<void> {
    const live = await this.mirrors();
    const wanted = new Map(
      silences.filter((s) => isActive(s, now) || s.startsAt > now).map((silence) => [silence.id, silence]),
    );
    for (const silence of wanted.values()) {
      const mirrors = live.get(silence.id) ?? [];
      // Replicas starting together may each have created one: all keep the same (smallest id), expire the rest.
      for (const extra of [...mirrors].sort((a, b) => a.id.localeCompare(b.id)).slice(1)) {
        await this.request('DELETE', `/api/v2/silence/${encodeURIComponent(extra.id)}`);
        this.options.logger?.info({ silence: silence.id, alertmanager: extra.id }, 'duplicate mirror expired');
      }
      if (mirrors.length > 0) continue;
      const created = (await this.request('POST', '/api/v2/silences', {
        matchers: silenceMatchers(silence),
        startsAt: new Date(silence.startsAt).toISOString(),
        endsAt: new Date(silence.endsAt).toISOString(),
        createdBy: silence.author,
        comment: mirrorComment(silence, this.options.topic),
      })) as { silenceID: string };
      this.options.logger?.info({ silence: silence.id, alertmanager: created.silenceID }, 'silence mirrored');
    }
    for (const [id, mirrors] of live) {
      if (wanted.has(id)) continue;
      for (const mirror of mirrors) {
        await this.request('DELETE', `/api/v2/silence/${encodeURIComponent(mirror.id)}`);
        this.options.logger?.info({ silence: id, alertmanager: mirror.id }, 'mirrored silence expired');
      }
    }
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `${method} ${redactUrl(this.base)}${path} answered HTTP ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
}
