import { eventTopic, schemas, type WireEvent } from '@spectrum-grocers/contract';
import {
  createSseHub,
  faviconRoute,
  textRoute,
  type HttpRoute,
  type ServiceContext,
  type SseHub,
} from '@spectrum-grocers/runtime';

type Welcome = WireEvent<'display-welcome'>;

/**
 * The entrance display: the greeting the store last published, pushed to every screen as it
 * happens (Server-Sent Events), and whether the store's event stream is up.
 */
export interface Display {
  readonly hub: SseHub;
  /** The page, its style and script, and its live feed (GET /events). */
  readonly routes: readonly HttpRoute[];
  /** Feed it from the running service: published welcomes and the broker connection. */
  attach(service: Pick<ServiceContext, 'bus' | 'outbox'>): void;
}

export function createDisplay(): Display {
  let latest: Welcome | undefined;
  let brokerUp = false;
  const show = (payload: string): void => {
    const parsed = schemas.DisplayWelcome.safeParse(JSON.parse(payload));
    if (!parsed.success) return;
    // A welcome published again after a reconnect is not news.
    if (latest && Date.parse(parsed.data.timestamp) <= Date.parse(latest.timestamp)) return;
    latest = parsed.data;
    hub.send('welcome', latest);
  };
  const state = () => ({ broker: brokerUp ? 'up' : 'down' });
  const hub = createSseHub(() => [
    { event: 'state', data: state() },
    ...(latest ? [{ event: 'welcome', data: latest }] : []),
  ]);
  const setBroker = (up: boolean): void => {
    if (up === brokerUp) return;
    brokerUp = up;
    hub.send('state', state());
  };
  return {
    hub,
    routes: [
      textRoute('/', 'The entrance display', DISPLAY_PAGE, 'html'),
      textRoute('/display.css', "The display's stylesheet", DISPLAY_STYLE, 'css'),
      textRoute('/display.js', "The display's script", DISPLAY_SCRIPT, 'js'),
      faviconRoute(),
      hub.route('/events', 'The live feed of the display: its state and each welcome (Server-Sent Events)'),
    ],
    attach({ bus, outbox }) {
      const topic = eventTopic(bus.config.topics, 'display-welcome');
      // The last greeting the store published before this start, so a restarted screen is not blank.
      const last = outbox.lastPublished('display-welcome');
      if (last !== undefined) show(last);
      outbox.onPublished((t, payload) => {
        if (t === topic) show(payload);
      });
      setBroker(bus.isConnected());
      bus.onConnection(setBroker);
    },
  };
}

/**
 * The screen: one big greeting, the time it was said, and a plain banner when the stream is down.
 * Its style and script are served beside it: the page's Content-Security-Policy runs nothing inline.
 */
export const DISPLAY_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fresh Frontier — welcome</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="display.css">
<script src="display.js" defer></script>
</head>
<body class="down">
<div id="banner" role="alert">Connecting to the store…</div>
<header>Fresh Frontier</header>
<main>
  <h1 id="message" aria-live="polite">Welcome to Fresh Frontier!</h1>
  <div id="when"></div>
</main>
</body>
</html>
`;

/** The display's look: a greeting readable across the entrance. */
export const DISPLAY_STYLE = `:root { color-scheme: light; font-family: system-ui, "Segoe UI", Roboto, sans-serif; }
html, body { margin: 0; height: 100%; }
body { display: flex; flex-direction: column; background: linear-gradient(160deg, #0f7b3a, #0b5a2b); color: #fff; }
header { padding: 1.2rem 2rem; font-size: 1.4rem; letter-spacing: .08em; text-transform: uppercase; opacity: .85; }
main { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center; text-align: center; padding: 0 4vw; }
#message { font-size: clamp(3rem, 9vw, 9rem); font-weight: 700; line-height: 1.1; margin: 0; }
#message.fresh { animation: pop .5s ease-out; }
#when { margin-top: 1.5rem; font-size: clamp(1rem, 2vw, 1.6rem); opacity: .8; min-height: 1.6em; }
#banner { display: none; padding: 1rem 2rem; font-size: clamp(1.1rem, 2.2vw, 1.8rem); font-weight: 600; background: #b3261e; color: #fff; text-align: center; }
body.down #banner { display: block; }
body.down main { opacity: .55; }
@keyframes pop { from { transform: scale(.92); opacity: 0; } to { transform: none; opacity: 1; } }
`;

/** Greets each welcome as it comes (GET /events) and says when the store or its broker is away. */
export const DISPLAY_SCRIPT = `const IDLE = 'Welcome to Fresh Frontier!';
const SHOW_MS = 60000;
const body = document.body, message = document.getElementById('message');
const when = document.getElementById('when'), banner = document.getElementById('banner');
let streamUp = false, brokerUp = false, idleTimer;
function render() {
  const down = !streamUp ? 'Not connected to the store — reconnecting…'
    : !brokerUp ? 'The store\\u2019s event stream is down — greetings resume when it is back'
    : '';
  banner.textContent = down;
  body.classList.toggle('down', down !== '');
}
function greet(w) {
  const age = Date.now() - Date.parse(w.timestamp);
  if (age > SHOW_MS) return;
  message.textContent = w.message;
  message.classList.remove('fresh'); void message.offsetWidth; message.classList.add('fresh');
  when.textContent = new Date(w.timestamp).toLocaleTimeString();
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => { message.textContent = IDLE; when.textContent = ''; }, SHOW_MS - Math.max(0, age));
}
const events = new EventSource('events');
events.onopen = () => { streamUp = true; render(); };
events.onerror = () => { streamUp = false; render(); };
events.addEventListener('state', (e) => { brokerUp = JSON.parse(e.data).broker === 'up'; render(); });
events.addEventListener('welcome', (e) => greet(JSON.parse(e.data)));
`;
