// @ts-check
// Small inline SVG line charts for the node drill-down: measured values
// against the model's reconstruction, and the anomaly probability.

import { svg } from './map.js';

const W = 420,
  H = 130;
const PAD = { left: 40, right: 8, top: 8, bottom: 20 };

/** @param {number} ms */
export function formatTime(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

/** @param {number} v */
function formatValue(v) {
  const abs = Math.abs(v);
  if (abs >= 1000) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * @typedef {{ name: string, className: string, points: Array<[number, number | null]> }} Series
 * @typedef {{ title: string, series: Series[], yMin?: number, yMax?: number, threshold?: number,
 *           anomalousTicks?: number[], tickMs?: number, key?: Array<{label: string, className: string}> }} ChartOptions
 * @typedef {{ t0: number, t1: number, y0: number, y1: number,
 *           sx: (t: number) => number, sy: (v: number) => number }} Scale
 */

/** @param {ChartOptions} options */
export function lineChart(options) {
  const figure = document.createElement('figure');
  figure.className = 'chart';
  figure.style.margin = '0';
  figure.append(chartHeading(options));

  const all = options.series.flatMap((s) => s.points);
  const times = all.map((p) => p[0]);
  const values = /** @type {number[]} */ (all.map((p) => p[1]).filter((v) => v !== null && Number.isFinite(v)));
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': options.title });
  figure.append(root);
  if (times.length === 0 || values.length === 0) {
    const empty = svg('text', { class: 'axis', x: W / 2, y: H / 2, 'text-anchor': 'middle' });
    empty.textContent = 'no samples yet';
    root.append(empty);
    return figure;
  }
  const scale = chartScale(times, values, options);
  drawAxes(root, scale);
  drawMarks(root, scale, options);
  for (const series of options.series) root.append(seriesPath(series, scale));
  return figure;
}

/** The chart's title with its key of line styles. @param {ChartOptions} options */
function chartHeading(options) {
  const heading = document.createElement('h3');
  heading.textContent = options.title;
  if (options.key) {
    const key = document.createElement('span');
    key.className = 'key';
    for (const item of options.key) {
      const entry = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.className = item.className;
      entry.append(swatch, item.label);
      key.append(entry);
    }
    heading.append(key);
  }
  return heading;
}

/**
 * Time and value ranges and their maps to the drawing; a free value axis gets
 * a margin, a flat one a unit of height.
 * @param {number[]} times @param {number[]} values @param {ChartOptions} options
 * @returns {Scale}
 */
function chartScale(times, values, options) {
  const t0 = Math.min(...times),
    t1 = Math.max(...times);
  let y0 = options.yMin ?? Math.min(...values),
    y1 = options.yMax ?? Math.max(...values);
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = options.yMin === undefined ? (y1 - y0) * 0.08 : 0;
  y0 -= pad;
  y1 += pad;
  const sx = (/** @type {number} */ t) => PAD.left + ((t - t0) / Math.max(t1 - t0, 1)) * (W - PAD.left - PAD.right);
  const sy = (/** @type {number} */ v) => H - PAD.bottom - ((v - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  return { t0, t1, y0, y1, sx, sy };
}

/** Grid lines with value labels, and the first and last time. @param {SVGElement} root @param {Scale} scale */
function drawAxes(root, { t0, t1, y0, y1, sx, sy }) {
  for (const frac of [0, 0.5, 1]) {
    const v = y0 + (y1 - y0) * frac;
    root.append(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: sy(v), y2: sy(v) }));
    const label = svg('text', { class: 'axis', x: PAD.left - 5, y: sy(v) + 3, 'text-anchor': 'end' });
    label.textContent = formatValue(v);
    root.append(label);
  }
  for (const [t, anchor] of /** @type {Array<[number, string]>} */ ([
    [t0, 'start'],
    [t1, 'end'],
  ])) {
    const label = svg('text', { class: 'axis', x: sx(t), y: H - 5, 'text-anchor': anchor });
    label.textContent = `${formatTime(t)} UTC`;
    root.append(label);
  }
}

/** The flagged ticks as bands and the threshold as a line. @param {SVGElement} root @param {Scale} scale @param {ChartOptions} options */
function drawMarks(root, { t0, t1, sx, sy }, options) {
  // Shade the ticks the detector flagged, so a reader sees where the lines part.
  const band = Math.max(2, ((options.tickMs ?? 0) / Math.max(t1 - t0, 1)) * (W - PAD.left - PAD.right));
  for (const t of options.anomalousTicks ?? []) {
    root.append(
      svg('rect', {
        class: 'anomalous-band',
        x: sx(t) - band / 2,
        y: PAD.top,
        width: band,
        height: H - PAD.top - PAD.bottom,
      }),
    );
  }
  if (options.threshold !== undefined) {
    root.append(
      svg('line', {
        class: 'threshold',
        x1: PAD.left,
        x2: W - PAD.right,
        y1: sy(options.threshold),
        y2: sy(options.threshold),
      }),
    );
  }
}

/** One series as a path. @param {Series} series @param {Scale} scale */
function seriesPath(series, { sx, sy }) {
  // A null value breaks the line instead of drawing a misleading straight segment.
  let d = '';
  let pen = false;
  for (const [t, v] of series.points) {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${sx(t).toFixed(1)} ${sy(v).toFixed(1)} `;
    pen = true;
  }
  return svg('path', { class: series.className, d: d.trim(), 'data-series': series.name });
}
