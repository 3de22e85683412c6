import { PAGE_DOM_HELPERS } from '@spectrum-grocers/runtime';

/**
 * The page's script: asks GET /ledger every few seconds and draws a card per store, keeps the
 * price form's list of stores, and sends the form to POST /prices. What came from the wire is set
 * as text, never as markup.
 */
export const HEAD_OFFICE_SCRIPT = `'use strict';
${PAGE_DOM_HELPERS}const REFRESH_MS = 3000;
const NUMERIC = ['payments', 'total', 'left', 'threshold', 'deliveries', 'quantity', 'price'];
const head = (...names) => row(...names.map((n) => el('th', NUMERIC.includes(n) ? 'num' : '', n)));
function table(cls, names, rows, empty) {
  const t = el('table', cls);
  const none = cell(empty, 'muted');
  none.colSpan = names.length;
  t.append(head(...names), ...(rows.length ? rows : [row(none)]));
  return t;
}
const money = (cents) => '$' + (Number(cents) / 100).toFixed(2);
function time(ts) { const d = new Date(ts); return ts && !isNaN(d) ? d.toLocaleString() : '—'; }
function dayName(day) {
  return new Date(day + 'T00:00:00Z').toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
}
const product = (id, name) => (name || 'product') + ' #' + id;
function pill(status) { return el('span', 'pill ' + status, status); }
function figure(label, value, cls) {
  const div = el('div');
  div.append(el('dt', '', label), el('dd', cls, value));
  return div;
}

function days(s) {
  const top = Math.max(1, ...s.days.map((d) => d.total_cents));
  return table('days', ['day', 'payments', 'total', ''], s.days.slice().reverse().map((d) => {
    const bar = el('span');
    bar.style.width = (100 * d.total_cents / top).toFixed(1) + '%';
    const td = cell('', 'bar');
    td.append(bar);
    const tr = row(cell(dayName(d.day)), cell(d.payments, 'num'), cell(money(d.total_cents), 'num'), td);
    if (d.day === s.today.day) tr.className = 'today';
    return tr;
  }), '');
}

function card(s) {
  const c = el('article', 'store ' + (s.online ? 'up' : 'down'));
  c.dataset.store = s.store;
  const top = el('div', 'store-head');
  top.append(el('h3', '', s.store), pill(s.online ? 'online' : 'offline'));
  const services = el('div', 'services');
  services.append(...(s.services.length
    ? s.services.map((x) => { const p = pill(x.status); p.textContent = x.service; p.title = x.status + ' since ' + time(x.timestamp); return p; })
    : [el('span', 'muted', 'no status heard')]));
  const figures = el('dl', 'figures');
  figures.append(
    figure('today', money(s.today.total_cents), 'today-total'),
    figure('payments', s.payments, 'payments'),
    figure('all time', money(s.total_cents), 'total'));
  const stock = table('stock', ['product', 'left', 'reported'], s.stock.map((x) =>
    row(cell(product(x.product_id, x.name)), cell(x.quantity, 'num' + (x.threshold !== null && x.quantity < x.threshold ? ' low' : '')), cell(time(x.reported_at), 'muted'))), 'no stock reports');
  const delivered = table('deliveries', ['product', 'deliveries', 'quantity'], s.deliveries.latest.map((d) =>
    row(cell(product(d.product_id, d.name)), cell(d.deliveries, 'num'), cell(d.quantity, 'num'))), 'no deliveries');
  c.append(top, services, figures, days(s),
    el('h4', '', 'Latest stock reports'), stock,
    el('h4', '', 'Deliveries (' + s.deliveries.count + ', ' + s.deliveries.quantity + ' units)'), delivered);
  return c;
}

function storeChoices(stores) {
  const select = $('price-store');
  const chosen = select.value;
  const options = [el('option', '', 'the whole chain')];
  options[0].value = '';
  for (const s of stores) { const o = el('option', '', s.store); o.value = s.store; options.push(o); }
  select.replaceChildren(...options);
  select.value = stores.some((s) => s.store === chosen) ? chosen : '';
}

function render(l) {
  document.body.classList.remove('loading', 'down');
  const online = l.stores.filter((s) => s.online).length;
  $('meta').textContent = 'chain ' + l.chain + ' · replica ' + l.replica + ' · ' + new Date(l.generated_at).toLocaleTimeString();
  $('badge-online').textContent = online + ' of ' + l.stores.length + ' stores online';
  $('badge-today').textContent = money(l.stores.reduce((sum, s) => sum + s.today.total_cents, 0)) + ' today';
  const stores = $('stores');
  stores.replaceChildren(...(l.stores.length ? l.stores.map(card) : [el('p', 'muted', 'No store heard of yet')]));
  storeChoices(l.stores);
  $('prices').replaceChildren(...table('', ['for', 'product', 'price', 'decided'], l.prices.map((p) =>
    row(cell(p.store === null ? 'the whole chain' : p.store), cell(product(p.product_id, p.name)), cell(money(p.price_cents), 'num'), cell(time(p.decided_at), 'muted'))), 'no price changes yet').childNodes);
}

let timer;
async function refresh() {
  clearTimeout(timer);
  try {
    const res = await fetch('ledger', { cache: 'no-store' });
    if (!res.ok) throw new Error('the head office answered ' + res.status);
    render(await res.json());
  } catch (err) {
    document.body.classList.add('down');
    $('banner').textContent = 'Cannot reach the head office (' + err.message + ') — the figures below are stale; trying again…';
  } finally {
    timer = setTimeout(refresh, REFRESH_MS);
  }
}

function say(text, cls) { const r = $('price-result'); r.textContent = text; r.className = cls; }
$('price-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const productId = Number($('price-product').value);
  const cents = Math.round(Number($('price-amount').value) * 100);
  const store = $('price-store').value;
  if (!Number.isInteger(productId) || productId < 1) return say('Give a product id (1 or more)', 'error');
  if ($('price-amount').value === '' || !Number.isFinite(cents) || cents < 0) return say('Give a price in dollars', 'error');
  const body = { product_id: productId, price_cents: cents };
  if (store) body.store = store;
  $('price-send').disabled = true;
  try {
    const res = await fetch('prices', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) return say('Refused: ' + (answer.error || res.statusText), 'error');
    say('Sent: ' + money(cents) + ' for product #' + productId + ' to ' + (store || 'the whole chain') + ' (' + answer.event_id + ')', 'ok');
    void refresh();
  } catch (err) {
    say('Not sent: ' + err.message, 'error');
  } finally {
    $('price-send').disabled = false;
  }
});
void refresh();
`;
