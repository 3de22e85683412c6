import { readFileSync } from 'node:fs';
import { type ServiceName, type TopicRoot, DEFAULT_ROOT } from '@spectrum-grocers/contract';
import {
  makeCredentials,
  mosquittoAcl,
  mosquittoPasswordLine,
  newPassword,
  passwordVariable,
  type Account,
} from '@spectrum-grocers/broker';
import {
  repoPath,
  spawnService,
  startMosquitto,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type Mosquitto,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

/**
 * A store for fault tests: Mosquitto from the production config with its accounts and ACL,
 * and services as processes that can be killed and started again on their own data.
 */
export interface FaultStore {
  readonly broker: Mosquitto;
  readonly root: { chain: string; store: string };
  /** DATA_DIR of every service: `<service>.db` in it. */
  readonly dataDir: string;
  /** The credentials of an account (a service, `control-room` or `observer`), for test clients. */
  account(name: Account): { username: string; password: string };
  /**
   * A read-everything account of its own for one more test watcher: the broker names each
   * connection after its account, so two watchers on one account would displace each other.
   */
  watcher(): { username: string; password: string };
  proc(name: ServiceName): ServiceProcess;
  /** Start (or start again, on the same data and client id) a service; resolves once it is subscribed/connected. */
  start(name: ServiceName, env?: Record<string, string>): Promise<ServiceProcess>;
  /**
   * Start a service without waiting for it to be ready: one told to die early (a failpoint) may
   * never answer /healthz. Await its `exited`; `httpUrl` keeps the address of its last `start`.
   */
  launch(name: ServiceName, env?: Record<string, string>): ServiceProcess;
  /** kill -9, no goodbye. */
  kill(name: ServiceName): Promise<void>;
  httpUrl(name: ServiceName, path: string): string;
  dispose(): Promise<void>;
}

const WATCHERS = 8;

export async function startFaultStore(
  env: Record<string, string> = {},
  /** Another store of the chain than the seed's (its ACL made for it), and more broker config (a bridge). */
  opts: { root?: TopicRoot; extraConfig?: string } = {},
): Promise<FaultStore> {
  const root = opts.root ?? DEFAULT_ROOT;
  const { passwordFile, env: passwords } = makeCredentials({});
  const watchers = Array.from({ length: WATCHERS }, (_, i) => ({
    username: `test-watcher-${i}`,
    password: newPassword(),
  }));
  const broker = await startMosquitto({
    auth: {
      passwordFile: passwordFile + watchers.map((w) => `${mosquittoPasswordLine(w.username, w.password)}\n`).join(''),
      acl: [
        opts.root ? mosquittoAcl(root) : readFileSync(repoPath('broker/acl'), 'utf8'),
        ...watchers.map((w) => `user ${w.username}\ntopic read #\n`),
      ].join('\n'),
    },
    extraConfig: opts.extraConfig,
  });
  let handedOut = 0;
  const data = tempDir('ff-faults-');
  const procs = new Map<ServiceName, ServiceProcess>();
  const ports = new Map<ServiceName, number>();
  const launch = (name: ServiceName, own: Record<string, string> = {}): ServiceProcess => {
    const proc = spawnService(name, {
      MQTT_URL: broker.url,
      MQTT_USERNAME: name,
      MQTT_PASSWORD: passwords[passwordVariable(name)]!,
      DATA_DIR: data.path,
      CHAIN: root.chain,
      STORE: root.store,
      ...TEST_SERVICE_ENV,
      ...env,
      ...own,
    });
    procs.set(name, proc);
    return proc;
  };
  return {
    broker,
    root,
    dataDir: data.path,
    account: (name) => ({ username: name, password: passwords[passwordVariable(name)]! }),
    watcher() {
      const w = watchers[handedOut++];
      if (!w) throw new Error(`a fault store has ${WATCHERS} watcher accounts`);
      return w;
    },
    proc: (name) => procs.get(name)!,
    launch,
    async start(name, own = {}) {
      const proc = launch(name, own);
      const port = await proc.httpPort();
      ports.set(name, port);
      // 200 once connected and subscribed.
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200,
        `${name} to be ready`,
        20_000,
      );
      return proc;
    },
    async kill(name) {
      await procs.get(name)?.stop('SIGKILL');
    },
    httpUrl: (name, path) => `http://127.0.0.1:${ports.get(name)}${path}`,
    async dispose() {
      await Promise.all([...procs.values()].map((p) => p.stop('SIGKILL')));
      await broker.dispose();
      data.remove();
    },
  };
}
