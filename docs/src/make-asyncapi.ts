// Writes docs/asyncapi.yaml from the topic catalog: pnpm asyncapi.
import { readFileSync, writeFileSync } from 'node:fs';
import { asyncApiYaml } from './asyncapi.js';

const file = new URL('../asyncapi.yaml', import.meta.url);
const next = asyncApiYaml();
let before = '';
try {
  before = readFileSync(file, 'utf8');
} catch {
  // first run
}
writeFileSync(file, next);
process.stdout.write(next === before ? 'asyncapi.yaml already up to date\n' : 'asyncapi.yaml written\n');
