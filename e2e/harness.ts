import { eventTopic, SERVICES, type ServiceName, type TopicRoot } from '@spectrum-grocers/contract';
import {
  spawnService,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type Collector,
  type Received,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

export interface RunningStore {
  readonly services: Record<ServiceName, ServiceProcess>;
  readonly ports: Record<ServiceName, number>;
  readonly store: string;
  url(service: ServiceName, path: string): string;
  /** How many of a product inventory-intel has now. */
  stockOf(productId: number): Promise<number>;
  /** A departure scanned at the exit gate and accepted (202); its event_id. */
  leave(customerId: number, productIds: number[]): Promise<string>;
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
  const url = (service: ServiceName, path: string) => `http://127.0.0.1:${ports[service]}${path}`;
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
    url,
    async stockOf(productId) {
      const rows = await getJson<Array<{ product_id: number; quantity: number }>>(url('inventory-intel', '/stock'));
      return rows.find((r) => r.product_id === productId)!.quantity;
    },
    async leave(customer_id, product_ids) {
      const scan = await postJson(url('gateexit-guardian', '/scans'), { customer_id, product_ids });
      if (scan.status !== 202) throw new Error(`the exit gate answered ${scan.status}: ${JSON.stringify(scan.body)}`);
      return scan.body.event_id as string;
    },
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

/** The payment-due of one departure, once `watcher` (on the store's topics) has it. */
export function paymentFor(watcher: Collector, root: TopicRoot, departureId: string): Promise<Received> {
  return waitUntil(
    () => watcher.on(eventTopic(root, 'payment-due')).find((m) => m.json().departure_event_id === departureId),
    `payment-due for ${departureId}`,
  );
}
