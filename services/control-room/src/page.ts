import { PAGE_FRAME_STYLE } from '@spectrum-grocers/runtime';

export { CONTROL_ROOM_SCRIPT } from './page-script.js';

/**
 * The dashboard: one page, no framework, fed by GET /events (Server-Sent Events). Its style,
 * script, chart library and icon are served beside it: the page's Content-Security-Policy runs
 * nothing inline and loads nothing from elsewhere.
 */
export const CONTROL_ROOM_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fresh Frontier — control room</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="uplot.min.css">
<link rel="stylesheet" href="control-room.css">
<script src="uplot.iife.min.js" defer></script>
<script src="control-room.js" defer></script>
</head>
<body class="down">
<div id="banner" role="alert">Not connected to the control room — reconnecting…</div>
<header>
  <h1>Fresh Frontier — control room</h1><span class="meta" id="meta"></span>
  <span class="badges"><span class="badge" id="badge-out"></span><span class="badge" id="badge-low"></span><span class="badge" id="badge-dead"></span></span>
</header>
<main>
  <section><h2>Services</h2><table id="services"></table></section>
  <section class="chart"><h2>Events per second <span class="muted">(last 15 minutes)</span></h2><div id="chart" data-points="0"></div><table id="rates"></table></section>
  <section><h2>Dead letters <span class="big" id="dead">0</span></h2><div class="muted" id="dead-by"></div><table id="dead-letters"></table></section>
  <section class="wide"><h2>Recent payments <span class="muted">(click one for its trace)</span></h2><table id="payments"></table></section>
  <section class="half"><h2>Restock alerts</h2><table id="alerts"></table></section>
  <section class="half"><h2>Deliveries</h2><table id="deliveries"></table></section>
  <section class="wide out"><h2>Out of stock <span class="big" id="out-count">0</span></h2><div id="out"></div></section>
  <section class="wide"><h2>Stock <span class="muted" id="stock-counts"></span></h2><div id="stock"></div></section>
</main>
<aside id="trace" hidden aria-labelledby="trace-title">
  <div class="trace-head"><h2 id="trace-title">Causal trace</h2><button type="button" id="trace-close" aria-label="Close the trace">×</button></div>
  <div id="trace-body"></div>
</aside>
</body>
</html>
`;

/** The dashboard's look: a grid of cards; out of stock in red, apart from low stock in amber. */
export const CONTROL_ROOM_STYLE = `${PAGE_FRAME_STYLE}.badge.alert { background: #fff; color: #b3261e; }
.badge.warn { background: #fde7c2; color: #7a4100; }
main { display: grid; grid-template-columns: repeat(6, 1fr); gap: 1rem; padding: 1rem 1.5rem; }
section { grid-column: span 2; background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); min-width: 0; }
section.wide { grid-column: 1 / -1; }
section.half { grid-column: span 3; }
@media (max-width: 1000px) { section, section.half { grid-column: 1 / -1; } }
h2 { font-size: 1rem; margin: 0 0 .6rem; text-transform: uppercase; letter-spacing: .05em; color: #4a5565; display: flex; align-items: baseline; gap: .6rem; }
h2 .muted { text-transform: none; letter-spacing: 0; font-weight: 400; font-size: .85rem; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; table-layout: auto; }
td, th { padding: .25rem .4rem; text-align: left; border-bottom: 1px solid #eceff3; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.id { font-family: ui-monospace, monospace; font-size: .8rem; overflow-wrap: anywhere; }
td.reason { overflow-wrap: anywhere; }
td.reason small { display: block; color: #6b7685; }
tr.traced { cursor: pointer; }
tr.traced:hover, tr.traced:focus { background: #e8f4ec; outline: none; }
.pill { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .85rem; font-weight: 600; }
.online, .delivered { background: #d8f3e1; color: #0b5a2b; }
.offline { background: #fbdad7; color: #8c1d18; }
.unknown, .awaiting { background: #e6e9ee; color: #4a5565; }
#chart { height: 170px; margin-bottom: .4rem; }
#stock, #out { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .35rem; }
#out > .muted { grid-column: 1 / -1; }
.item { padding: .3rem .5rem; border-radius: 6px; background: #f3f5f7; font-size: .85rem; display: flex; justify-content: space-between; gap: .4rem; }
.item.low { background: #fde7c2; color: #7a4100; font-weight: 600; outline: 2px solid #f0a020; }
.item.out { background: #fbdad7; color: #8c1d18; font-weight: 700; outline: 2px solid #b3261e; }
section.out { border-left: 6px solid #b3261e; }
.big { font-size: 1.6rem; font-weight: 700; color: #1d2430; letter-spacing: 0; }
.muted { color: #6b7685; }
#trace { position: fixed; top: 0; right: 0; bottom: 0; width: min(560px, 100vw); overflow-y: auto; background: #fff; box-shadow: -4px 0 16px rgba(0,0,0,.2); padding: 1rem 1.2rem; box-sizing: border-box; }
#trace[hidden] { display: none; }
.trace-head { display: flex; justify-content: space-between; align-items: baseline; }
.trace-head h2 { text-transform: none; letter-spacing: 0; font-size: 1.05rem; color: #1d2430; overflow-wrap: anywhere; }
#trace-close { font-size: 1.4rem; line-height: 1; border: 0; background: none; cursor: pointer; color: #4a5565; }
#trace ol { list-style: none; margin: 0; padding-left: 1.1rem; border-left: 2px solid #d5dbe2; }
#trace ol.tree { padding-left: 0; border-left: 0; }
#trace li { margin: .35rem 0; }
#trace .node { display: grid; grid-template-columns: 7.5rem 5.5rem 1fr; gap: .4rem; padding: .35rem .5rem; border-radius: 6px; background: #f3f5f7; font-size: .9rem; }
#trace li.asked > .node { background: #e8f4ec; outline: 2px solid #0f7b3a; }
#trace .kind { font-weight: 700; }
#trace .what { overflow-wrap: anywhere; }
#trace .error { color: #b3261e; }
`;
