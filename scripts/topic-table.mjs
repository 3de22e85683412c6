// Rewrites the README's topic table from the topic catalog (run after building shared).
import { readFileSync, writeFileSync } from 'node:fs';
import { topicTable } from '@spectrum-grocers/shared';

const file = new URL('../README.md', import.meta.url);
const table = topicTable({ chain: 'spectrum-grocers', store: 'fresh-frontier' });
const readme = readFileSync(file, 'utf8');
const next = readme.replace(
  /(<!-- prettier-ignore-start -->\n)[\s\S]*?(\n<!-- prettier-ignore-end -->\n<!-- topic-table:end -->)/,
  (_, open, close) => `${open}${table}${close}`,
);
writeFileSync(file, next);
process.stdout.write(next === readme ? 'README topic table already up to date\n' : 'README topic table rewritten\n');
