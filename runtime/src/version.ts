import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The version of the store's package whose script this process runs (a service's own
 * package.json, found upwards from `entry`), or 0.0.0 when it runs none (a test runner).
 */
export function entryPackageVersion(entry: string | undefined = process.argv[1]): string {
  if (entry === undefined) return '0.0.0';
  for (let dir = dirname(resolve(entry)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (
        typeof pkg.name === 'string' &&
        pkg.name.startsWith('@spectrum-grocers/') &&
        typeof pkg.version === 'string'
      ) {
        return pkg.version;
      }
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}
