import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '@spectrum-grocers/contract';
import { quietLogger } from '@spectrum-grocers/testkit';
import { MAX_BODY_BYTES, REQUEST_TIMEOUT_MS, startHttpServer, type HttpServer } from './http.js';
import { route, streamRoute, textRoute } from './routes.js';
import { createSseHub } from './sse.js';

const PAGE = '<!doctype html><title>t</title><link rel="stylesheet" href="page.css"><script src="page.js"></script>';

const Basket = z.object({ customer_id: z.int().positive(), product_ids: z.array(z.int().positive()) });

describe('the HTTP server', () => {
  let server: HttpServer;
  let healthy = true;
  const hub = createSseHub(() => [{ event: 'state', data: { ok: true } }]);
  beforeEach(async () => {
    healthy = true;
    server = await startHttpServer({ http: { host: '127.0.0.1', port: 0 } }, quietLogger(), {
      title: 'test-service',
      version: '1.2.3',
      healthy: () => ({ ok: healthy, detail: { service: 'test-service', connected: healthy } }),
      routes: [
        textRoute('/', 'The page', PAGE, 'html'),
        textRoute('/page.js', 'Its script', 'document.title = "ok";', 'js'),
        textRoute('/page.css', 'Its style', 'body { margin: 0 }', 'css'),
        route({
          method: 'GET',
          path: '/api/state',
          summary: 'State',
          responses: { 200: z.object({ ok: z.boolean() }) },
          handler: () => ({ status: 200, body: { ok: true } }),
        }),
        route({
          method: 'POST',
          path: '/scans',
          summary: 'A basket',
          body: Basket,
          responses: { 202: z.object({ items: z.int() }) },
          handler: ({ body }) => ({ status: 202, body: { items: body.product_ids.length } }),
        }),
        route({
          method: 'GET',
          path: '/bills',
          summary: 'Bills of a customer',
          query: z.object({ customer_id: z.coerce.number().int().positive() }),
          responses: { 200: z.object({ customer_id: z.int() }) },
          handler: ({ query }) => ({ status: 200, body: { customer_id: query.customer_id } }),
        }),
        route({
          method: 'GET',
          path: '/boom',
          summary: 'Fails',
          responses: { 200: z.object({}) },
          handler: () => {
            throw new Error('boom');
          },
        }),
        route({
          method: 'GET',
          path: '/busy',
          summary: 'Fails for now',
          responses: { 200: z.object({}) },
          handler: () => {
            throw new AppError('STORE_FAILED', 'the store is busy');
          },
        }),
        route({
          method: 'GET',
          path: '/lying',
          summary: 'Answers what it does not declare',
          responses: { 200: z.object({ count: z.int() }) },
          handler: () => ({ status: 200, body: { count: 'many' as unknown as number } }),
        }),
        hub.route('/events', 'Live state'),
      ],
    });
  });
  afterEach(() => server.close());

  const get = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${path}`, init);
  const post = (path: string, body: string, type = 'application/json') =>
    get(path, { method: 'POST', headers: { 'content-type': type }, body });
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  it('sends nosniff, DENY framing and no referrer on every response (pages, JSON, errors, streams), which it used to omit', async () => {
    const events = new AbortController();
    const responses = await Promise.all([
      get('/'),
      get('/page.js'),
      get('/api/state'),
      get('/healthz'),
      get('/nowhere'),
      get('/scans'),
      get('/boom'),
      post('/scans', 'x', 'text/plain'),
      get('/events', { signal: events.signal }),
    ]);
    events.abort();
    for (const res of responses) {
      expect(res.headers.get('x-content-type-options'), res.url).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), res.url).toBe('DENY');
      expect(res.headers.get('referrer-policy'), res.url).toBe('no-referrer');
      expect(res.headers.get('content-security-policy'), res.url).toMatch(/frame-ancestors 'none'/);
    }
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 404, 405, 500, 415, 200]);
  });

  it('gives an HTML page a strict Content-Security-Policy: its own script, style and event stream, nothing inline', async () => {
    const csp = (await get('/')).headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives).toMatchObject({
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'connect-src': ["'self'"],
      'frame-ancestors': ["'none'"],
    });
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    // Everything else may load nothing at all.
    expect((await get('/api/state')).headers.get('content-security-policy')).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
  });

  it('serves a page, its script and its stylesheet as what they are, so that nosniff lets them load', async () => {
    const answers = await Promise.all(['/', '/page.js', '/page.css'].map((p) => get(p)));
    expect(answers.map((r) => r.headers.get('content-type'))).toEqual([
      'text/html; charset=utf-8',
      'text/javascript; charset=utf-8',
      'text/css; charset=utf-8',
    ]);
    expect(await answers[1]!.text()).toBe('document.title = "ok";');
  });

  it('answers 405 with the allowed methods for a known path, 404 for an unknown one, each as { error }', async () => {
    const wrong = await get('/scans');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toEqual({ error: 'method not allowed' });
    const missing = await get('/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found' });
    expect((await post('/healthz', '{}')).status).toBe(405);
  });

  it('bounds how long a request may take to arrive, so a trickled body cannot hold a connection (Node under Fastify had no bound)', () => {
    expect(server.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(REQUEST_TIMEOUT_MS).toBeGreaterThan(0);
    expect(server.server.headersTimeout).toBeGreaterThan(0);
  });

  it('finds no route in what every object inherits (/constructor, /__proto__, /toString)', async () => {
    for (const path of ['/constructor', '/__proto__', '/toString', '/hasOwnProperty']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: 'not found' });
    }
  });

  it('takes a body that matches its schema and hands the handler the parsed value', async () => {
    const res = await post('/scans', JSON.stringify({ customer_id: 2, product_ids: [1, 2, 3], extra: 'dropped' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ items: 3 });
  });

  it('answers 400 naming the field when a body or query does not match its schema', async () => {
    const fractional = await post('/scans', JSON.stringify({ customer_id: 2, product_ids: [1.5] }));
    expect(fractional.status).toBe(400);
    expect(await errorOf(fractional)).toMatch(/^product_ids\.0: /);
    const missing = await post('/scans', JSON.stringify({ product_ids: [] }));
    expect(await errorOf(missing)).toMatch(/^customer_id: /);
    const array = await post('/scans', '[1]');
    expect(array.status).toBe(400);
    expect(await errorOf(array)).toMatch(/^\(body\): /);
    const query = await get('/bills?customer_id=abc');
    expect(query.status).toBe(400);
    expect(await errorOf(query)).toMatch(/^customer_id: /);
    expect(await (await get('/bills?customer_id=7')).json()).toEqual({ customer_id: 7 });
  });

  it('answers 400 to invalid JSON, an empty body, and a body naming __proto__ (never merged into an object)', async () => {
    for (const body of ['{"customer_id":', '', '{"customer_id":2,"product_ids":[],"__proto__":{"x":1}}']) {
      const res = await post('/scans', body);
      expect(res.status, body).toBe(400);
      expect(await errorOf(res)).toEqual(expect.any(String));
    }
  });

  it('answers 415 to a body that is not JSON, or has no content type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      const res = await post('/scans', '{}', type);
      expect(res.status, type).toBe(415);
      expect(await errorOf(res)).toBe('content-type must be application/json');
    }
    expect((await get('/scans', { method: 'POST', body: new Uint8Array(0) })).status).toBe(415);
  });

  it('answers 413 to a body over 64 KiB, whether its length is announced or not', async () => {
    const big = JSON.stringify({ customer_id: 2, product_ids: Array<number>(MAX_BODY_BYTES / 2).fill(1) });
    const announced = await post('/scans', big);
    expect(announced.status).toBe(413);
    expect(await errorOf(announced)).toBe(`body larger than ${MAX_BODY_BYTES} bytes`);
    const chunked = await get('/scans', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([big]).stream(),
      duplex: 'half',
    });
    expect(chunked.status).toBe(413);
  });

  it('refuses an announced oversized body before it is sent whole', async () => {
    // Announce 1 MiB, send one small chunk, and wait for the answer without sending the rest.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/scans',
          headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024) },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.write('{"customer_id":');
    });
    expect(status).toBe(413);
  });

  it('answers 500 without detail to a failing handler, and 503 with Retry-After to a retryable failure', async () => {
    const boom = await get('/boom');
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: 'internal error' });
    const busy = await get('/busy');
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await busy.json()).toEqual({ error: 'the store is busy' });
  });

  it('answers 500 rather than send a body its response schema does not allow', async () => {
    const res = await get('/lying');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
  });

  it('answers /healthz 200 with its detail while healthy, 503 otherwise', async () => {
    const up = await get('/healthz');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ok', service: 'test-service', connected: true });
    healthy = false;
    const down = await get('/healthz');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable', service: 'test-service', connected: false });
  });

  it('serves its OpenAPI 3.1 document at /openapi.json, titled and versioned, with every route', async () => {
    const res = await get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as {
      openapi: string;
      info: unknown;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'test-service', version: '1.2.3' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/openapi.json', '/', '/api/state', '/scans', '/bills', '/events']),
    );
    expect(Object.keys(doc.paths['/scans']!.post!.responses).sort()).toEqual(['202', '400', '413', '415']);
    expect(doc.paths['/scans']!.post!.requestBody).toMatchObject({
      content: { 'application/json': { schema: { required: ['customer_id', 'product_ids'] } } },
    });
    expect(Object.keys(doc.paths['/healthz']!.get!.responses).sort()).toEqual(['200', '503']);
  });

  it('ends open event streams and idle connections when it closes, instead of waiting for them', async () => {
    const stream = await get('/events');
    const reader = stream.body!.getReader();
    const first = (await reader.read()).value as Uint8Array;
    expect(new TextDecoder().decode(first)).toMatch(/^retry: 1000\n\nevent: state\n/);
    await get('/api/state'); // leaves an idle keep-alive connection behind
    await server.close();
    // The stream ends (done) rather than hanging; the next beforeEach would otherwise wait on it.
    for (let r = await reader.read(); !r.done; r = await reader.read());
    await expect(get('/api/state')).rejects.toThrow();
  });
});

describe('closing the HTTP server', () => {
  it('drops a request whose handler has not answered once its grace is over, rather than wait for it', async () => {
    let arrived: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const server = await startHttpServer({ http: { host: '127.0.0.1', port: 0 } }, quietLogger(), {
      title: 't',
      version: '0',
      healthy: () => ({ ok: true, detail: {} }),
      routes: [
        route({
          method: 'GET',
          path: '/stuck',
          summary: 'Never answers',
          responses: { 200: z.object({}) },
          handler: () => {
            arrived();
            return new Promise<never>(() => {});
          },
        }),
      ],
    });
    const answer = fetch(`http://127.0.0.1:${server.port}/stuck`).then(
      (res) => `${res.status}`,
      () => 'dropped',
    );
    await inFlight;
    await server.close(50);
    expect(await answer).toBe('dropped');
  });
});

describe('starting the HTTP server', () => {
  it('fails with PORT_IN_USE naming the port when another process holds it', async () => {
    const log = quietLogger();
    const options = { title: 't', version: '0', routes: [], healthy: () => ({ ok: true, detail: {} }) };
    const first = await startHttpServer({ http: { host: '127.0.0.1', port: 0 } }, log, options);
    try {
      const second = startHttpServer({ http: { host: '127.0.0.1', port: first.port } }, log, options);
      await expect(second).rejects.toMatchObject({ code: 'PORT_IN_USE', message: new RegExp(`port ${first.port}`) });
    } finally {
      await first.close();
    }
  });

  it('serves a stream route as the stream it opens', async () => {
    const server = await startHttpServer({ http: { host: '127.0.0.1', port: 0 } }, quietLogger(), {
      title: 't',
      version: '0',
      healthy: () => ({ ok: true, detail: {} }),
      routes: [
        streamRoute('/once', 'One event', (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end('data: 1\n\n');
        }),
      ],
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/once`);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(await res.text()).toBe('data: 1\n\n');
    } finally {
      await server.close();
    }
  });
});
