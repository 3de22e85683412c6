import { z } from 'zod';
import { route, type HttpRoute } from './routes.js';

/** The store's icon: a basket on the store's green, legible at 16 px. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="#0f7b3a"/>
<path d="M23 27 31 13M41 27 33 13" stroke="#fff" stroke-width="4" stroke-linecap="round" fill="none"/>
<path d="M10 25h44l-6 27H16z" fill="#fff"/>
<path d="M24 32v14M32 32v14M40 32v14" stroke="#0f7b3a" stroke-width="3.5" stroke-linecap="round"/>
</svg>
`;

/** GET /favicon.svg, for every page of the store (`<link rel="icon" href="favicon.svg" type="image/svg+xml">`). */
export function faviconRoute(): HttpRoute {
  const favicon = { status: 200 as const, body: FAVICON_SVG, headers: { 'cache-control': 'public, max-age=86400' } };
  return route({
    method: 'GET',
    path: '/favicon.svg',
    summary: "The store's icon",
    produces: 'image/svg+xml',
    responses: { 200: z.string() },
    handler: () => favicon,
  });
}
