import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { AppError } from '@spectrum-grocers/contract';
import { checkAgainstCatalog } from './service.js';

/**
 * A service that disagrees with the topic catalog must not build. Each line of this file marked
 * `// refused` must be a type error, and no other line.
 */
const SPECS = `
import { startService, type ServiceSpec } from './service.js';
import type { EventHandler } from './consumer.js';

const bill: EventHandler<'customer-departure', 'payment-due'> = (d) => [
  { event: 'payment-due', payload: { event_id: 'p', timestamp: d.timestamp, customer_id: 1, amount: 0 } },
];
export const right: ServiceSpec<'fastlane-finale'> = {
  service: 'fastlane-finale',
  publishes: ['payment-due'],
  consumes: () => ({ 'customer-departure': bill, 'price-change': () => [] }),
};
export const publishesAnother: ServiceSpec<'fastlane-finale'> = {
  service: 'fastlane-finale',
  publishes: ['restock-alert'], // refused
};
export const consumesAnother: ServiceSpec<'fastlane-finale'> = {
  service: 'fastlane-finale',
  consumes: () => ({ 'customer-departure': bill, 'price-change': () => [], 'customer-arrival': () => [] }), // refused
};
export const missesOne: ServiceSpec<'inventory-intel'> = {
  service: 'inventory-intel',
  consumes: () => ({}), // refused
};
export const handlerPublishesAnother: EventHandler<'customer-departure', 'payment-due'> = (d) => [
  { event: 'restock-alert', payload: { event_id: 'r', timestamp: d.timestamp, item_id: 1, quantity: 0, threshold: 1 } }, // refused
];
export const gateConsumes: ServiceSpec<'gateway-guardian'> = {
  service: 'gateway-guardian',
  consumes: () => ({ 'customer-arrival': () => [] }), // refused
};
export const observerPublishes: ServiceSpec<'control-room'> = {
  service: 'control-room',
  publishes: ['payment-due'], // refused
};
void startService;
`;

function typeErrorLines(source: string): number[] {
  const file = fileURLToPath(new URL('./catalog-specs.fixture.ts', import.meta.url));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    customConditions: ['@spectrum-grocers/source'],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : read(name, version, ...rest);
  const exists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || exists(name);
  const program = ts.createProgram([file], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file);
  return [...new Set(diagnostics.map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line + 1))].sort(
    (a, b) => a - b,
  );
}

describe('a service checked against the topic catalog', () => {
  it('does not build when it declares, consumes or publishes what the catalog does not say', () => {
    const marked = SPECS.split('\n')
      .map((line, i) => (line.includes('// refused') ? i + 1 : 0))
      .filter((n) => n > 0);
    expect(typeErrorLines(SPECS)).toEqual(marked);
  }, 60_000);

  it('does not start when its declaration disagrees with the catalog (a cast past the types, a stale build)', () => {
    const refuse = (declared: { consumes: string[]; publishes: string[] }) => () =>
      checkAgainstCatalog('fastlane-finale', declared);
    const reads = ['customer-departure', 'price-change'];
    expect(refuse({ consumes: reads, publishes: ['payment-due'] })).not.toThrow();
    for (const wrong of [
      { consumes: [], publishes: ['payment-due'] },
      { consumes: ['customer-departure'], publishes: ['payment-due'] },
      { consumes: reads, publishes: [] },
      { consumes: [...reads, 'customer-arrival'], publishes: ['payment-due'] },
      { consumes: reads, publishes: ['payment-due', 'restock-alert'] },
    ]) {
      expect(refuse(wrong)).toThrow(AppError);
      expect(refuse(wrong)).toThrow(/fastlane-finale .*the catalog says/);
    }
    expect(() => checkAgainstCatalog('control-room', { consumes: [], publishes: [] })).not.toThrow();
    expect(() => checkAgainstCatalog('control-room', { consumes: [], publishes: ['payment-due'] })).toThrow(
      /CONTRACT_MISMATCH|control-room publishes/,
    );
  });
});
