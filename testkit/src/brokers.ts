import { startAedes } from './aedes.js';
import { skipWithoutMosquitto, startMosquitto } from './mosquitto.js';

export interface TestBroker {
  readonly url: string;
  /** Take the broker away (SIGTERM for Mosquitto) and bring it back on the same port. */
  bounce(): Promise<void>;
  close(): Promise<void>;
}

/** Both brokers the runtime must work with, for `describe.each`. */
export const TEST_BROKERS: ReadonlyArray<{ name: string; skip: boolean; start: () => Promise<TestBroker> }> = [
  {
    name: 'aedes (in-process)',
    skip: false,
    start: async () => {
      const b = await startAedes();
      return { url: b.url, bounce: async () => (await b.pause(), await b.resume()), close: () => b.close() };
    },
  },
  {
    name: 'Mosquitto (broker/mosquitto.conf)',
    skip: skipWithoutMosquitto,
    start: async () => {
      const m = await startMosquitto();
      return { url: m.url, bounce: async () => (await m.stop(), await m.restart()), close: () => m.dispose() };
    },
  },
];
