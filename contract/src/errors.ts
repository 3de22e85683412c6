/**
 * The one error type of the suite. Every failure carries a code from this catalog and says
 * whether trying again can help; anything caught as `unknown` goes through `toAppError` first.
 */
export const ERROR_CODES = {
  /** A delivery id already stands for a different delivery (another product or quantity). */
  DELIVERY_CONFLICT: { retryable: false },
  /** The environment or `.env` holds a bad value; the service cannot start. */
  CONFIG_INVALID: { retryable: false },
  /** A payload is not JSON, not UTF-8, or fails its event schema. */
  PAYLOAD_INVALID: { retryable: false },
  /** A basket names a product the catalog does not know. */
  UNKNOWN_PRODUCT: { retryable: false },
  /** The broker is unreachable or refused an operation; it may come back. */
  BROKER_UNAVAILABLE: { retryable: true },
  /** The broker refused our credentials or a subscription: configuration, not luck. */
  NOT_AUTHORIZED: { retryable: false },
  /** Another process connects with our client id: the broker keeps closing one of us. */
  CLIENT_ID_IN_USE: { retryable: false },
  /** Another live process (a second copy of this service, or of `pnpm start`) holds our DATA_DIR. */
  DATA_DIR_IN_USE: { retryable: false },
  /** A TCP port we must listen on is already taken. */
  PORT_IN_USE: { retryable: false },
  /** A timed wait ran out. */
  TIMEOUT: { retryable: true },
  /** The local SQLite store failed; a busy or locked database may recover. */
  STORE_FAILED: { retryable: true },
  /**
   * Syncing the store to disk failed: the page cache may already have dropped the writes, so the
   * process stops rather than trust what it reads back.
   */
  STORAGE_FAILED: { retryable: false },
  /** A service's code disagrees with the topic catalog (what it consumes or publishes): a build that must not run. */
  CONTRACT_MISMATCH: { retryable: false },
  /** A bug or an unexpected failure. */
  INTERNAL: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
  }
}

const SQLITE_RETRYABLE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL']);

/** Normalise anything thrown into an AppError, keeping the original as `cause`. */
export function toAppError(err: unknown, fallback: ErrorCode = 'INTERNAL'): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Error) {
    const sqliteCode = (err as { code?: unknown }).code;
    if (typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_')) {
      return new AppError('STORE_FAILED', err.message, {
        cause: err,
        // Extended codes refine a primary one: SQLITE_BUSY_SNAPSHOT is a SQLITE_BUSY.
        retryable: SQLITE_RETRYABLE.has(sqliteCode.split('_', 2).join('_')),
      });
    }
    return new AppError(fallback, err.message, { cause: err });
  }
  return new AppError(fallback, String(err), { cause: err });
}
