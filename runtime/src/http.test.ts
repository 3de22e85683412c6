import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quietLogger } from '@spectrum-grocers/testkit';
import { startHttpServer, textRoute, type HttpServer } from './http.js';

const PAGE = '<!doctype html><title>t</title><link rel="stylesheet" href="page.css"><script src="page.js"></script>';

describe('the HTTP server', () => {
  let server: HttpServer;
  beforeEach(async () => {
    server = await startHttpServer({ http: { host: '127.0.0.1', port: 0 } }, quietLogger(), {
      routes: {
        'GET /': textRoute(PAGE, 'html'),
        'GET /page.js': textRoute('document.title = "ok";', 'js'),
        'GET /page.css': textRoute('body { margin: 0 }', 'css'),
        'GET /api/state': () => ({ status: 200, body: { ok: true } }),
        'POST /scans': () => ({ status: 202, body: {} }),
        'GET /boom': () => {
          throw new Error('boom');
        },
      },
      streams: {
        '/events': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end('retry: 1000\n\n');
        },
      },
      healthy: () => ({ ok: true, detail: {} }),
    });
  });
  afterEach(() => server.close());

  const get = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${path}`, init);

  it('sends nosniff, DENY framing and no referrer on every response (pages, JSON, errors, streams), which it used to omit', async () => {
    const responses = await Promise.all([
      get('/'),
      get('/page.js'),
      get('/api/state'),
      get('/healthz'),
      get('/nowhere'),
      get('/scans'),
      get('/boom'),
      get('/scans', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }),
      get('/events'),
    ]);
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
      "default-src 'none'; frame-ancestors 'none'",
    );
  });

  it('serves a page, its script and its stylesheet as what they are, so that nosniff lets them load', async () => {
    const types = await Promise.all(
      ['/', '/page.js', '/page.css'].map(async (p) => (await get(p)).headers.get('content-type')),
    );
    expect(types).toEqual(['text/html; charset=utf-8', 'text/javascript; charset=utf-8', 'text/css; charset=utf-8']);
  });
});
