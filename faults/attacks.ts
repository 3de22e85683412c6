import { spawn } from 'node:child_process';
import mqtt from 'mqtt';

/** CONNECTs an attacker on this machine tried: names that hit Object.prototype, huge, empty, binary. */
export const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  '',
  'x'.repeat(60_000),
  '\u0001\u007f\uffff',
];

/** Names no command line can carry (a NUL byte), sent by MQTT.js instead. */
export const WIRE_ONLY_NAMES = ['\u0000', 'fastlane\u0000finale', '\u0000__proto__'];

/**
 * A CONNECT with `opts`: 'connected' on a CONNACK that accepts it, 'refused' on one that does
 * not or when the broker just closes the socket (as it does for a malformed CONNECT).
 */
export function connectOnce(url: string, opts: mqtt.IClientOptions): Promise<'connected' | 'refused'> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    const settle = (outcome: 'connected' | 'refused') => {
      c.removeAllListeners();
      c.on('error', () => undefined);
      c.end(true);
      resolve(outcome);
    };
    c.once('connect', () => settle('connected'));
    c.once('error', () => settle('refused'));
    c.once('close', () => settle('refused'));
  });
}

/** `mosquitto_sub` as an attacker runs it; resolves with its exit code (never hangs past 5 s). */
export function mosquittoSub(port: number, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-C', '1', '-W', '2', ...args], {
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', (code) => (clearTimeout(timer), resolve(code)));
  });
}

/** One take-over attempt: connect with `clientId` and a persistent session, linger, leave. */
export async function tryTakeOver(
  url: string,
  clientId: string,
  account: Partial<Record<'username' | 'password', string>>,
): Promise<'connected' | 'refused'> {
  const outcome = await connectOnce(url, { ...account, clientId, clean: false });
  if (outcome === 'connected') await new Promise((r) => setTimeout(r, 100));
  return outcome;
}
