import type { Readable } from 'node:stream';

/** What a server keeps of its own output: enough to say why it failed, not its whole life. */
const KEPT_CHARS = 256 * 1024;

export interface ProcessOutput {
  /** Follow one more process's stdout and stderr (a server started again writes on). */
  readonly follow: (streams: readonly Readable[]) => void;
  /** The output so far (its last KEPT_CHARS characters). */
  readonly text: () => string;
  /** How much it has written so far: `since(mark)` is what came after. */
  readonly mark: () => number;
  readonly since: (mark: number) => string;
}

/**
 * The output of a server across its starts: its tail kept, each whole line handed to `onLine`
 * (a server that runs for days would otherwise grow this process's memory without bound).
 */
export function processOutput(onLine?: (line: string) => void): ProcessOutput {
  let kept = '';
  let written = 0;
  return {
    follow(streams) {
      for (const stream of streams) {
        let partial = '';
        stream.on('data', (chunk: Buffer) => {
          const text = chunk.toString();
          written += text.length;
          kept = (kept + text).slice(-KEPT_CHARS);
          if (!onLine) return;
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        });
        stream.on('end', () => partial && onLine?.(partial));
      }
    },
    text: () => kept,
    mark: () => written,
    since: (mark) => kept.slice(Math.max(0, kept.length - (written - mark))),
  };
}
