// @ts-check
// The built-in live dashboard: fetches the overview, re-reads it whenever the
// server pushes a change over Server-Sent Events, and shows one node's
// readings against the model's reconstruction when a node is selected.

import { renderMap, clusterColours, probabilityColour, naturalCompare } from './map.js';
import { lineChart, formatTime } from './charts.js';

/** Units of the modalities wsn-watch knows by name (common/types.ts KNOWN_MODALITIES), in that order. */
/** @type {Record<string, string>} */
const UNITS = { temperature: '°C', humidity: '%RH', light: 'lux', voltage: 'V' };
const KNOWN = Object.keys(UNITS);

/** Known modalities first in their usual order, then any others alphabetically. @param {string} a @param {string} b */
function modalityOrder(a, b) {
  const ia = KNOWN.indexOf(a),
    ib = KNOWN.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? Infinity : ia) - (ib < 0 ? Infinity : ib);
  return a.localeCompare(b);
}

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** @type {string | null} */ network: null,
  /** @type {string | null} */ node: null,
  /** @type {any} */ overview: null,
  updates: 0,
  /** @type {ReturnType<typeof setTimeout> | null} */ pending: null,
};

/** @param {string} url */
async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

function parseLocation() {
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'node' && parts.length === 3) return { network: parts[1], node: parts[2] };
  return { network: new URLSearchParams(location.search).get('network'), node: null };
}

/** @param {string} network @param {string} node */
function nodePath(network, node) {
  return `/node/${encodeURIComponent(network)}/${encodeURIComponent(node)}`;
}

/** @param {string | null} node */
function navigate(node) {
  const net = /** @type {string} */ (state.network);
  const target = node ? nodePath(net, node) : `/?network=${encodeURIComponent(net)}`;
  history.pushState(null, '', target);
  state.node = node;
  renderOverview();
  void refreshNode();
}

/**
 * One fact of a summary line: `value` in bold with `label` after it (before
 * it with `labelFirst`), red when `bad`.
 * @param {string} label
 * @param {string} value
 * @param {{ bad?: boolean, labelFirst?: boolean }} [how]
 */
function fact(label, value, { bad = false, labelFirst = false } = {}) {
  const span = document.createElement('span');
  if (bad) span.className = 'bad';
  const b = document.createElement('b');
  b.textContent = value;
  if (labelFirst) span.append(`${label} `, b);
  else span.append(b, ` ${label}`);
  return span;
}

function renderSummary() {
  const { clusters, topology, alerts } = state.overview;
  const nodeScores = clusters.flatMap((/** @type {any} */ c) => c.nodes);
  // The detector's verdict (with the threshold it runs with), not a comparison with the display threshold.
  const anomalous = nodeScores.filter((/** @type {any} */ n) => n.isAnomaly).length;
  const firing = alerts.filter((/** @type {any} */ a) => a.status === 'firing').length;
  const lastTick = clusters.reduce((/** @type {number} */ t, /** @type {any} */ c) => Math.max(t, c.tick), 0);
  const summary = $('summary');
  summary.replaceChildren();
  /** @param {string} label @param {string} value @param {boolean} [bad] */
  const item = (label, value, bad = false) => summary.append(fact(label, value, { bad }));
  item('nodes', String(topology.nodes.length));
  item('clusters', String(new Set(topology.nodes.map((/** @type {any} */ n) => n.cluster)).size));
  item('anomalous', String(anomalous), anomalous > 0);
  item('firing', String(firing), firing > 0);
  item(lastTick ? `last tick ${formatTime(lastTick)} UTC` : 'no scores yet', '');
}

/**
 * Shows one grey line in an empty list.
 * @param {HTMLElement} list
 * @param {string} text
 */
function showEmpty(list, text) {
  const li = document.createElement('li');
  li.className = 'empty';
  li.textContent = text;
  list.append(li);
}

/**
 * Empties a side panel's list and shows `count` in the panel head (with
 * `countClass` while it is not zero). With no entries it shows `emptyText`
 * and returns undefined; otherwise the list, for the entries.
 * @param {{ list: string, count: string, countClass?: string, emptyText: string }} panel
 * @param {number} count
 * @param {number} entries
 * @returns {HTMLElement | undefined}
 */
function openPanelList(panel, count, entries) {
  const list = $(panel.list);
  list.replaceChildren();
  const head = $(panel.count);
  head.textContent = String(count);
  head.className = count && panel.countClass ? `count ${panel.countClass}` : 'count';
  if (entries > 0) return list;
  showEmpty(list, panel.emptyText);
  return undefined;
}

/**
 * A span of class `className` showing `text`.
 * @param {string} className
 * @param {string} text
 */
function textSpan(className, text) {
  const span = document.createElement('span');
  span.className = className;
  span.textContent = text;
  return span;
}

/**
 * A panel entry of three lines: a title, a time and a grey detail.
 * @param {string} className
 * @param {{ title: string, when: string, detail: string }} lines
 */
function threeLineEntry(className, lines) {
  const li = document.createElement('li');
  li.className = className;
  li.append(textSpan('title', lines.title), textSpan('until', lines.when), textSpan('detail', lines.detail));
  return li;
}

function renderAlerts() {
  const { alerts } = state.overview;
  const firing = alerts.filter((/** @type {any} */ a) => a.status === 'firing');
  const list = openPanelList(
    {
      list: 'alerts',
      count: 'alert-count',
      countClass: 'firing',
      emptyText: 'No alerts. All nodes within expected behaviour.',
    },
    firing.length,
    alerts.length,
  );
  if (!list) return;
  for (const alert of alerts) {
    const li = document.createElement('li');
    li.className = `alert ${alert.status}`;
    li.dataset.node = alert.node;
    const a = document.createElement('a');
    a.href = nodePath(alert.network, alert.node);
    a.addEventListener('click', (event) => {
      if (alert.network !== state.network) return;
      event.preventDefault();
      navigate(alert.node);
    });
    // A topology alert is informational: it names the change (added, moved, removed), not a modality.
    const title =
      alert.kind === 'topology'
        ? `Node ${alert.node} · ${alert.change ?? 'topology'}`
        : `Node ${alert.node} · ${alert.modality}`;
    const detail =
      alert.status === 'firing'
        ? `${alert.cluster} · firing since ${formatTime(alert.startsAt)} UTC`
        : `${alert.cluster} · resolved ${formatTime(alert.endsAt ?? alert.startsAt)} UTC`;
    a.append(
      textSpan('sev', ''),
      textSpan('title', title),
      textSpan('prob', `p ${alert.probability.toFixed(2)}`),
      textSpan('detail', detail),
    );
    li.append(a);
    const marked = markOf(alert);
    if (marked) {
      const falseAlarm = marked.verdict === 'false';
      li.append(
        textSpan(
          `feedback-mark ${falseAlarm ? 'false-alarm' : 'confirmed'}`,
          `${falseAlarm ? 'marked false alarm' : 'confirmed'} by ${marked.author}`,
        ),
      );
    }
    if (state.overview.feedbackEnabled && alert.kind === 'anomaly') li.append(feedbackButtons(alert));
    const outcome = feedbackOutcomes.get(alert.id);
    if (outcome) li.append(textSpan(outcome.ok ? 'feedback-result' : 'feedback-result error', outcome.text));
    list.append(li);
  }
}

/** The operator's mark of this episode of the alert, if any. @param {any} alert */
function markOf(alert) {
  const marks = state.overview.feedback ?? [];
  return marks.find((/** @type {any} */ f) => f.alertId === alert.id && f.alertStartsAt === alert.startsAt);
}

/** "false alarm" and "confirm" buttons of one alert (POST /api/feedback with the operator's token). @param {any} alert */
function feedbackButtons(alert) {
  const box = document.createElement('span');
  box.className = 'feedback-actions';
  for (const [verdict, label] of [
    ['false', 'false alarm'],
    ['true', 'confirm'],
  ]) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.verdict = verdict;
    button.textContent = label;
    button.addEventListener('click', () => void markAlert(alert, verdict));
    box.append(button);
  }
  return box;
}

const TOKEN_KEY = 'wsn-feedback-token';
/** The answer to the last mark of each alert, kept across re-renders of the list. @type {Map<string, {ok: boolean, text: string}>} */
const feedbackOutcomes = new Map();

/** Sends the mark; asks for the token once per browser tab. @param {any} alert @param {string} verdict */
async function markAlert(alert, verdict) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) token = window.prompt('Feedback token (feedback.token of the dashboard)') ?? '';
  if (!token) return;
  const res = await fetch('/api/feedback', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ alert: alert.id, verdict }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  else if (res.ok) sessionStorage.setItem(TOKEN_KEY, token);
  feedbackOutcomes.set(alert.id, {
    ok: res.ok,
    text: res.ok ? body.message : `not marked: ${body.error ?? `HTTP ${res.status}`}`,
  });
  renderAlerts();
  if (res.ok) scheduleRefresh();
}

/** The newest marks of the network's alerts (`wsn-watch feedback mark`, the buttons above). */
function renderFeedback() {
  const marks = state.overview.feedback ?? [];
  const list = openPanelList(
    {
      list: 'feedback',
      count: 'feedback-count',
      emptyText: 'No feedback yet. Mark an alert a false alarm to raise its node’s threshold.',
    },
    marks.length,
    marks.length,
  );
  if (!list) return;
  for (const mark of marks.slice(0, 20)) {
    const falseAlarm = mark.verdict === 'false';
    const li = threeLineEntry(`mark ${falseAlarm ? 'false-alarm' : 'confirmed'}`, {
      title: `Node ${mark.node} · ${falseAlarm ? 'false alarm' : 'confirmed'}`,
      when: `${formatTime(mark.markedAt)} UTC`,
      detail: `${mark.modality} · peak ${Number(mark.probability).toFixed(2)} · by ${mark.author}${mark.note ? ` · ${mark.note}` : ''}`,
    });
    li.dataset.alert = mark.alertId;
    list.append(li);
  }
}

function renderClusters() {
  const { clusters, topology, threshold } = state.overview;
  const names = [...new Set(topology.nodes.map((/** @type {any} */ n) => n.cluster))].sort(naturalCompare);
  const colours = clusterColours(names);
  const byName = new Map(clusters.map((/** @type {any} */ c) => [c.cluster, c]));
  const list = $('clusters');
  list.replaceChildren();
  for (const name of names) {
    const score = byName.get(name);
    const members = topology.nodes.filter((/** @type {any} */ n) => n.cluster === name).length;
    const li = document.createElement('li');
    li.dataset.cluster = name;
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = colours.get(name) ?? '#8b96a5';
    const body = document.createElement('div');
    const label = document.createElement('div');
    label.className = 'name';
    label.textContent = name;
    const small = document.createElement('small');
    small.textContent = `${members} nodes`;
    label.append(small);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${Math.round((score?.probability ?? 0) * 100)}%`;
    fill.style.background = score ? probabilityColour(score.probability, threshold) : '#4b5563';
    bar.append(fill);
    body.append(label, bar);
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = score ? score.probability.toFixed(2) : '–';
    li.append(swatch, body, value);
    list.append(li);
  }
}

const TOP_NODES = 6;

function renderTopNodes() {
  const { clusters, threshold } = state.overview;
  const ranked = clusters
    .flatMap((/** @type {any} */ c) => c.nodes.map((/** @type {any} */ n) => ({ ...n, cluster: c.cluster })))
    .sort(
      (/** @type {any} */ a, /** @type {any} */ b) => b.probability - a.probability || naturalCompare(a.node, b.node),
    )
    .slice(0, TOP_NODES);
  const list = $('top-nodes');
  list.replaceChildren();
  if (ranked.length === 0) {
    showEmpty(list, 'No scores yet.');
    return;
  }
  for (const n of ranked) {
    const li = document.createElement('li');
    li.dataset.node = n.node;
    li.tabIndex = 0;
    li.addEventListener('click', () => navigate(n.node));
    const swatch = document.createElement('span');
    swatch.className = 'swatch dot';
    swatch.style.background = probabilityColour(n.probability, threshold);
    const body = document.createElement('div');
    const label = document.createElement('div');
    label.className = 'name';
    label.textContent = `Node ${n.node}`;
    const small = document.createElement('small');
    small.textContent = n.cluster;
    label.append(small);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${Math.round(n.probability * 100)}%`;
    fill.style.background = probabilityColour(n.probability, threshold);
    bar.append(fill);
    body.append(label, bar);
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = n.probability.toFixed(2);
    li.append(swatch, body, value);
    list.append(li);
  }
}

/** The silences in force (`wsn-watch silence add`): alerts of these nodes are suppressed, scores still shown. */
function renderSilences() {
  const silences = state.overview.silences ?? [];
  const list = openPanelList(
    { list: 'silences', count: 'silence-count', countClass: 'silenced', emptyText: 'No silences. Every node alerts.' },
    silences.length,
    silences.length,
  );
  if (!list) return;
  for (const silence of silences) {
    const li = threeLineEntry('silence', {
      title: `Node ${silence.node} · ${silence.modality ?? 'all alerts'}`,
      when: `until ${formatTime(silence.endsAt)} UTC`,
      detail: `${silence.reason} · by ${silence.author} · ${silence.id}`,
    });
    li.dataset.node = silence.node;
    li.dataset.silence = silence.id;
    list.append(li);
  }
}

/** The model version(s) that scored the clusters' newest ticks; two during a swap, when clusters are on either side of it. */
function renderModelVersion() {
  const box = $('model-version');
  const versions = [...new Set((state.overview.clusters ?? []).map((c) => c.model).filter(Boolean))].sort();
  box.hidden = versions.length === 0;
  box.textContent = versions.length === 1 ? `model ${versions[0]}` : `models ${versions.join(', ')}`;
}

function renderOverview() {
  if (!state.overview) return;
  const tick = $('legend-threshold');
  tick.textContent = String(state.overview.threshold);
  tick.style.left = `${state.overview.threshold * 100}%`;
  renderSummary();
  renderModelVersion();
  renderMap(/** @type {any} */ ($('map')), state.overview, state.node, (node) => navigate(node));
  renderAlerts();
  renderSilences();
  renderFeedback();
  renderClusters();
  renderTopNodes();
}

async function refreshOverview() {
  if (!state.network) return;
  state.overview = await getJson(`/api/networks/${encodeURIComponent(state.network)}/overview`);
  renderOverview();
}

async function refreshNode() {
  const panel = $('node-panel');
  if (!state.node || !state.network) {
    panel.hidden = true;
    return;
  }
  const node = state.node;
  const data = await getJson(
    `/api/networks/${encodeURIComponent(state.network)}/nodes/${encodeURIComponent(node)}/history`,
  );
  if (state.node !== node) return;
  panel.hidden = false;
  panel.dataset.node = node;
  const samples = /** @type {Array<any>} */ (data.samples);
  const last = samples[samples.length - 1];
  $('node-title').textContent = `Node ${node}`;
  const meta = $('node-meta');
  meta.replaceChildren();
  /** @param {string} label @param {string} value @param {boolean} [bad] */
  const item = (label, value, bad = false) => meta.append(fact(label, value, { bad, labelFirst: true }));
  item('cluster', data.cluster);
  if (last) {
    item('probability', last.probability.toFixed(2), last.isAnomaly);
    item('last tick', `${formatTime(last.tick)} UTC`);
  }
  item('samples', String(samples.length));
  const modalities = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort(modalityOrder);
  const anomalousTicks = samples.filter((s) => s.isAnomaly).map((s) => s.tick);
  const tickMs = samples.length > 1 ? (samples[samples.length - 1].tick - samples[0].tick) / (samples.length - 1) : 0;
  const charts = $('charts');
  charts.replaceChildren();
  for (const modality of modalities) {
    const chart = lineChart({
      title: UNITS[modality] ? `${modality} (${UNITS[modality]})` : modality,
      key: [
        { label: 'measured', className: 'measured' },
        { label: 'reconstruction', className: 'recon' },
      ],
      series: [
        { name: 'measured', className: 'measured', points: samples.map((s) => [s.tick, s.values[modality] ?? null]) },
        {
          name: 'reconstruction',
          className: 'reconstruction',
          points: samples.map((s) => [s.tick, s.reconstruction[modality] ?? null]),
        },
      ],
      anomalousTicks,
      tickMs,
    });
    chart.dataset.modality = modality;
    charts.append(chart);
  }
  const probability = lineChart({
    title: 'anomaly probability',
    key: [{ label: `threshold ${data.threshold}`, className: 'thresh' }],
    series: [{ name: 'probability', className: 'probability', points: samples.map((s) => [s.tick, s.probability]) }],
    yMin: 0,
    yMax: 1,
    threshold: data.threshold,
    anomalousTicks,
    tickMs,
  });
  probability.dataset.modality = 'probability';
  charts.append(probability);
}

function scheduleRefresh() {
  // Several clusters report the same tick in a burst: coalesce into one re-read.
  if (state.pending) return;
  state.pending = setTimeout(async () => {
    state.pending = null;
    try {
      await refreshOverview();
      await refreshNode();
      state.updates += 1;
      document.body.dataset.updates = String(state.updates);
    } catch (error) {
      console.error(error);
    }
  }, 150);
}

function connect() {
  const status = $('status');
  const text = $('status-text');
  const events = new EventSource('/events');
  events.addEventListener('hello', () => {
    status.dataset.state = 'live';
    text.textContent = 'live';
    // A reconnect may have missed changes: re-read once.
    scheduleRefresh();
  });
  events.addEventListener('change', (event) => {
    const change = JSON.parse(/** @type {MessageEvent} */ (event).data);
    if (state.network === null) {
      // The first results of a fresh deployment: show their network.
      state.network = change.network;
      const select = /** @type {HTMLSelectElement} */ ($('network'));
      select.append(new Option(change.network, change.network));
      select.value = change.network;
    }
    if (change.network === state.network) scheduleRefresh();
  });
  events.addEventListener('error', () => {
    status.dataset.state = 'offline';
    text.textContent = 'reconnecting…';
  });
}

async function start() {
  const wanted = parseLocation();
  const { networks } = await getJson('/api/networks');
  const select = /** @type {HTMLSelectElement} */ ($('network'));
  for (const name of networks) select.append(new Option(name, name));
  state.network = wanted.network && networks.includes(wanted.network) ? wanted.network : (networks[0] ?? null);
  state.node = wanted.node;
  if (state.network) select.value = state.network;
  select.addEventListener('change', () => {
    state.network = select.value;
    state.node = null;
    history.pushState(null, '', `/?network=${encodeURIComponent(select.value)}`);
    void refreshOverview().then(refreshNode);
  });
  $('node-close').addEventListener('click', (event) => {
    event.preventDefault();
    navigate(null);
  });
  window.addEventListener('popstate', () => {
    const here = parseLocation();
    state.node = here.node;
    renderOverview();
    void refreshNode();
  });
  if (!state.network) $('summary').textContent = 'No results yet: waiting for the detector’s first scores…';
  await refreshOverview();
  await refreshNode();
  connect();
}

void start();
