import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createProductCatalog } from './products.js';

const loadProductCatalog = () =>
  createProductCatalog(JSON.parse(readFileSync(new URL('../data/products.json', import.meta.url), 'utf8')));

describe('product catalog', () => {
  it('holds products 1 to 100 with prices in cents and thresholds below starting stock', () => {
    const catalog = loadProductCatalog();
    expect(catalog.products.map((p) => p.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const p of catalog.products) {
      expect(Number.isInteger(p.price_cents)).toBe(true);
      expect(p.restock_threshold).toBeLessThan(p.starting_stock);
    }
    expect(catalog.get(1)?.name).toMatch(/Milk/);
    expect(catalog.get(101)).toBeUndefined();
  });

  it('refuses a catalog with a duplicate id or a fractional price', () => {
    const p = { id: 1, name: 'Milk', price_cents: 129, starting_stock: 10, restock_threshold: 2 };
    expect(() => createProductCatalog([p, p])).toThrow(/duplicate id 1/);
    expect(() => createProductCatalog([{ ...p, price_cents: 1.29 }])).toThrow(/price_cents/);
  });
});
