// What the compose tests read of a compose file, and how compose fills in its variables.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { repoPath } from '@spectrum-grocers/testkit';

export interface ComposeService {
  image?: string;
  command?: string[];
  profiles?: string[];
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  networks?: string[];
}

export interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  networks: Record<string, { name?: string }>;
}

export const readCompose = (file: string): Compose => parse(readFileSync(repoPath(file), 'utf8')) as Compose;

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` from `vars`. */
export function interpolate(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const v = vars[name];
      if (v !== undefined && v !== '') return v;
      if (op === '-') return arg ?? '';
      throw new Error(`compose needs ${name}: ${arg ?? ''}`);
    },
  );
}
