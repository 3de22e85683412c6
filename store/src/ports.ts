import { createServer } from 'node:net';
import { AppError } from '@spectrum-grocers/contract';

/** A port the store is about to listen on, and the variable that moves it. */
export interface Listener {
  /** `the MQTT broker`, or the process's name. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** MQTT_PORT, or the process's own `<SERVICE>_HTTP_PORT`. */
  readonly variable: string;
}

/** Whether `host:port` can be listened on now; nothing is left listening. */
export function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The listeners whose port someone else holds (port 0, any free port, is never taken). One at a
 * time: two probes of one port at once would find it taken by each other.
 */
export async function takenPorts(listeners: readonly Listener[]): Promise<Listener[]> {
  const taken: Listener[] = [];
  for (const l of listeners) if (l.port !== 0 && !(await isFree(l.host, l.port))) taken.push(l);
  return taken;
}

/**
 * One line naming every taken port and what to set: `remedy` (run this store beside the other,
 * e.g. `set PORT_OFFSET=10 …`), or each port's own variable.
 */
export function portsInUse(taken: readonly Listener[], remedy: string | undefined): AppError {
  const what = taken.map((l) => `${l.port} (${l.name})`).join(', ');
  const head =
    taken.length === 1 ? `port ${what} is already in use (another store?)` : `ports ${what} are already in use`;
  const own = taken.map((l) => l.variable).join(', ');
  const mqtt = taken.some((l) => l.variable === 'MQTT_PORT')
    ? ', or MQTT_URL=mqtt://host:port to use a broker that runs already'
    : '';
  const moves = `${own} to ${taken.length === 1 ? 'a free port' : 'free ports'}${mqtt}`;
  return new AppError('PORT_IN_USE', `${head}: ${remedy ? `${remedy}; or set ${moves}` : `set ${moves}`}`);
}
