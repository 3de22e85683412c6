import { PAGE_FRAME_STYLE } from '@spectrum-grocers/runtime';

export { HEAD_OFFICE_SCRIPT } from './page-script.js';

/**
 * The head office's page: no framework, refreshed from GET /ledger every few seconds. Its style,
 * script and icon are served beside it: the page's Content-Security-Policy runs nothing inline
 * and loads nothing from elsewhere, so the price form is sent by the script, never by the browser.
 */
export const HEAD_OFFICE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spectrum Grocers — head office</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="head-office.css">
<script src="head-office.js" defer></script>
</head>
<body class="loading">
<div id="banner" role="alert"></div>
<header>
  <h1>Head office</h1><span class="meta" id="meta">loading…</span>
  <span class="badges"><span class="badge" id="badge-online"></span><span class="badge" id="badge-today"></span></span>
</header>
<main>
  <section class="wide"><h2>Stores <span class="muted">(totals per UTC day)</span></h2><div id="stores" class="stores"></div></section>
  <section>
    <h2>Change a price</h2>
    <form id="price-form" autocomplete="off">
      <label>Product id <input id="price-product" name="product_id" type="number" min="1" step="1" required></label>
      <label>Price in $ <input id="price-amount" name="price" type="number" min="0" max="100000" step="0.01" required></label>
      <label>For <select id="price-store" name="store"><option value="">the whole chain</option></select></label>
      <button type="submit" id="price-send">Send the price change</button>
    </form>
    <p id="price-result" role="status"></p>
  </section>
  <section class="half"><h2>Prices in force</h2><table id="prices"></table></section>
</main>
</body>
</html>
`;

/** The page's look: a card per store, online in green and offline in red, as in the control room. */
export const HEAD_OFFICE_STYLE = `${PAGE_FRAME_STYLE}main { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1rem; padding: 1rem 1.5rem; }
section { background: #fff; border-radius: 8px; padding: .8rem 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); min-width: 0; }
section.wide { grid-column: 1 / -1; }
section.half { grid-column: span 2; }
@media (max-width: 1000px) { section, section.half { grid-column: 1 / -1; } }
h2 { font-size: 1rem; margin: 0 0 .6rem; text-transform: uppercase; letter-spacing: .05em; color: #4a5565; }
h2 .muted { text-transform: none; letter-spacing: 0; font-weight: 400; font-size: .85rem; }
h4 { margin: .7rem 0 .3rem; font-size: .85rem; color: #4a5565; }
.stores { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 1rem; }
.store { border: 1px solid #e1e6ec; border-left: 6px solid #b3261e; border-radius: 8px; padding: .7rem .9rem; }
.store.up { border-left-color: #0f7b3a; }
.store-head { display: flex; align-items: baseline; justify-content: space-between; gap: .5rem; }
.store-head h3 { margin: 0; font-size: 1.15rem; overflow-wrap: anywhere; }
.services { display: flex; flex-wrap: wrap; gap: .3rem; margin: .4rem 0; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: .4rem; margin: .5rem 0; }
.figures div { background: #f3f5f7; border-radius: 6px; padding: .3rem .5rem; }
.figures dt { font-size: .75rem; color: #6b7685; text-transform: uppercase; letter-spacing: .04em; }
.figures dd { margin: 0; font-size: 1.2rem; font-weight: 700; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-size: .88rem; }
td, th { padding: .2rem .35rem; text-align: left; border-bottom: 1px solid #eceff3; vertical-align: middle; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bar { width: 35%; }
.bar span { display: block; height: .6rem; border-radius: 3px; background: #0f7b3a; }
table.days td:first-child { white-space: nowrap; }
tr.today td { font-weight: 700; }
.pill { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.online { background: #d8f3e1; color: #0b5a2b; }
.offline { background: #fbdad7; color: #8c1d18; }
.low { color: #7a4100; font-weight: 600; }
.muted { color: #6b7685; }
form { display: grid; gap: .5rem; }
label { display: grid; gap: .15rem; font-size: .85rem; color: #4a5565; }
input, select, button { font: inherit; padding: .35rem .5rem; border: 1px solid #c9d1db; border-radius: 6px; }
button { background: #0f7b3a; color: #fff; border-color: #0f7b3a; font-weight: 600; cursor: pointer; }
button:disabled { opacity: .6; cursor: default; }
#price-result { min-height: 1.3em; margin: .5rem 0 0; overflow-wrap: anywhere; }
#price-result.ok { color: #0b5a2b; }
#price-result.error { color: #b3261e; }
`;
