/**
 * What one fsync costs on the disk the services write to: a departure waits for up to two of
 * them (the one under way, then its own), so their tail bounds the services' p99 under
 * DB_SYNCHRONOUS=full. Appends 4 KB (a page of the write-ahead log) and syncs it, as SQLite does.
 */
import { closeSync, fdatasync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@spectrum-grocers/testkit';

export interface DiskSync {
  p50: number;
  p99: number;
  max: number;
}

export async function measureDiskSync(count = 300): Promise<DiskSync> {
  const dir = tempDir('ff-bench-disk-');
  const fd = openSync(join(dir.path, 'wal'), 'w');
  const page = Buffer.alloc(4096, 1);
  const ms: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      writeSync(fd, page);
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      ms.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    dir.remove();
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => +ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2);
  return { p50: at(0.5), p99: at(0.99), max: +ms[ms.length - 1]!.toFixed(2) };
}
