import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '@spectrum-grocers/contract';
import type { BaseConfig } from './config.js';
import { errorReply, isJson, MAX_BODY_BYTES, secure } from './http-policy.js';
import type { Logger } from './logger.js';
import { ErrorBody, route, type HttpRoute } from './routes.js';

export { MAX_BODY_BYTES } from './http-policy.js';

export interface HttpServer {
  readonly server: Server;
  readonly port: number;
  /**
   * Stop listening, end open streams and idle connections, and give requests in flight up to
   * `graceMs` to finish before their connections are dropped.
   */
  close(graceMs?: number): Promise<void>;
}

/** What GET /healthz says: its status, and what the service adds (connection, counters). */
export const HealthBody = z.looseObject({
  status: z.enum(['ok', 'unavailable']),
  service: z.string(),
  connected: z.boolean().describe('Connected to the broker'),
  subscribed: z.boolean().optional().describe('Subscribed to what it reads (a service that reads)'),
  received: z.int().nonnegative().optional(),
  handled: z.int().nonnegative().optional(),
  duplicates: z.int().nonnegative().optional(),
  deadLettered: z.int().nonnegative().optional(),
  outboxPending: z.int().nonnegative().optional().describe('Events committed, not yet acknowledged by the broker'),
});

/** What each status means, for the OpenAPI document (a response schema's own description wins). */
const MEANING: Record<number, string> = {
  200: 'OK',
  202: 'Accepted: committed, published when the broker has it',
  400: 'Refused: the error names the field',
  404: 'Not found',
  409: 'Conflict',
  413: `Body larger than ${MAX_BODY_BYTES} bytes`,
  415: 'Body not JSON',
  503: 'Unavailable for now',
};

/** A route's responses as documented: its own, and the refusals of a bad body or query. */
function documentedResponses(r: Extract<HttpRoute, { kind: 'json' }>): Record<number, unknown> {
  const all: Record<number, z.ZodType> = {};
  if (r.query) all[400] = ErrorBody;
  if (r.body) Object.assign(all, { 400: ErrorBody, 413: ErrorBody, 415: ErrorBody });
  Object.assign(all, r.responses);
  return Object.fromEntries(
    Object.entries(all).map(([status, schema]) => {
      const type = status === '200' && r.produces ? r.produces.split(';')[0]! : 'application/json';
      const description = schema.description ?? MEANING[Number(status)] ?? 'Error';
      return [status, { description, content: { [type]: { schema } } }];
    }),
  );
}

function register(app: FastifyInstance, r: HttpRoute, open: Set<ServerResponse>): void {
  if (r.kind === 'stream') {
    const response = {
      200: { description: 'Server-Sent Events', content: { 'text/event-stream': { schema: z.string() } } },
    };
    app.get(r.path, { schema: { summary: r.summary, response } }, (req, reply) => {
      reply.hijack();
      open.add(reply.raw);
      reply.raw.once('close', () => open.delete(reply.raw));
      r.open(req.raw, reply.raw);
    });
    return;
  }
  app.route({
    method: r.method,
    url: r.path,
    schema: {
      summary: r.summary,
      ...(r.description && { description: r.description }),
      ...(r.body && { body: r.body }),
      ...(r.query && { querystring: r.query }),
      response: documentedResponses(r),
    },
    // Refused before the body is read: JSON only.
    ...(r.body && {
      onRequest: (req, reply, done) => {
        if (isJson(req.headers['content-type'])) return done();
        void reply.code(415).send({ error: 'content-type must be application/json' });
      },
    }),
    handler: async (req, reply) => {
      const out = await r.handler({ body: req.body, query: req.query });
      void reply.code(out.status);
      if (out.headers) void reply.headers(out.headers);
      if (r.produces && typeof out.body === 'string') void reply.type(r.produces);
      return out.body;
    },
  });
}

export interface HttpOptions {
  /** The OpenAPI document's title and version: the service and its package's version. */
  title: string;
  version: string;
  routes: readonly HttpRoute[];
  healthy: () => { ok: boolean; detail: Record<string, unknown> };
}

/**
 * A service's HTTP server: its routes, GET /healthz (200 while `healthy()` holds, 503
 * otherwise), and GET /openapi.json, the OpenAPI 3.1 document generated from the routes' schemas.
 */
/** How long a request may take to arrive, headers and body: ours are small. */
export const REQUEST_TIMEOUT_MS = 30_000;

export async function startHttpServer(
  config: Pick<BaseConfig, 'http'>,
  log: Logger,
  opts: HttpOptions,
): Promise<HttpServer> {
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    keepAliveTimeout: 5000,
    // A request (headers and body) arrives whole within this, or its connection is closed: a
    // client trickling a body cannot hold a connection for ever (Fastify's default is no limit).
    requestTimeout: REQUEST_TIMEOUT_MS,
    forceCloseConnections: 'idle',
    exposeHeadRoutes: false,
    // A request already on an open connection while we close is answered as usual (the store
    // is still open then), not with a 503 body of the framework's own shape.
    return503OnClosing: false,
    // A body naming __proto__ or constructor.prototype is refused, never merged.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is answered 415 like any other type.
  app.removeContentTypeParser('text/plain');
  const pages = new Set(
    opts.routes.flatMap((r) => (r.kind === 'json' && r.produces?.startsWith('text/html') ? [r.path] : [])),
  );
  secure(app, pages);
  await app.register(fastifySwagger, {
    openapi: { openapi: '3.1.0', info: { title: opts.title, version: opts.version } },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  const open = new Set<ServerResponse>();
  // Paths we serve, by method: a known path asked with another method is 405, not 404.
  const methods = new Map<string, string[]>();
  const health = route({
    method: 'GET',
    path: '/healthz',
    summary: 'Whether the service is connected and, when it reads, subscribed (200), or not (503)',
    responses: { 200: HealthBody, 503: HealthBody },
    handler: () => {
      const h = opts.healthy();
      const body = {
        service: '',
        connected: false,
        ...h.detail,
        status: h.ok ? ('ok' as const) : ('unavailable' as const),
      };
      return h.ok ? { status: 200, body } : { status: 503, body };
    },
  });
  const document = route({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document: the HTTP API of the service (OpenAPI 3.1)',
    responses: { 200: z.looseObject({ openapi: z.string() }) },
    handler: () => ({ status: 200, body: app.swagger() as { openapi: string } }),
  });
  for (const r of [health, document, ...opts.routes]) {
    const method = r.kind === 'stream' ? 'GET' : r.method;
    methods.set(r.path, [...(methods.get(r.path) ?? []), method]);
    register(app, r, open);
  }
  app.setNotFoundHandler((req, reply) => {
    const allowed = methods.get(req.url.split('?')[0] ?? '/');
    if (allowed) void reply.code(405).header('allow', allowed.join(', ')).send({ error: 'method not allowed' });
    else void reply.code(404).send({ error: 'not found' });
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, error, retry } = errorReply(err, log, req.url.split('?')[0] ?? '/');
    if (retry) void reply.header('retry-after', '1');
    void reply.code(status).send({ error });
  });
  // Open streams would hold the close until their browsers leave: end them first.
  app.addHook('preClose', (done) => {
    for (const res of open) res.end();
    done();
  });

  try {
    await app.listen({ port: config.http.port, host: config.http.host });
  } catch (err) {
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new AppError(
        'PORT_IN_USE',
        `HTTP port ${config.http.port} is already in use; set HTTP_PORT to a free port`,
      );
    }
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  log.info({ host: config.http.host, port }, 'http server listening');
  return {
    server: app.server,
    port,
    close: async (graceMs = 1000) => {
      // A client still sending its body (or never reading) would hold the close for ever.
      const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
