import { fileURLToPath } from 'node:url';

/** An absolute path inside the repository. */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}
