import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { faviconRoute, textRoute, type HttpRoute } from '@spectrum-grocers/runtime';

/** A file of an installed package, read once at start: it is served as it is, from our own origin. */
const packageFile = (specifier: string) => readFileSync(createRequire(import.meta.url).resolve(specifier), 'utf8');

/**
 * What the dashboard loads besides its own page, script and style: uPlot (the chart of events per
 * second) from its package, not a CDN, since the page's policy loads nothing from elsewhere; and
 * the icon.
 */
export function assetRoutes(): HttpRoute[] {
  return [
    textRoute('/uplot.iife.min.js', 'uPlot, the chart library', packageFile('uplot/dist/uPlot.iife.min.js'), 'js'),
    textRoute('/uplot.min.css', "uPlot's stylesheet", packageFile('uplot/dist/uPlot.min.css'), 'css'),
    faviconRoute(),
  ];
}
