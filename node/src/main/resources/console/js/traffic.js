// Traffic charts of one stream: incoming records and bytes, GetRecords records and iterator age,
// per minute over the last hour, for the whole stream or one shard. The numbers come from
// GET /admin/traffic (every node's counters summed, see api.traffic) and are fetched again every
// 30 s while the page is shown. Charts are SVG built node by node (the console's CSP allows no
// inline styles or markup from data), drawn in currentColor so that console.css (.traffic-*) gives
// them their colours and layout; each has a title and description for screen readers, and a
// visually hidden table holds the same numbers.
import * as api from './api.js';
import { h, field, errorBox, table, formatBytes, uid } from './ui.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 30_000;
const MINUTE_MS = 60_000;

// the chart's drawing box (viewBox units); the SVG scales to its container's width
const W = 300;
const H = 160;
const PAD = { left: 62, right: 8, top: 14, bottom: 26 };

const counts = new Intl.NumberFormat('en-US');

const CHARTS = [
  { key: 'incomingRecords', title: 'Incoming records', kind: 'bar', format: (n) => counts.format(n) },
  { key: 'incomingBytes', title: 'Incoming bytes', kind: 'bar', format: (n) => formatBytes(n) },
  { key: 'getRecordsRecords', title: 'GetRecords records', kind: 'bar', format: (n) => counts.format(n) },
  { key: 'iteratorAgeMillis', title: 'Iterator age (ms)', kind: 'line', format: (n) => `${counts.format(n)} ms` },
];

/** An SVG element: attributes set one by one (never markup), children appended (strings become text). */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** HH:MM in UTC of an epoch-millis minute. */
function clockTime(millis) {
  return new Date(millis).toISOString().slice(11, 16);
}

function label(shardId) {
  return shardId || 'All shards';
}

/** One chart: an SVG with title and description, bars (counts) or a line broken where there were no reads (age). */
function chart(spec, values, start, scope) {
  const n = values.length;
  const present = values.filter((v) => v !== null && v !== undefined);
  const max = present.length ? Math.max(...present) : 0;
  const top = max > 0 ? max : 1;
  const pw = W - PAD.left - PAD.right;
  const ph = H - PAD.top - PAD.bottom;
  const step = pw / n;
  const x = (i) => PAD.left + i * step;
  const y = (v) => PAD.top + ph - (v / top) * ph;
  const end = start + (n - 1) * MINUTE_MS;

  const id = uid('traffic-chart');
  const title = `${spec.title} per minute, ${label(scope)}`;
  let summary;
  if (spec.kind === 'bar') {
    const total = present.reduce((a, b) => a + b, 0);
    const peakAt = values.indexOf(max);
    summary = max > 0
      ? `Total ${spec.format(total)} over the last ${n} minutes (${clockTime(start)} to ${clockTime(end)} UTC); `
        + `peak ${spec.format(max)} at ${clockTime(start + peakAt * MINUTE_MS)} UTC.`
      : `None in the last ${n} minutes (${clockTime(start)} to ${clockTime(end)} UTC).`;
  } else {
    summary = present.length
      ? `Largest ${spec.format(max)} in the last ${n} minutes (${clockTime(start)} to ${clockTime(end)} UTC); `
        + `GetRecords answered in ${present.length} of them.`
      : `No GetRecords in the last ${n} minutes (${clockTime(start)} to ${clockTime(end)} UTC).`;
  }

  const plot = svg('g', { class: 'traffic-plot' });
  if (spec.kind === 'bar') {
    values.forEach((v, i) => {
      if (!v) return;
      const barTop = y(v);
      plot.append(svg('rect', {
        x: (x(i) + step * 0.1).toFixed(2), y: barTop.toFixed(2),
        width: (step * 0.8).toFixed(2), height: Math.max(0.5, PAD.top + ph - barTop).toFixed(2),
        fill: 'currentColor', class: 'traffic-bar',
      }));
    });
  } else {
    // a path broken at minutes without reads; a lone minute is a dot
    let d = '';
    let run = 0;
    values.forEach((v, i) => {
      if (v === null || v === undefined) { run = 0; return; }
      const cx = x(i) + step / 2;
      d += `${run === 0 ? 'M' : 'L'}${cx.toFixed(2)} ${y(v).toFixed(2)} `;
      run++;
      const next = values[i + 1];
      if (run === 1 && (next === null || next === undefined)) {
        plot.append(svg('circle', { cx: cx.toFixed(2), cy: y(v).toFixed(2), r: 1.6, fill: 'currentColor', class: 'traffic-dot' }));
      }
    });
    if (d) plot.append(svg('path', { d: d.trim(), fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5, class: 'traffic-line' }));
  }

  const axes = svg('g', { class: 'traffic-axes', fill: 'currentColor', 'font-size': 12 },
    svg('line', { x1: PAD.left, y1: PAD.top + ph, x2: W - PAD.right, y2: PAD.top + ph, stroke: 'currentColor', 'stroke-width': 0.5 }),
    svg('line', { x1: PAD.left, y1: PAD.top, x2: W - PAD.right, y2: PAD.top, stroke: 'currentColor', 'stroke-width': 0.25, 'stroke-dasharray': '2 2' }),
    svg('text', { x: PAD.left - 4, y: PAD.top + 4, 'text-anchor': 'end', class: 'traffic-max' }, spec.format(max)),
    svg('text', { x: PAD.left - 4, y: PAD.top + ph + 4, 'text-anchor': 'end' }, '0'));
  for (const i of [0, 20, 40, n - 1]) {
    if (i > n - 1) continue;
    axes.append(svg('text', {
      x: (x(i) + step / 2).toFixed(2), y: H - 8, 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle',
    }, clockTime(start + i * MINUTE_MS)));
  }

  const graphic = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`,
    'aria-label': `${title}. ${summary}`, class: 'traffic-svg', focusable: 'false',
  }, svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, summary), axes, plot);

  return h('figure', { class: 'traffic-chart', 'data-metric': spec.key }, h('figcaption', {}, spec.title), graphic);
}

/** The same numbers as a table, hidden on screen, for screen readers. */
function numbers(series, start, scope) {
  const rows = series.incomingRecords.map((_, i) => ({ i, time: start + i * MINUTE_MS }));
  const t = table({
    caption: `Traffic per minute, ${label(scope)} (UTC)`,
    columns: [
      { label: 'Minute (UTC)', cell: (r) => clockTime(r.time) },
      ...CHARTS.map((spec) => ({
        label: spec.title,
        cell: (r) => {
          const v = series[spec.key][r.i];
          return v === null || v === undefined ? 'no GetRecords' : spec.format(v);
        },
      })),
    ],
    rows,
    empty: 'No minutes.',
  });
  // console.css's sr-only: hidden on screen, read by screen readers
  return h('div', { class: 'traffic-numbers sr-only' }, t);
}

/**
 * Renders the charts of `streamName` into `container` and keeps them fresh every 30 s while the
 * page is shown. Returns a function that stops the refreshing (call it when leaving the page).
 */
export function renderTraffic(container, streamName) {
  let data = null;
  let scope = '';
  let timer = null;
  let inFlight = false;
  let lastFetch = 0;
  let stopped = false;

  const select = h('select', { name: 'shard', class: 'traffic-shard' });
  select.addEventListener('change', () => { scope = select.value; draw(); });
  const status = h('p', { class: 'traffic-status' }, 'Loading traffic…');
  const error = h('div', { class: 'traffic-error' });
  const charts = h('div', { class: 'traffic-charts' });
  const hidden = h('div', {});
  container.append(h('div', { class: 'traffic-view' }, field('Shard', select), status, error, charts, hidden));
  options([]);

  function options(shardIds) {
    const wanted = ['', ...shardIds];
    const have = [...select.options].map((o) => o.value);
    if (wanted.join('\n') === have.join('\n')) return;
    if (!wanted.includes(scope)) scope = '';
    select.replaceChildren(...wanted.map((v) => {
      const o = h('option', { value: v }, label(v));
      o.selected = v === scope;
      return o;
    }));
  }

  function draw() {
    if (!data) return;
    const series = scope ? data.shards[scope] : data.total;
    if (!series) return;
    charts.replaceChildren(...CHARTS.map((spec) => chart(spec, series[spec.key], data.start, scope)));
    hidden.replaceChildren(numbers(series, data.start, scope));
  }

  async function refresh() {
    if (stopped || inFlight) return;
    inFlight = true;
    lastFetch = Date.now();
    try {
      const answer = await api.traffic(streamName);
      if (stopped) return;
      data = answer;
      error.replaceChildren();
      options(Object.keys(answer.shards || {}));
      const nodes = answer.nodes === 1 ? '1 node' : `${answer.nodes} nodes`;
      status.textContent = `Per minute, last ${answer.minutes} minutes. Updated ${new Date().toISOString().slice(11, 19)} UTC `
        + `from ${nodes}; refreshed every 30 seconds.`;
      draw();
    } catch (err) {
      if (stopped) return;
      error.replaceChildren(errorBox(err));
      if (!data) status.textContent = 'Traffic unavailable.';
    } finally {
      inFlight = false;
    }
  }

  function tick() {
    if (!container.isConnected) { stop(); return; }
    if (document.visibilityState === 'visible') refresh();
  }

  function onVisibility() {
    if (document.visibilityState === 'visible' && Date.now() - lastFetch >= REFRESH_MS) refresh();
  }

  function stop() {
    stopped = true;
    if (timer !== null) clearInterval(timer);
    timer = null;
    document.removeEventListener('visibilitychange', onVisibility);
  }

  document.addEventListener('visibilitychange', onVisibility);
  timer = setInterval(tick, REFRESH_MS);
  refresh();
  return stop;
}
