// Writes broker/acl, Mosquitto's acl_file, from the topic catalog. Committed; a test fails when
// it differs from what the catalog says.
//
//   pnpm broker:acl   (CHAIN and STORE as the services use them; defaults as in the README)
import { writeFileSync } from 'node:fs';
import { DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { mosquittoAcl } from './acl.js';

const root = { chain: process.env.CHAIN || DEFAULT_ROOT.chain, store: process.env.STORE || DEFAULT_ROOT.store };
writeFileSync(new URL('../acl', import.meta.url), mosquittoAcl(root));
process.stdout.write(`wrote broker/acl for ${root.chain}/${root.store}\n`);
