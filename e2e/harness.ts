import { SERVICES, type ServiceName } from '@spectrum-grocers/contract';
import { spawnService, tempDir, TEST_SERVICE_ENV, type ServiceProcess } from '@spectrum-grocers/testkit';

export interface RunningStore {
  readonly services: Record<ServiceName, ServiceProcess>;
  readonly ports: Record<ServiceName, number>;
  readonly store: string;
  url(service: ServiceName, path: string): string;
  /** SIGTERM every service; resolves with each exit code. */
  stop(): Promise<Record<string, number | null>>;
  /** Kill what is left and delete the data directory. */
  dispose(): Promise<void>;
}

/** The five services as processes, simulation off, each on its own loopback HTTP port. */
export async function startStore(
  brokerUrl: string,
  store: string,
  env: Record<string, string> = {},
): Promise<RunningStore> {
  const data = tempDir('ff-e2e-');
  const ports = {} as Record<ServiceName, number>;
  const services = {} as Record<ServiceName, ServiceProcess>;
  for (const name of SERVICES) {
    services[name] = spawnService(name, {
      MQTT_URL: brokerUrl,
      STORE: store,
      DATA_DIR: data.path,
      ...TEST_SERVICE_ENV,
      DB_SYNCHRONOUS: 'normal',
      ...env,
    });
  }
  const kill = () => Promise.all(SERVICES.map((name) => services[name].stop('SIGKILL')));
  try {
    for (const name of SERVICES) ports[name] = await services[name].httpPort();
    await Promise.all(
      SERVICES.map((name) =>
        services[name].waitForLog(name.endsWith('guardian') ? 'connected to broker' : '"msg":"subscribed"'),
      ),
    );
  } catch (err) {
    // Never leave a half-started store behind.
    await kill();
    data.remove();
    throw err;
  }
  const stop = async () => {
    const codes = await Promise.all(
      SERVICES.map(async (name) => [name, await services[name].stop('SIGTERM')] as const),
    );
    return Object.fromEntries(codes);
  };
  return {
    services,
    ports,
    store,
    url: (service, path) => `http://127.0.0.1:${ports[service]}${path}`,
    stop,
    async dispose() {
      await kill();
      data.remove();
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
}
