/**
 * The container healthcheck: exit 0 when this container's service answers 200 on /healthz.
 * A file to run (`node dist/healthcheck.js`) rather than `node -e '…'`, so no quoting can break
 * between a compose file and the shell that runs it.
 */
export async function runHealthcheck(defaultPort: number): Promise<never> {
  const port = Number(process.env.HTTP_PORT ?? defaultPort);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    process.exit(res.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
}
