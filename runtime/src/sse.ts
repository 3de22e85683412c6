import type { IncomingMessage, ServerResponse } from 'node:http';
import { streamRoute, type HttpRoute } from './routes.js';

/** One Server-Sent Event: its name and JSON data. */
export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

export interface SseHub {
  /** The GET route browsers connect to (with EventSource) at `path`; ended when the server closes. */
  route(path: `/${string}`, summary: string): HttpRoute;
  /** Send an event to every connected browser. */
  send(event: string, data: unknown): void;
  /** Browsers connected now. */
  size(): number;
  close(): void;
}

const HEARTBEAT_MS = 15_000;

function frame({ event, data }: SseEvent): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Server-Sent Events to any number of browsers: each gets `initial()` when it connects, then
 * every `send`. A comment every 15 s keeps proxies from closing an idle stream, and `retry`
 * tells EventSource to come back within a second after a drop.
 */
export function createSseHub(initial: () => readonly SseEvent[] = () => []): SseHub {
  const clients = new Set<ServerResponse>();
  const heartbeat = setInterval(() => {
    for (const res of clients) res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const open = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 1000\n\n${initial().map(frame).join('')}`);
    clients.add(res);
    req.socket.setNoDelay(true);
    res.once('close', () => clients.delete(res));
  };
  return {
    route: (path, summary) => streamRoute(path, summary, open),
    send(event, data) {
      const text = frame({ event, data });
      for (const res of clients) res.write(text);
    },
    size: () => clients.size,
    close() {
      clearInterval(heartbeat);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
