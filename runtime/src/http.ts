import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, toAppError } from '@spectrum-grocers/contract';
import type { BaseConfig } from './config.js';
import type { Logger } from './logger.js';

export interface HttpReply {
  status: number;
  /** Sent as JSON; a string is sent as it is, with the content-type of `headers` (default text/plain). */
  body: unknown;
  headers?: Record<string, string>;
}

/** A route gets the parsed JSON body (for POST) and answers with a status and a JSON body. */
export type Route = (body: unknown, req: IncomingMessage) => Promise<HttpReply> | HttpReply;

/**
 * A route that keeps its response open (Server-Sent Events): it writes to `res` itself and is
 * ended by the server when it closes.
 */
export type StreamRoute = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Scans are small; anything bigger is refused before it is read. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * What a page of ours may load: its own script, stylesheet and event stream, nothing inline and
 * nothing from elsewhere, so an injected `<script>` or `on…=` attribute does not run.
 */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * On every response, streams and errors too: no MIME sniffing (a JSON body is never run as a
 * script), no framing by another site (clickjacking), no URL leaked in a Referer, and a policy
 * under which a response that is not a page loads nothing. Pages replace the policy with PAGE_CSP.
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

const TEXT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/**
 * A GET route serving fixed text: a page, or the script or stylesheet it loads from its own
 * origin (PAGE_CSP allows no inline ones). Each is sent as its type: under nosniff a browser
 * runs no script and applies no stylesheet sent as anything else.
 */
export function textRoute(body: string, type: keyof typeof TEXT_TYPES): Route {
  const reply: HttpReply = { status: 200, body, headers: { 'content-type': TEXT_TYPES[type] } };
  return () => reply;
}

function send(res: ServerResponse, reply: HttpReply): void {
  const text = typeof reply.body === 'string';
  const body = text ? (reply.body as string) : JSON.stringify(reply.body);
  const type =
    reply.headers?.['content-type'] ?? (text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
  res.writeHead(reply.status, {
    ...(type.startsWith('text/html') ? { 'content-security-policy': PAGE_CSP } : {}),
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    ...reply.headers,
  });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<HttpReply | { json: unknown }> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return { status: 415, body: { error: 'content-type must be application/json' } };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { status: 413, body: { error: `body larger than ${MAX_BODY_BYTES} bytes` } };
    chunks.push(chunk);
  }
  try {
    return { json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (err) {
    return { status: 400, body: { error: `body is not valid JSON: ${(err as Error).message}` } };
  }
}

/**
 * A small JSON-over-HTTP server: `routes` keyed by "METHOD /path", plus GET /healthz
 * (200 while `healthy()` holds, 503 otherwise).
 */
export async function startHttpServer(
  config: Pick<BaseConfig, 'http'>,
  log: Logger,
  opts: {
    routes?: Record<string, Route>;
    /** GET routes that stream (Server-Sent Events). */
    streams?: Record<string, StreamRoute>;
    healthy: () => { ok: boolean; detail: Record<string, unknown> };
  },
): Promise<HttpServer> {
  const open = new Set<ServerResponse>();
  const routes: Record<string, Route> = {
    'GET /healthz': () => {
      const h = opts.healthy();
      return { status: h.ok ? 200 : 503, body: { status: h.ok ? 'ok' : 'unavailable', ...h.detail } };
    },
    ...opts.routes,
  };
  const server = createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    // The path comes from the wire: own keys only (a request for `constructor` finds no route).
    const streams = opts.streams ?? {};
    const stream = req.method === 'GET' && Object.hasOwn(streams, path) ? streams[path] : undefined;
    if (stream) {
      open.add(res);
      res.once('close', () => open.delete(res));
      return stream(req, res);
    }
    const key = `${req.method} ${path}`;
    const route = Object.hasOwn(routes, key) ? routes[key] : undefined;
    if (!route) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${path}`)) || Object.hasOwn(streams, path);
      return send(
        res,
        known ? { status: 405, body: { error: 'method not allowed' } } : { status: 404, body: { error: 'not found' } },
      );
    }
    void (async () => {
      try {
        let body: unknown;
        if (req.method === 'POST') {
          const read = await readJson(req);
          if (!('json' in read)) return send(res, read);
          body = read.json;
        }
        send(res, await route(body, req));
      } catch (err) {
        const e = toAppError(err);
        log.error({ err: e, path }, 'request failed');
        send(
          res,
          e.retryable
            ? { status: 503, body: { error: e.message }, headers: { 'retry-after': '1' } }
            : { status: 500, body: { error: 'internal error' } },
        );
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new AppError('PORT_IN_USE', `HTTP port ${config.http.port} is already in use; set HTTP_PORT to a free port`)
          : err,
      );
    });
    server.listen(config.http.port, config.http.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: config.http.host, port }, 'http server listening');
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const res of open) res.end();
        server.closeIdleConnections();
      }),
  };
}
