import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError, createProductCatalog } from '@spectrum-grocers/contract';
import { tempDir } from '@spectrum-grocers/testkit';
import { loadProductCatalog } from './products.js';

const dir = tempDir();
afterAll(() => dir.remove());
let files = 0;
const write = (text: string) => {
  const file = join(dir.path, `catalog-${files++}.json`);
  writeFileSync(file, text);
  return file;
};

/** Names that a reader cutting the file at commas and brackets could trip on. */
const name = fc.stringMatching(/^[a-z [\]{},"\\:é€😀\u2028]{1,12}$/u);
const products = fc
  .uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 2600 })
  .chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.record({
          id: fc.constant(id),
          name,
          price_cents: fc.nat(100_000),
          starting_stock: fc.nat(1000),
          restock_threshold: fc.nat(100),
        }),
      ),
    ),
  );
/** JSON with blanks of its own between the tokens, as a person or another tool may write it. */
const spaced = (value: unknown, indent: number) => `\n ${JSON.stringify(value, null, indent)}\t\r\n`;

describe('reading CATALOG_FILE a piece at a time', () => {
  it('reads any catalog exactly as parsing the whole file would', () => {
    fc.assert(
      fc.property(products, fc.integer({ min: 0, max: 3 }), (list, indent) => {
        const read = loadProductCatalog(write(spaced(list, indent)));
        const whole = createProductCatalog(list);
        expect(read.products).toEqual(whole.products);
        for (const p of list) expect(read.get(p.id)).toEqual(p);
      }),
      { numRuns: 30 },
    );
  });

  it('reads a file of several read chunks (1 MB each), characters split between them', () => {
    const list = Array.from({ length: 15_000 }, (_, i) => ({
      id: i + 1,
      name: `😀 é "[${i}]" ${'€'.repeat(i % 7)}`,
      price_cents: i,
      starting_stock: 50,
      restock_threshold: 5,
    }));
    const text = spaced(list, 2);
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 * 1024 * 1024);
    const read = loadProductCatalog(write(text));
    expect(read.products).toEqual(list);
  });

  it('refuses what is not one JSON array of products', () => {
    const p = { id: 1, name: 'a', price_cents: 1, starting_stock: 1, restock_threshold: 0 };
    const one = JSON.stringify(p);
    for (const text of ['', '[', '[]', `[${one},]`, '[,]', `[${one}] x`, `[${one}`, '{}', '"text"', `[${one},,${one}]`])
      expect(() => loadProductCatalog(write(text)), JSON.stringify(text)).toThrow(AppError);
  });
});
