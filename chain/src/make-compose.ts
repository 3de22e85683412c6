// Writes the head office's files for Docker Compose (docker-compose.chain.yaml) under
// chain/compose/: each NATS node's config and the compose store's bridge to the cluster.
// Committed; a test fails when one differs from what this writes.
//
//   pnpm chain:compose
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeFiles } from './compose.js';

const repo = new URL('../../', import.meta.url);
for (const [path, text] of Object.entries(composeFiles())) {
  const file = fileURLToPath(new URL(path, repo));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`wrote ${path}\n`);
}
