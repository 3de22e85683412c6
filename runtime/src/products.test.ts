import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@spectrum-grocers/contract';
import { tempDir } from '@spectrum-grocers/testkit';
import { loadProductCatalog } from './products.js';

const product = (id: number, price_cents = 100) => ({
  id,
  name: `product ${id}`,
  price_cents,
  starting_stock: 10,
  restock_threshold: 2,
});

describe('loadProductCatalog', () => {
  let dir: ReturnType<typeof tempDir>;
  const write = (name: string, text: string) => {
    const file = join(dir.path, name);
    writeFileSync(file, text);
    return file;
  };
  /** The AppError a bad file is refused with. */
  const refusal = (file: string): AppError => {
    try {
      loadProductCatalog(file);
    } catch (err) {
      if (err instanceof AppError) return err;
      throw err;
    }
    throw new Error(`${file} was accepted`);
  };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it("reads the contract's catalog by default: products 1–100", () => {
    const catalog = loadProductCatalog();
    expect(catalog.products).toHaveLength(100);
    expect(catalog.get(100)).toBeDefined();
  });

  it('reads CATALOG_FILE when given one, once per file', () => {
    const file = write('big.json', JSON.stringify([product(1, 250), product(5000)]));
    const catalog = loadProductCatalog(file);
    expect(catalog.products.map((p) => p.id)).toEqual([1, 5000]);
    expect(catalog.get(1)?.price_cents).toBe(250);
    expect(loadProductCatalog(file)).toBe(catalog);
    expect(loadProductCatalog()).not.toBe(catalog);
  });

  it('refuses a file that is not JSON, naming CATALOG_FILE', () => {
    const file = write('broken.json', '[{"id": 1,');
    const err = refusal(file);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(new RegExp(`^CATALOG_FILE ${file}: not a JSON product catalog`));
  });

  it('refuses products that fail the schema and repeated ids, on one line', () => {
    const bad = refusal(write('bad.json', JSON.stringify([product(1), { ...product(2), price_cents: 1.5 }])));
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.message).toMatch(/^CATALOG_FILE .*bad\.json: invalid product catalog: 1\.price_cents/);
    const twice = refusal(write('twice.json', JSON.stringify([product(1), product(1)])));
    expect(twice.message).toMatch(/CATALOG_FILE .*twice\.json: invalid product catalog: duplicate id 1$/);
    expect(twice.message).not.toContain('\n');
  });

  it('names only the first few problems of a catalog bad throughout', () => {
    const products = Array.from({ length: 1000 }, (_, i) => ({ ...product(i + 1), price_cents: -1 }));
    const err = refusal(write('all-bad.json', JSON.stringify(products)));
    expect(err.message).toMatch(/; and 997 more$/);
    expect(err.message.length).toBeLessThan(400);
  });
});
