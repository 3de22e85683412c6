/**
 * What the suite's pages share (the store's control room, the head office's page). A page's
 * stylesheet starts with PAGE_FRAME_STYLE and its script, after 'use strict', with
 * PAGE_DOM_HELPERS.
 */

/** The frame: the store's green header with its badges, and a red banner while the page's feed is down. */
export const PAGE_FRAME_STYLE = `:root { font-family: system-ui, "Segoe UI", Roboto, sans-serif; color: #1d2430; background: #f3f5f7; }
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.5rem; background: #0f7b3a; color: #fff; }
header h1 { font-size: 1.3rem; margin: 0; }
header .meta { opacity: .85; font-size: .95rem; }
.badges { margin-left: auto; display: flex; gap: .5rem; }
.badge { padding: .1rem .6rem; border-radius: 999px; font-size: .85rem; font-weight: 600; background: rgba(255,255,255,.18); }
#banner { display: none; padding: .6rem 1.5rem; background: #b3261e; color: #fff; font-weight: 600; }
body.down #banner { display: block; }
`;

/** Elements by id and made with their text: what came from the wire is set as text, never as markup. */
export const PAGE_DOM_HELPERS = `const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}
const cell = (text, cls) => el('td', cls, text);
function row(...cells) { const tr = document.createElement('tr'); tr.append(...cells); return tr; }
`;
