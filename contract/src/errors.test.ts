import { describe, expect, it } from 'vitest';
import { AppError, toAppError } from './errors.js';

describe('toAppError', () => {
  it('keeps an AppError as it is', () => {
    const e = new AppError('UNKNOWN_PRODUCT', 'no such product');
    expect(toAppError(e)).toBe(e);
    expect(e.retryable).toBe(false);
  });

  it('marks a busy SQLite database retryable and a constraint failure not', () => {
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_SNAPSHOT' });
    const constraint = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(toAppError(busy)).toMatchObject({ code: 'STORE_FAILED', retryable: true });
    expect(toAppError(constraint)).toMatchObject({ code: 'STORE_FAILED', retryable: false });
  });

  it('wraps anything else thrown, keeping it as the cause', () => {
    const e = toAppError('boom');
    expect(e).toMatchObject({ code: 'INTERNAL', message: 'boom', cause: 'boom' });
  });
});
