// Rewrites the README's topic table from the topic catalog: pnpm docs:topics.
import { readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { replaceTopicTable } from './topic-table.js';

const file = new URL('../../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const next = replaceTopicTable(readme, DEFAULT_ROOT);
writeFileSync(file, next);
process.stdout.write(next === readme ? 'README topic table already up to date\n' : 'README topic table rewritten\n');
