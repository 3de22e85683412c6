import { describe, expect, it } from 'vitest';
import { AppError } from '@spectrum-grocers/contract';
import { failureLine, parseFailureLine } from './lifecycle.js';

describe("a process's failure line", () => {
  it('reads back the code and message runMain printed, so a supervisor can tell a failure no restart mends', () => {
    const line = failureLine('hello-helper', new AppError('PORT_IN_USE', 'HTTP port 8083 is already in use'));
    expect(line).toBe('hello-helper: [PORT_IN_USE] HTTP port 8083 is already in use');
    expect(parseFailureLine('hello-helper', line)).toEqual({
      code: 'PORT_IN_USE',
      message: 'HTTP port 8083 is already in use',
    });
  });

  it("is another process's, or no failure line at all, otherwise", () => {
    const line = failureLine('hello-helper', new AppError('PORT_IN_USE', 'taken'));
    expect(parseFailureLine('gateway-guardian', line)).toBeUndefined();
    expect(parseFailureLine('hello-helper', failureLine('hello-helper', new Error('boom')))).toBeUndefined();
    expect(parseFailureLine('hello-helper', '{"level":30,"msg":"hello-helper: [PORT_IN_USE] x"}')).toBeUndefined();
    expect(failureLine('hello-helper', 'plain')).toBe('hello-helper: plain');
  });
});
