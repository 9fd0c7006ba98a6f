/**
 * `wsn-watch demo` as a user runs it: a child process of the real CLI, no
 * external services. It must serve the dashboard, print an `ALERT firing`
 * line within 60 s naming a node the run actually faulted (the console lists
 * the faults first), show the same in the page in real Chromium, replay IBRL
 * when given the shared recording, and stop cleanly on SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openChromium } from '../../support/browser.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(REPO_ROOT, 'bin/wsn-watch.mjs');
/** The promise: the first alert within 60 s of the command starting. */
const FIRST_ALERT_WITHIN_MS = 60_000;

interface Line {
  text: string;
  /** Milliseconds after the process was spawned. */
  at: number;
}

/** A running `wsn-watch demo`, its stdout read line by line. */
class DemoProcess {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly started = Date.now();
  private waiters: Array<() => void> = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, 'demo', '--port', '0', '--duration', '90', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, WSN_LOG_LEVEL: 'warn' },
    });
    createInterface({ input: this.child.stdout }).on('line', (text) => {
      this.lines.push({ text, at: Date.now() - this.started });
      for (const wake of this.waiters.splice(0)) wake();
    });
    createInterface({ input: this.child.stderr }).on('line', (text) => this.stderr.push(text));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        for (const wake of this.waiters.splice(0)) wake();
        resolve(code);
      }),
    );
  }

  /** The first stdout line matching `pattern`, waiting up to `timeoutMs` after spawn. */
  async line(pattern: RegExp, timeoutMs: number): Promise<Line & { match: RegExpMatchArray }> {
    for (;;) {
      for (const line of this.lines) {
        const match = line.text.match(pattern);
        if (match) return { ...line, match };
      }
      const left = timeoutMs - (Date.now() - this.started);
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(
          `no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${this.lines.map((l) => l.text).join('\n')}\nstderr:\n${this.stderr.join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as T;
}

interface Sample {
  tick: number;
  values: Record<string, number | null>;
  probability: number;
  isAnomaly: boolean;
}

interface Overview {
  network: string;
  topology: { nodes: Array<{ node: string; cluster: string }> };
  clusters: Array<{ cluster: string }>;
}

describe('wsn-watch demo', () => {
  let demo: DemoProcess | undefined;

  afterEach(async () => {
    demo?.stop();
    await demo?.exited;
    demo = undefined;
  });

  it('serves the dashboard and prints an alert on a faulted node of the synthetic network within 60 s', async () => {
    demo = new DemoProcess(['--seed', '1', '--nodes', '48']);
    const dashboard = (await demo.line(/^wsn-watch demo: dashboard (http:\/\/127\.0\.0\.1:\d+)$/, 30_000)).match[1];
    const page = await fetch(`${dashboard}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<svg id="map"');

    const overview = await getJson<Overview>(`${dashboard}/api/networks/default/overview`);
    expect(overview.topology.nodes).toHaveLength(48);
    const summary = (await demo.line(/^network "default": (\d+) nodes in (\d+) clusters/, 30_000)).match;
    expect(Number(summary[1])).toBe(48);
    expect(new Set(overview.topology.nodes.map((n) => n.cluster)).size).toBe(Number(summary[2]));

    const faulted = new Set(
      demo.lines.map((l) => l.text.match(/^fault: \S+ on node (\S+)/)?.[1]).filter((n): n is string => n !== undefined),
    );
    // The simulator's own faults plus the demo's early injections.
    expect(faulted.size).toBeGreaterThanOrEqual(3);

    const alert = await demo.line(/^ALERT firing node (\S+) \(cluster (\S+)\) .* → (http\S+)$/, FIRST_ALERT_WITHIN_MS);
    const [, node, cluster, link] = alert.match;
    expect(alert.at).toBeLessThan(FIRST_ALERT_WITHIN_MS);
    expect(faulted, `alert on node ${node}, faults on ${[...faulted].join(', ')}`).toContain(node);
    expect(overview.topology.nodes.find((n) => n.node === node)?.cluster).toBe(cluster);
    expect(link).toBe(`${dashboard}/node/default/${node}`);

    // The detector wrote the alert and the scores to the store the dashboard reads.
    const { alerts } = await getJson<{ alerts: Array<{ node: string; status: string }> }>(`${dashboard}/api/alerts`);
    expect(alerts.map((a) => a.node)).toContain(node);
    const scored = await getJson<Overview>(`${dashboard}/api/networks/default/overview`);
    expect(scored.clusters.length).toBe(Number(summary[2]));
    expect((await fetch(`${dashboard}${new URL(link).pathname}`)).status).toBe(200);

    // The page in a real browser draws every node and lists the alert.
    const browser = await openChromium();
    try {
      const tab = browser.page;
      await tab.goto(`${dashboard}/`);
      await tab.locator('#status[data-state="live"]').waitFor();
      await expect.poll(() => tab.locator('#map g.node').count(), { timeout: 15_000 }).toBe(48);
      await expect
        .poll(() => tab.locator('#alerts li').allTextContents(), { timeout: 15_000 })
        .toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`\\b${node}\\b`))]));
    } finally {
      await browser.close();
    }

    // SIGTERM: the batch in flight is finished, then the process ends by itself with 0.
    const status = await demo.line(/^status: /, 30_000);
    expect(status.text).toMatch(/ticks\/s · 48 nodes · \d+ clusters · \d+ anomalous now · \d+ alerts? firing/);
    demo.stop();
    expect(await demo.exited).toBe(0);
    expect(
      demo.lines.some((l) => /^demo: stopped after [\d.]+ s: \d+ ticks scored, [1-9]\d* alert\(s\) fired/.test(l.text)),
    ).toBe(true);

    // The closing summary: every announced fault once, with what became of it, then the other nodes that alerted.
    const texts = demo.lines.map((l) => l.text);
    const head = texts.findIndex((t) =>
      /^demo: faults: \d+ detected, \d+ missed, \d+ not reached in event time, \d+ in a modality the model does not see$/.test(
        t,
      ),
    );
    expect(head, texts.join('\n')).toBeGreaterThan(0);
    const announced = texts
      .filter((t) => t.startsWith('fault: '))
      .map(
        (t) =>
          t
            .match(/^fault: (\S+ on node \S+(?: \S+)?) from (\S+?)(?:\.\d{3})?Z /)!
            .slice(1)
            .join(' from ') + 'Z',
      );
    const reported = texts.slice(head + 1, head + 1 + announced.length);
    expect(
      reported.map((t) => t.match(/^ {2}(?:detected|missed|not reached|not seen by the model): (.+?Z)(?::|$)/)?.[1]),
    ).toEqual(announced);
    const detected = reported.filter((t) => t.startsWith('  detected: '));
    expect(detected.length).toBeGreaterThan(0);
    for (const line of detected) {
      const node = line.match(/alert on node (\S+) /)![1];
      expect(
        texts.some((t) => t.startsWith(`ALERT firing node ${node} `)),
        `summary says node ${node} alerted`,
      ).toBe(true);
    }
    expect(texts[head + 1 + announced.length]).toMatch(
      /^ {2}other nodes alerted(: none| \(no fault of their own\): node \S+ )/,
    );
  });

  it('replays the IBRL recording with --data ../shared/data/ibrl and flags the mote with the injected surge', async () => {
    demo = new DemoProcess(['--data', '../shared/data/ibrl']);
    await demo.line(/^source: IBRL replay from \S+ibrl: \d+ motes in node\.txt/, 30_000);
    const summary = (await demo.line(/^network "default": (\d+) nodes in (\d+) clusters/, 30_000)).match;
    // node.txt of the Intel lab lists 54 motes (some of them later silent).
    expect(Number(summary[1])).toBeGreaterThanOrEqual(50);
    const dashboard = (await demo.line(/^wsn-watch demo: dashboard (http:\/\/127\.0\.0\.1:\d+)$/, 30_000)).match[1];
    const overview = await getJson<Overview>(`${dashboard}/api/networks/default/overview`);
    expect(overview.topology.nodes).toHaveLength(Number(summary[1]));

    // The demo's surge goes into a mote's temperature: the stream carries it and the detector flags
    // that mote during it (as an alert line, unless the mote was already alerting for another reason).
    const surge = (await demo.line(/^fault: surge on node (\S+) (\S+) from (\S+) to (\S+) /, 30_000)).match;
    const [, node, modality, from, to] = surge;
    const [fromTs, toTs] = [Date.parse(from), Date.parse(to)];
    expect(fromTs).toBeLessThan(Date.UTC(2004, 2, 5));
    const during = (samples: Sample[]) => samples.filter((s) => s.tick >= fromTs && s.tick <= toTs);
    let samples: Sample[] = [];
    await expect
      .poll(
        async () => {
          samples = (
            await getJson<{ samples: Sample[] }>(`${dashboard}/api/networks/default/nodes/${node}/history?limit=2000`)
          ).samples;
          return samples.some((s) => s.tick > toTs);
        },
        { timeout: FIRST_ALERT_WITHIN_MS, interval: 500 },
      )
      .toBe(true);
    const before = samples
      .filter((s) => s.tick < fromTs && s.values[modality] !== null)
      .map((s) => s.values[modality] as number);
    const surged = during(samples).filter((s) => s.values[modality] !== null);
    expect(surged.length).toBeGreaterThan(3);
    // +20 °C on top of an indoor temperature.
    expect(Math.max(...surged.map((s) => s.values[modality] as number))).toBeGreaterThan(Math.max(...before) + 10);
    expect(surged.some((s) => s.isAnomaly && s.probability > 0.5)).toBe(true);
    const alerted = demo.lines.find((l) => new RegExp(`^ALERT firing node ${node} `).test(l.text));
    expect(alerted, `no ALERT firing line for node ${node}`).toBeDefined();
    expect(alerted!.at).toBeLessThan(FIRST_ALERT_WITHIN_MS);
  });
});
