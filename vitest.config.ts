import { defineConfig } from 'vitest/config';

// Tests run the TypeScript sources of workspace packages (the "@spectrum-grocers/source"
// export condition); the end-to-end and compose tests run the built services as processes.
// After ours, Vite's default server conditions.
const conditions = ['@spectrum-grocers/source', 'module', 'node', 'development|production'];
const packages = [
  'contract',
  'runtime',
  'hq',
  'broker',
  'docs',
  'store',
  'chain',
  'gateway-guardian',
  'hello-helper',
  'gateexit-guardian',
  'inventory-intel',
  'fastlane-finale',
  'control-room',
  'uplink',
  'logistics',
  'head-office',
  'grocer',
];

const TOP_LEVEL = new Set(['contract', 'runtime', 'hq', 'broker', 'docs', 'store', 'chain']);
const dirOf = (name: string) => (TOP_LEVEL.has(name) ? name : name === 'grocer' ? `tools/${name}` : `services/${name}`);

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-artifacts/vitest.json' },
    hookTimeout: 30_000,
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: {
          name,
          include: [`${dirOf(name)}/src/**/*.test.ts`],
        },
      })),
      { extends: true as const, test: { name: 'e2e', include: ['e2e/**/*.test.ts'], fileParallelism: false } },
      // The fault suite runs on its own (pnpm test:faults): minutes of load and kill -9.
      ...(process.env.FF_FAULTS === '1'
        ? [
            {
              extends: true as const,
              test: { name: 'faults', include: ['faults/**/*.test.ts'], fileParallelism: false },
            },
          ]
        : []),
    ],
  },
});
