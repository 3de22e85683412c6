import { PAGE_DOM_HELPERS } from '@spectrum-grocers/runtime';

/**
 * The dashboard's script: renders each `state` the control room sends, draws the events per
 * second with uPlot, opens the causal trace of a clicked payment, alert or delivery, and says
 * when the stream is lost. What came from the wire is set as text, never as markup.
 */
export const CONTROL_ROOM_SCRIPT = `'use strict';
${PAGE_DOM_HELPERS}const NUMERIC = ['amount', 'left', 'quantity', '/s'];
const head = (...names) => row(...names.map((n) => el('th', NUMERIC.includes(n) ? 'num' : '', n)));
function table(id, names, rows, empty) {
  const none = cell(empty, 'muted');
  none.colSpan = names.length;
  $(id).replaceChildren(head(...names), ...(rows.length ? rows : [row(none)]));
}
function time(ts) { const d = new Date(ts); return ts && !isNaN(d) ? d.toLocaleTimeString() : '—'; }
const money = (n) => '$' + Number(n).toFixed(2);
const customer = (name, id) => name || 'customer ' + id;
let products = new Map();
const product = (id, name) => name || products.get(id) || 'product ' + id;
/** A row the operator clicks (or focuses and presses Enter on) for its event's causal trace. */
function traced(tr, event, id) {
  tr.className = 'traced';
  tr.dataset.event = event;
  tr.dataset.eventId = id;
  tr.tabIndex = 0;
  tr.title = 'Show the causal trace';
  return tr;
}
function item(i) {
  const div = el('div', 'item' + (i.state === 'ok' ? '' : ' ' + i.state));
  div.dataset.product = i.product_id;
  div.append(el('span', '', i.name), el('span', '', i.quantity));
  return div;
}
function badge(id, n, text, cls) { const b = $(id); b.textContent = n + ' ' + text; b.className = 'badge' + (n > 0 ? ' ' + cls : ''); }

let plot;
/** The mean of the last n seconds at each second: a trend the eye can follow through single-second spikes. */
function mean(counts, n) {
  let sum = 0;
  return counts.map((c, i) => { sum += c - (i >= n ? counts[i - n] : 0); return sum / Math.min(n, i + 1); });
}
/** The last 15 minutes, one point a second, and their 10-second mean; the x axis spans the whole window. */
function chart(series) {
  const box = $('chart');
  const xs = series.counts.map((_, i) => series.from + i);
  box.dataset.points = String(xs.length);
  if (xs.length === 0) return;
  const data = [xs, series.counts, mean(series.counts, 10)];
  if (plot) return plot.setData(data);
  plot = new uPlot({
    width: box.clientWidth, height: 170, legend: { show: false }, cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: (u, min, max) => [max - 900, max] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    axes: [{ stroke: '#4a5565', grid: { stroke: '#eceff3' } }, { stroke: '#4a5565', grid: { stroke: '#eceff3' }, size: 40 }],
    series: [{},
      { label: 'events/s', stroke: 'rgba(15,123,58,.35)', fill: 'rgba(15,123,58,.12)', width: 1, points: { show: false } },
      { label: '10 s mean', stroke: '#0f7b3a', width: 2, points: { show: false } }],
  }, data, box);
  window.addEventListener('resize', () => plot.setSize({ width: box.clientWidth, height: 170 }));
}

function render(s) {
  products = new Map(s.stock.map((i) => [i.product_id, i.name]));
  $('meta').textContent = 'store ' + s.store + ' · broker ' + s.broker + ' · ' + s.events + ' events kept';
  document.body.classList.toggle('down', s.broker !== 'up');
  $('banner').textContent = s.broker === 'up' ? '' : 'The control room has lost the broker — the figures below are stale';
  table('services', ['service', 'status', 'since'], s.services.map((x) => {
    const td = el('td'); td.append(el('span', 'pill ' + x.status, x.status));
    return row(cell(x.service), td, cell(time(x.timestamp), 'muted'));
  }), '');
  chart(s.series);
  table('rates', ['topic', '/s'], s.rates.slice(0, 6).map((r) => row(cell(r.topic), cell(r.perSecond.toFixed(1), 'num'))), 'quiet');

  const dead = s.deadLetters;
  $('dead').textContent = dead.total;
  $('dead-by').textContent = Object.entries(dead.byService).map(([k, v]) => k + ': ' + v).join(' · ');
  table('dead-letters', ['time', 'service', 'reason'], dead.latest.map((d) => {
    const reason = cell(d.reason, 'reason');
    if (d.topic) reason.append(el('small', '', d.topic));
    return row(cell(time(d.timestamp)), cell(d.service), reason);
  }), 'none');
  badge('badge-dead', dead.total, 'dead letters', 'alert');

  table('payments', ['time', 'customer', 'amount', 'payment'], s.payments.map((p) => traced(
    row(cell(time(p.timestamp)), cell(customer(p.customer_name, p.customer_id)), cell(money(p.amount), 'num'), cell(p.event_id, 'muted id')),
    'payment-due', p.event_id)), 'no payments yet');
  table('alerts', ['time', 'product', 'left', 'delivery'], s.restockAlerts.map((a) => {
    const state = el('td');
    state.append(a.delivery ? el('span', 'pill delivered', a.delivery.quantity + ' delivered ' + time(a.delivery.timestamp)) : el('span', 'pill awaiting', 'awaiting'));
    return traced(row(cell(time(a.timestamp)), cell(product(a.product_id, a.product)), cell(a.quantity, 'num'), state), 'restock-alert', a.event_id);
  }), 'no restock alerts yet');
  table('deliveries', ['time', 'product', 'quantity', 'delivery'], s.deliveries.map((d) => traced(
    row(cell(time(d.timestamp)), cell(product(d.product_id, d.product)), cell(d.quantity, 'num'), cell(d.delivery_id, 'muted id')),
    'stock-delivered', d.event_id)), 'no deliveries yet');

  const out = s.stock.filter((i) => i.state === 'out');
  const low = s.stock.filter((i) => i.state === 'low');
  $('out-count').textContent = out.length;
  $('out').replaceChildren(...(out.length ? out.map(item) : [el('span', 'muted', 'nothing is out of stock')]));
  $('stock-counts').textContent = out.length + ' out of stock (red) · ' + low.length + ' under the restock threshold (amber)';
  $('stock').replaceChildren(...s.stock.map(item));
  badge('badge-out', out.length, 'out of stock', 'alert');
  badge('badge-low', low.length, 'low', 'warn');
}

const KINDS = { 'customer-arrival': 'arrival', 'customer-departure': 'departure', 'payment-due': 'payment', 'restock-alert': 'restock alert', 'stock-delivered': 'delivery', 'display-welcome': 'welcome' };
function summary(n) {
  const p = n.payload && typeof n.payload === 'object' ? n.payload : {};
  const who = customer(n.customer_name, p.customer_id);
  switch (n.event) {
    case 'customer-arrival': return who + ' came in';
    case 'customer-departure': {
      const count = Array.isArray(p.product_ids) ? p.product_ids.length : '?';
      return who + ' left with ' + count + (count === 1 ? ' item' : ' items');
    }
    case 'payment-due': return who + ' pays ' + money(p.amount);
    case 'restock-alert': return product(p.item_id) + ': ' + p.quantity + ' left, restock asked';
    case 'stock-delivered': return product(p.product_id) + ': ' + p.quantity + ' delivered (' + p.delivery_id + ')';
    case 'display-welcome': return String(p.message || '');
    default: return '';
  }
}
function node(n) {
  const li = el('li', n.asked ? 'asked' : '');
  const line = el('div', 'node');
  line.dataset.event = n.event;
  line.append(el('span', 'kind', KINDS[n.event] || n.event), el('span', 'muted', time(n.timestamp)), el('span', 'what', summary(n)));
  li.append(line);
  if (n.effects && n.effects.length) { const ol = el('ol'); ol.append(...n.effects.map(node)); li.append(ol); }
  return li;
}
let asking = 0;
async function openTrace(event, id) {
  const mine = ++asking;
  $('trace').hidden = false;
  $('trace-title').textContent = 'Causal trace of ' + (KINDS[event] || event) + ' ' + id;
  $('trace-body').replaceChildren(el('p', 'muted', 'loading…'));
  let body;
  try {
    const res = await fetch('api/trace?event_id=' + encodeURIComponent(id) + '&event=' + encodeURIComponent(event));
    body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
  } catch (err) {
    if (mine === asking) $('trace-body').replaceChildren(el('p', 'error', 'No trace: ' + err.message));
    return;
  }
  if (mine !== asking) return;
  const tree = el('ol', 'tree');
  tree.append(node(body));
  $('trace-body').replaceChildren(tree);
}
function closeTrace() { asking++; $('trace').hidden = true; }
const tracedRow = (e) => e.target instanceof Element ? e.target.closest('tr.traced') : null;
document.addEventListener('click', (e) => { const tr = tracedRow(e); if (tr) void openTrace(tr.dataset.event, tr.dataset.eventId); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') return closeTrace();
  const tr = e.key === 'Enter' ? tracedRow(e) : null;
  if (tr) void openTrace(tr.dataset.event, tr.dataset.eventId);
});
$('trace-close').addEventListener('click', closeTrace);

const events = new EventSource('events');
events.onerror = () => { document.body.classList.add('down'); $('banner').textContent = 'Not connected to the control room — reconnecting…'; };
events.addEventListener('state', (e) => render(JSON.parse(e.data)));
`;
