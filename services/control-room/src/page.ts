/**
 * The dashboard: one page, no framework, fed by GET /events (Server-Sent Events). Its style and
 * script are served beside it: the page's Content-Security-Policy runs nothing inline.
 */
export const CONTROL_ROOM_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fresh Frontier — control room</title>
<link rel="stylesheet" href="control-room.css">
<script src="control-room.js" defer></script>
</head>
<body class="down">
<div id="banner" role="alert">Not connected to the control room — reconnecting…</div>
<header><h1>Fresh Frontier — control room</h1><span class="meta" id="meta"></span></header>
<main>
  <section><h2>Services</h2><table id="services"></table></section>
  <section><h2>Events per second</h2><table id="rates"></table></section>
  <section><h2>Dead letters</h2><div class="big" id="dead">0</div><div class="muted" id="dead-by"></div></section>
  <section class="wide"><h2>Recent payments</h2><table id="payments"></table></section>
  <section class="wide"><h2>Stock <span class="muted">(highlighted: under the restock threshold)</span></h2><div id="stock"></div></section>
</main>
</body>
</html>
`;

/** The dashboard's look: a grid of cards, low stock highlighted. */
export const CONTROL_ROOM_STYLE = `:root { font-family: system-ui, "Segoe UI", Roboto, sans-serif; color: #1d2430; background: #f3f5f7; }
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.5rem; background: #0f7b3a; color: #fff; }
header h1 { font-size: 1.3rem; margin: 0; }
header .meta { opacity: .85; font-size: .95rem; }
#banner { display: none; padding: .6rem 1.5rem; background: #b3261e; color: #fff; font-weight: 600; }
body.down #banner { display: block; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; padding: 1rem 1.5rem; }
section { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 1rem; margin: 0 0 .6rem; text-transform: uppercase; letter-spacing: .05em; color: #4a5565; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
td, th { padding: .25rem .4rem; text-align: left; border-bottom: 1px solid #eceff3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pill { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .85rem; font-weight: 600; }
.online { background: #d8f3e1; color: #0b5a2b; }
.offline { background: #fbdad7; color: #8c1d18; }
.unknown { background: #e6e9ee; color: #4a5565; }
#stock { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .35rem; }
.item { padding: .3rem .5rem; border-radius: 6px; background: #f3f5f7; font-size: .85rem; display: flex; justify-content: space-between; gap: .4rem; }
.item.low { background: #fde7c2; color: #7a4100; font-weight: 600; outline: 2px solid #f0a020; }
.big { font-size: 2.2rem; font-weight: 700; }
.muted { color: #6b7685; }
`;

/** Renders each `state` the control room sends, and says when the stream is lost. */
export const CONTROL_ROOM_SCRIPT = `const $ = (id) => document.getElementById(id);
function cell(text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; }
function row(...cells) { const tr = document.createElement('tr'); tr.append(...cells); return tr; }
function head(...names) { return row(...names.map((n) => { const th = document.createElement('th'); th.textContent = n; if (n === 'amount' || n === '/s') th.className = 'num'; return th; })); }
function render(s) {
  $('meta').textContent = 'store ' + s.store + ' · broker ' + s.broker + ' · ' + s.events + ' events kept';
  document.body.classList.toggle('down', s.broker !== 'up');
  $('banner').textContent = s.broker === 'up' ? '' : 'The control room has lost the broker — the figures below are stale';
  $('services').replaceChildren(head('service', 'status', 'since'), ...s.services.map((x) => {
    const pill = document.createElement('span'); pill.className = 'pill ' + x.status; pill.textContent = x.status;
    const td = document.createElement('td'); td.append(pill);
    return row(cell(x.service), td, cell(x.timestamp ? new Date(x.timestamp).toLocaleTimeString() : '—', 'muted'));
  }));
  $('rates').replaceChildren(head('topic', '/s'), ...(s.rates.length ? s.rates.map((r) => row(cell(r.topic), cell(r.perSecond.toFixed(1), 'num'))) : [row(cell('quiet', 'muted'), cell(''))]));
  $('dead').textContent = s.deadLetters.total;
  $('dead-by').textContent = Object.entries(s.deadLetters.byService).map(([k, v]) => k + ': ' + v).join(' · ');
  $('payments').replaceChildren(head('time', 'customer', 'amount', 'payment'), ...s.payments.map((p) =>
    row(cell(new Date(p.timestamp).toLocaleTimeString()), cell('#' + p.customer_id), cell('$' + Number(p.amount).toFixed(2), 'num'), cell(p.event_id || '', 'muted'))));
  $('stock').replaceChildren(...s.stock.map((i) => {
    const div = document.createElement('div');
    div.className = 'item' + (i.quantity < i.threshold ? ' low' : '');
    div.dataset.product = i.product_id;
    const name = document.createElement('span'); name.textContent = i.name;
    const q = document.createElement('span'); q.textContent = i.quantity;
    div.append(name, q);
    return div;
  }));
}
const events = new EventSource('events');
events.onerror = () => { document.body.classList.add('down'); $('banner').textContent = 'Not connected to the control room — reconnecting…'; };
events.addEventListener('state', (e) => render(JSON.parse(e.data)));
`;
