import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { storeInstance } from '@spectrum-grocers/runtime/session';
import { takenPorts } from '@spectrum-grocers/store';
import {
  repoPath,
  skipWithoutNats,
  skipWithoutPostgres,
  spawnNode,
  tempDir,
  waitUntil,
} from '@spectrum-grocers/testkit';
import { planChain } from './plan.js';

/** A CHAIN_PORT_OFFSET whose every port is free now, all of them below Linux's ephemeral range. */
async function freeChainOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 12_000 + 10 * Math.floor(Math.random() * 1_250);
    if ((await takenPorts(planChain(offset, '.', '127.0.0.1').listeners)).length === 0) return offset;
  }
  throw new Error('no CHAIN_PORT_OFFSET with every port free');
}

/** `pid (comm) state ppid …` of each live process; comm may hold spaces, the last ')' ends it. */
function processes(): { pid: number; ppid: number; comm: string }[] {
  const found = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state !== 'Z')
        found.push({ pid: Number(entry), ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Every live descendant of `root`, by pid, with its command name (postgres' run as their own user). */
function descendants(root: number): Map<number, string> {
  const all = processes();
  const found = new Map<number, string>();
  for (let parents = [root]; parents.length > 0;) {
    const children = all.filter((p) => parents.includes(p.ppid));
    for (const c of children) found.set(c.pid, c.comm);
    parents = children.map((c) => c.pid);
  }
  return found;
}

const alive = (pid: number) => processes().some((p) => p.pid === pid);
const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
const status = async (at: string) => (await fetch(at).catch(() => undefined))?.status;

describe.skipIf(skipWithoutNats || skipWithoutPostgres)('a chain on one machine (pnpm start:chain)', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("starts HQ's NATS, PostgreSQL and services and three stores, carries a store's payment to the head office, and stops it all on Ctrl-C, stores first", async () => {
    const data = tempDir('ff-chain-');
    cleanup.push(data.remove);
    // As root, PostgreSQL runs as the postgres user, who must pass through the temp dir to its own.
    chmodSync(data.path, 0o711);
    const offset = await freeChainOffset();
    const plan = planChain(offset, data.path, '127.0.0.1');
    const chain = spawnNode('chain', [repoPath('chain/dist/main.js')], {
      CHAIN_PORT_OFFSET: String(offset),
      CHAIN_DATA_DIR: data.path,
      HTTP_HOST: '127.0.0.1',
      LOG_FORMAT: 'json',
      // No simulated customers: the departure below is the only one.
      SIMULATE: 'false',
    });
    cleanup.push(async () => {
      // Should the test fail first: a chain killed outright would leave its detached servers behind.
      const parts = descendants(chain.child.pid!);
      await chain.stop('SIGINT', 30_000);
      for (const pid of parts.keys()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });

    await chain.waitForLog('chain running', 150_000);
    const office = plan.hq.find((p) => p.name === 'head-office')!.healthPort;
    expect(await status(url(office, '/'))).toBe(200);
    for (const store of plan.stores) expect(await status(url(store.healthPort, '/healthz'))).toBe(200);

    const gate = storeInstance(offset + 10).httpPort('gateexit-guardian');
    const scan = await fetch(url(gate, '/scans'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: 1, product_ids: [1, 2] }),
    });
    expect(scan.ok).toBe(true);
    type Ledger = { stores: { store: string; payments: number; total_cents: number }[] };
    const paid = await waitUntil(
      async () => {
        const ledger = (await (await fetch(url(office, '/ledger'))).json()) as Ledger;
        return ledger.stores.find((s) => s.store === 'harbor-view' && s.payments > 0);
      },
      "harbor-view's payment in the head office's ledger",
      30_000,
      250,
    );
    expect(paid.payments).toBe(1);
    expect(paid.total_cents).toBeGreaterThan(0);

    const parts = descendants(chain.child.pid!);
    expect(new Set(parts.values())).toEqual(new Set(['nats-server', 'postgres', 'node']));
    const stopping = Date.now();
    chain.child.kill('SIGINT');
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 30_000).unref());
    expect(await Promise.race([chain.exited, late])).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(30_000);
    // One line per part, the stores' before the HQ services' before the servers', then the chain's.
    const at = (name: string) => chain.output().indexOf(`"msg":"${name} stopped"`);
    const [stores, hq, servers] = [plan.stores, plan.hq, ['nats-1', 'nats-2', 'nats-3', 'postgres']].map((group) =>
      group.map((p) => at(typeof p === 'string' ? p : p.name)),
    );
    for (const line of [...stores!, ...hq!, ...servers!]) expect(line).toBeGreaterThan(0);
    expect(Math.max(...stores!)).toBeLessThan(Math.min(...hq!));
    expect(Math.max(...hq!)).toBeLessThan(Math.min(...servers!));
    expect(Math.max(...servers!)).toBeLessThan(at('chain'));
    await waitUntil(() => [...parts.keys()].every((pid) => !alive(pid)), 'no part of the chain left running', 5_000);
  }, 240_000);
});
