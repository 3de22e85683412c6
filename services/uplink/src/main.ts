import { UPLINK } from '@spectrum-grocers/contract';
import { createLogger, runMain, untilSignal } from '@spectrum-grocers/runtime';
import { loadUplinkConfig } from './config.js';
import { startUplink } from './uplink.js';

runMain(UPLINK, async (startWatchdog) => {
  const config = loadUplinkConfig();
  const log = createLogger(config);
  const signalled = untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose, dataDir: config.dataDir });
  const uplink = await startUplink(config, log);
  try {
    await Promise.race([signalled, uplink.failed]);
  } finally {
    startWatchdog();
    await uplink.stop();
  }
});
