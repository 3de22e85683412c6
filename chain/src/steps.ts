import type { Logger } from '@spectrum-grocers/runtime';
import { prefixFor, superviseServices, type Fatal, type Supervisor } from '@spectrum-grocers/store';
import { partEnv, repoFile } from './config.js';
import { natsNodeName } from './nats-node.js';
import { startNatsCluster, type NatsCluster } from './nats.js';
import { DATABASE, type ChainPlan, type Part, type Step } from './plan.js';
import { startPostgres, type Postgres } from './postgres.js';
import { waitUntil } from './ports.js';
import { intakesMissing, reachableHost, storesDown } from './readiness.js';

/** How long the servers may take to start, a crashed one recovering first. */
const SERVER_START_MS = 60_000;
/** How long until HQ's services hold their intakes: the stores wait for that. */
const HQ_UP_MS = 60_000;
/** How long until every store is up; after that its pages are shown anyway, its supervisor still trying. */
const STORES_UP_MS = 120_000;
/** How often the parts' /healthz are asked meanwhile: a dozen processes starting on two cores need the CPU more. */
const POLL_MS = 250;

export interface StepContext {
  readonly plan: ChainPlan;
  readonly log: Logger;
  /** Prefixes in colour (a terminal). */
  readonly color: boolean;
  /** Our environment, which the parts inherit (less what the chain decides). */
  readonly env: NodeJS.ProcessEnv;
  /** What every part gets by default: LOG_FORMAT. */
  readonly common: Record<string, string>;
  /** Where the parts' HTTP servers listen (HTTP_HOST). */
  readonly httpHost: string;
  /** A part failed in a way no restart mends (a port taken meanwhile). */
  readonly onFatal: (fatal: Fatal) => void;
}

export interface StepControl {
  /** Start it; NATS and PostgreSQL resolve once they serve. */
  start(): Promise<void>;
  /** Wait until it is up (HQ's intakes held, the stores' processes answering). */
  ready(): Promise<void>;
  /** Stop it, one line per part. */
  stop(): Promise<void>;
}

/** How each step of the chain is started, waited for and stopped. */
export function chainSteps(ctx: StepContext): Record<Step, StepControl> {
  const { plan, log } = ctx;
  const names = [
    ...plan.nats.ports.map((_, i) => natsNodeName(i)),
    'postgres',
    ...[...plan.hq, ...plan.stores].map((p) => p.name),
  ];
  const width = Math.max(...names.map((n) => n.length));
  const print = (name: string, line: string) =>
    process.stdout.write(`${prefixFor(name, names.indexOf(name), width, ctx.color)}${line}\n`);
  // Not restarted: a server that dies on its own (a full disk, a damaged store) would die again;
  // its last lines are above. The HQ services keep retrying until the chain is started again.
  const died = (name: string, how: string) =>
    log.error({ part: name, how }, `${name} exited unexpectedly (${how}); restart the chain to bring it back`);
  const host = reachableHost(ctx.httpHost);
  let nats: NatsCluster | undefined;
  let postgres: Postgres | undefined;
  const supervisors = new Map<'hq' | 'stores', Supervisor>();

  const supervise = (group: 'hq' | 'stores', parts: readonly Part[]) => {
    const part = (name: string) => parts.find((p) => p.name === name)!;
    supervisors.set(
      group,
      superviseServices({
        services: parts.map((p) => p.name),
        env: (name) => partEnv(part(name), ctx.env, ctx.common),
        launch: (name) => ({ args: [...part(name).flags, repoFile(part(name).main)], reports: part(name).reports }),
        log,
        color: ctx.color,
        width,
        onFatal: ctx.onFatal,
        onStopped: (name) => log.info(`${name} stopped`),
      }),
    );
  };
  const noWait = () => Promise.resolve();

  return {
    nats: {
      async start() {
        nats = await startNatsCluster({ ...plan.nats, timeoutMs: SERVER_START_MS, onLine: print, onExit: died });
      },
      ready: noWait,
      async stop() {
        // SIGINT: a node's clean shutdown (exit 0), its JetStream store flushed.
        await Promise.all(
          (nats?.nodes ?? []).map(async (node) => {
            if (!node.alive) return; // said when it died
            await node.kill('SIGINT');
            log.info(`${node.name} stopped`);
          }),
        );
      },
    },
    postgres: {
      async start() {
        const { dir, port } = plan.postgres;
        const onLine = (line: string) => print('postgres', line);
        postgres = await startPostgres({
          dir,
          port,
          timeoutMs: SERVER_START_MS,
          onLine,
          onExit: (how) => died('postgres', how),
        });
        await postgres.ensureDatabase(DATABASE);
      },
      ready: noWait,
      async stop() {
        if (!postgres) return;
        await postgres.stop();
        log.info('postgres stopped');
      },
    },
    hq: {
      start: () => Promise.resolve(supervise('hq', plan.hq)),
      async ready() {
        let missing: string[] = [];
        const held = async () => (missing = await intakesMissing(host, plan.hq)).length === 0;
        await waitUntil(held, 'the head office', HQ_UP_MS, POLL_MS).catch(() => {
          throw new Error(
            `the head office is not up after ${HQ_UP_MS / 1000} s: no replica of ${missing.join(', ')} holds its intake (see its lines above)`,
          );
        });
      },
      stop: async () => supervisors.get('hq')?.stop(),
    },
    stores: {
      start: () => Promise.resolve(supervise('stores', plan.stores)),
      async ready() {
        let down: string[] = [];
        const up = async () => (down = await storesDown(host, plan.stores)).length === 0;
        await waitUntil(up, 'the stores', STORES_UP_MS, POLL_MS).catch(() =>
          log.warn({ down }, `not up after ${STORES_UP_MS / 1000} s: ${down.join(', ')}; still trying`),
        );
      },
      stop: async () => supervisors.get('stores')?.stop(),
    },
  };
}
