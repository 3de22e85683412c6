import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/** Every error we answer, whoever finds it (a handler, validation, the server): one message. */
export const ErrorBody = z.object({ error: z.string().describe('What was wrong, naming the field when a field was') });

/** A response schema per status, as the route answers and the OpenAPI document says. */
export type Responses = { readonly [status: number]: z.ZodType };

/** A declared status as a number (while a route's types are inferred, its keys may read as strings). */
type StatusOf<S> = S extends number ? S : S extends `${infer N extends number}` ? N : never;

/** One answer a handler may give: a status it declares, with a body of that status's schema. */
export type ReplyOf<R extends Responses> = {
  [S in keyof R]: { status: StatusOf<S>; body: z.output<R[S]>; headers?: Readonly<Record<string, string>> };
}[keyof R];

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

/** A JSON route: what it takes and answers, in zod; the handler gets its input parsed. */
export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined, R extends Responses> {
  method: 'GET' | 'POST';
  path: `/${string}`;
  /** One line for the OpenAPI document. */
  summary: string;
  description?: string;
  /** The JSON body (POST): a request that does not match is answered 400 naming the field. */
  body?: B;
  /** The query string, each value a string on the wire (coerce numbers). */
  query?: Q;
  responses: R;
  /**
   * Sent as JSON unless set: the media type of a 200 whose schema is a string (metrics, pages),
   * sent as it is.
   */
  produces?: string;
  handler: (input: { body: Parsed<B>; query: Parsed<Q> }) => ReplyOf<R> | Promise<ReplyOf<R>>;
}

/** Handlers, once declared, are kept without their types: the server only passes values through. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Readonly<Record<string, string>>;
}

/** A route as the server registers it. */
export type HttpRoute =
  | {
      readonly kind: 'json';
      readonly method: 'GET' | 'POST';
      readonly path: string;
      readonly summary: string;
      readonly description?: string;
      readonly body?: z.ZodType;
      readonly query?: z.ZodType;
      readonly responses: Responses;
      readonly produces?: string;
      readonly handler: (input: { body: unknown; query: unknown }) => Reply | Promise<Reply>;
    }
  | {
      /** A GET that keeps its response open (Server-Sent Events); ended when the server closes. */
      readonly kind: 'stream';
      readonly path: string;
      readonly summary: string;
      readonly open: (req: IncomingMessage, res: ServerResponse) => void;
    };

/** Declare a JSON route; its handler's input and answers are typed from its schemas. */
export function route<
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  R extends Responses = Responses,
>(spec: RouteSpec<B, Q, R>): HttpRoute {
  return { kind: 'json', ...spec, handler: spec.handler as (input: { body: unknown; query: unknown }) => Reply };
}

export const TEXT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/**
 * A GET serving fixed text: a page, or the script or stylesheet it loads from its own origin
 * (PAGE_CSP allows no inline ones). Each is sent as its type: under nosniff a browser runs no
 * script and applies no stylesheet sent as anything else.
 */
export function textRoute(path: `/${string}`, summary: string, text: string, type: keyof typeof TEXT_TYPES): HttpRoute {
  const reply = { status: 200 as const, body: text };
  return route({
    method: 'GET',
    path,
    summary,
    produces: TEXT_TYPES[type],
    responses: { 200: z.string() },
    handler: () => reply,
  });
}

/** A GET streaming Server-Sent Events (an SseHub's `open`). */
export function streamRoute(
  path: `/${string}`,
  summary: string,
  open: (req: IncomingMessage, res: ServerResponse) => void,
): HttpRoute {
  return { kind: 'stream', path, summary, open };
}
