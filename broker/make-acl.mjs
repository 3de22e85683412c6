// Writes broker/acl, Mosquitto's acl_file, from the topic catalog. Committed; a test fails when
// it differs from what the catalog says.
//
//   pnpm broker:acl   (CHAIN and STORE as the services use them; defaults as in the README)
import { writeFileSync } from 'node:fs';
import { mosquittoAcl } from '@spectrum-grocers/shared';

const root = { chain: process.env.CHAIN || 'spectrum-grocers', store: process.env.STORE || 'fresh-frontier' };
writeFileSync(new URL('acl', import.meta.url), mosquittoAcl(root));
process.stdout.write(`wrote broker/acl for ${root.chain}/${root.store}\n`);
