import { resolve } from 'node:path';
import { AppError, chainFilter, type TopicRoot } from '@spectrum-grocers/contract';
import {
  createLogger,
  loadConfig,
  lockDataDir,
  runMain,
  untilSignal,
  type Config,
  type Logger,
} from '@spectrum-grocers/runtime';
import { PORT_OFFSET_STEP } from '@spectrum-grocers/runtime/session';
import { takenPorts, type Fatal } from '@spectrum-grocers/store';
import { ChainEnv, notBuilt, portsTaken, serversMissing } from './config.js';
import { planChain, START_ORDER, STOP_ORDER, STORES, type ChainPlan, type Step } from './plan.js';
import { chainSteps, type StepControl } from './steps.js';

/** Stopping the whole chain (stores, then HQ, then the servers) may take this long before we give up on it. */
const STOP_WATCHDOG_MS = 45_000;

runMain(
  'chain',
  async (onStopping) => {
    const config = loadConfig('chain', { options: ChainEnv });
    const log = createLogger(config);
    const { CHAIN_PORT_OFFSET: offset, CHAIN_DATA_DIR } = config.options;
    const dataDir = resolve(CHAIN_DATA_DIR);
    const plan = planChain(offset, dataDir, config.http.host);
    const missing = serversMissing();
    if (missing) throw new AppError('CONFIG_INVALID', missing);
    const unbuilt = notBuilt(plan);
    if (unbuilt.length > 0) {
      throw new AppError('CONFIG_INVALID', `not built: ${unbuilt.join(', ')}; build with: npx -y pnpm@10 build`);
    }
    // One chain per directory: two would share NATS's stores, PostgreSQL's data and the stores' databases.
    const beside = `CHAIN_PORT_OFFSET=${offset + STORES.length * PORT_OFFSET_STEP}`;
    const lock = lockDataDir(
      dataDir,
      'chain',
      'pnpm start:chain',
      undefined,
      `stop that one, or run another beside it with CHAIN_DATA_DIR=<another directory> ${beside}`,
    );
    try {
      // Every port checked before anything starts: a taken one is one line, not a part failing over and over.
      const taken = await takenPorts(plan.listeners);
      if (taken.length > 0) throw portsTaken(taken, beside);
      const fatal = await run(plan, config, log, onStopping);
      if (fatal) throw new AppError(fatal.code, `${fatal.service} stopped: ${fatal.message.replace(/:$/, ' (above)')}`);
    } finally {
      lock.release();
    }
  },
  STOP_WATCHDOG_MS,
);

/** What each step starts, as the line before its output says. */
const STEP_NAMES: Readonly<Record<Step, string>> = {
  nats: "the head office's NATS cluster",
  postgres: "the head office's PostgreSQL",
  hq: "the head office's services, waiting until they hold their intakes",
  stores: 'the stores',
};

/** Start each step in order, show the pages, wait for Ctrl-C (or a part's fatal failure), stop in order. */
async function run(
  plan: ChainPlan,
  config: Config<typeof ChainEnv>,
  log: Logger,
  onStopping: () => void,
): Promise<Fatal | undefined> {
  let onFatal: (fatal: Fatal) => void = () => undefined;
  const failed = new Promise<Fatal>((resolve) => (onFatal = resolve));
  // A closed terminal stops the chain as Ctrl-C does: its hangup reaches this process alone, the
  // parts being in process groups of their own, and would end it without stopping them.
  process.once('SIGHUP', () => process.kill(process.pid, 'SIGTERM'));
  const stop = Promise.race([untilSignal(log), failed]);
  const pretty = config.log.format === 'pretty';
  const steps = chainSteps({
    plan,
    log,
    color: pretty && process.env.NO_COLOR === undefined,
    env: process.env,
    common: { LOG_FORMAT: config.log.format },
    httpHost: config.http.host,
    onFatal: (fatal) => onFatal(fatal),
  });
  const startedAt = Date.now();
  const started = new Set<Step>();
  try {
    for (const step of START_ORDER) {
      log.info(`starting ${STEP_NAMES[step]}`);
      started.add(step);
      if (await interrupted(steps[step], stop)) return await fatalOf(stop);
    }
    showPages(plan, config.topics, log, Date.now() - startedAt);
    return await fatalOf(stop);
  } finally {
    onStopping();
    for (const group of STOP_ORDER) await Promise.all(group.filter((s) => started.has(s)).map((s) => steps[s].stop()));
    log.info('chain stopped');
  }
}

/** Start a step and wait until it is up, unless Ctrl-C (or a fatal failure) comes first. */
async function interrupted(step: StepControl, stop: Promise<unknown>): Promise<boolean> {
  await step.start();
  const ready = step.ready();
  // Should Ctrl-C win, the wait goes on a little in the background: its failure no longer matters.
  ready.catch(() => undefined);
  return Promise.race([ready.then(() => false), stop.then(() => true)]);
}

async function fatalOf(stop: Promise<NodeJS.Signals | Fatal>): Promise<Fatal | undefined> {
  const why = await stop;
  return typeof why === 'object' ? why : undefined;
}

function showPages(plan: ChainPlan, topics: TopicRoot, log: Logger, tookMs: number): void {
  const nats = plan.nats.ports[0]!.mqtt;
  log.info(
    `chain running, all up in ${Math.round(tookMs / 1000)} s; watch HQ with: mosquitto_sub -p ${nats} -v -t '${chainFilter(topics)}'`,
  );
  for (const page of plan.pages) log.info(`${page.what}: ${page.url}`);
}
