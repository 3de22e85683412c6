import { z } from 'zod';
import { describeIssues } from './parse.js';

export const Product = z.object({
  id: z.int().positive(),
  name: z.string().min(1),
  price_cents: z.int().nonnegative(),
  starting_stock: z.int().nonnegative(),
  restock_threshold: z.int().nonnegative(),
});
export type Product = z.infer<typeof Product>;

const ProductFile = z.array(z.unknown()).min(1);

export interface ProductCatalog {
  /** Every product, in the file's order. Read it once and keep what you need: a big catalog builds it anew. */
  readonly products: readonly Product[];
  get(id: number): Product | undefined;
}

/**
 * The catalog in columns: a number array per field, the names, and the positions sorted by id.
 * A catalog of 100,000 products held as frozen objects in a Map takes about 17 MB of a service's
 * heap; in columns about 5 MB. A product becomes an object only when asked for.
 */
interface Columns {
  readonly ids: Float64Array;
  readonly names: readonly string[];
  readonly prices: Float64Array;
  readonly stocks: Float64Array;
  readonly thresholds: Float64Array;
  /** Positions of the products, by ascending id: `get` searches it. */
  readonly byId: Uint32Array;
}

type NumberColumn = 'ids' | 'prices' | 'stocks' | 'thresholds';
const NUMBER_COLUMNS: readonly NumberColumn[] = ['ids', 'prices', 'stocks', 'thresholds'];

/** Columns that grow as products come (their count is unknown when they come one by one). */
function growingColumns() {
  const cols = {
    ids: new Float64Array(1024),
    prices: new Float64Array(1024),
    stocks: new Float64Array(1024),
    thresholds: new Float64Array(1024),
  };
  const names: string[] = [];
  return {
    add(p: Product): void {
      const i = names.length;
      if (i === cols.ids.length) {
        for (const key of NUMBER_COLUMNS) {
          const wider = new Float64Array(i * 2);
          wider.set(cols[key]);
          cols[key] = wider;
        }
      }
      cols.ids[i] = p.id;
      cols.prices[i] = p.price_cents;
      cols.stocks[i] = p.starting_stock;
      cols.thresholds[i] = p.restock_threshold;
      names.push(p.name);
    },
    /** Trimmed to the products added, and indexed by id. */
    done(): Columns {
      const n = names.length;
      const ids = cols.ids.slice(0, n);
      return {
        ids,
        names,
        prices: cols.prices.slice(0, n),
        stocks: cols.stocks.slice(0, n),
        thresholds: cols.thresholds.slice(0, n),
        byId: sortedById(ids),
      };
    },
  };
}

/** Validate product by product (no parsed copy of the whole file) into columns; every problem is named. */
function toColumns(items: Iterable<unknown>): Columns {
  const cols = growingColumns();
  const issues: z.core.$ZodIssue[] = [];
  let i = 0;
  for (const item of items) {
    const parsed = Product.safeParse(item);
    if (parsed.success) cols.add(parsed.data);
    else for (const issue of parsed.error.issues) issues.push({ ...issue, path: [i, ...issue.path] });
    i++;
  }
  if (i === 0) issues.push(...ProductFile.safeParse([]).error!.issues);
  if (issues.length > 0) throw invalid(describeIssues(new z.ZodError(issues)));
  return cols.done();
}

/** Positions sorted by id; a repeated id is refused. */
function sortedById(ids: Float64Array): Uint32Array {
  const order = Uint32Array.from({ length: ids.length }, (_, i) => i).sort((a, b) => ids[a]! - ids[b]!);
  for (let k = 1; k < order.length; k++) {
    const id = ids[order[k]!]!;
    if (id === ids[order[k - 1]!]) throw invalid(`duplicate id ${id}`);
  }
  return order;
}

/** The position of product `id`, or -1 (binary search of `byId`). */
function positionOf(cols: Columns, id: number): number {
  let lo = 0;
  let hi = cols.byId.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = cols.byId[mid]!;
    const found = cols.ids[at]!;
    if (found === id) return at;
    if (found < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function productAt(cols: Columns, i: number): Product {
  return Object.freeze({
    id: cols.ids[i]!,
    name: cols.names[i]!,
    price_cents: cols.prices[i]!,
    starting_stock: cols.stocks[i]!,
    restock_threshold: cols.thresholds[i]!,
  });
}

function invalid(problem: string): Error {
  return new Error(`invalid product catalog: ${problem}`);
}

/** An array, or products one by one as a file is read; not a string (whose characters iterate). */
function isIterable(data: unknown): data is Iterable<unknown> {
  return typeof data === 'object' && data !== null && Symbol.iterator in data;
}

/**
 * Build a catalog from parsed data (the file's array), or from its products one by one (an
 * iterable parsing the file as it is read: no whole parsed copy of a big file at once); ids
 * must be unique. An error a product's parsing throws passes through as it is.
 */
export function createProductCatalog(data: unknown): ProductCatalog {
  if (!isIterable(data)) throw invalid(describeIssues(ProductFile.safeParse(data).error!));
  const cols = toColumns(data);
  // The whole list only while someone holds it (the inventory's seeding): then it is garbage again.
  let held: WeakRef<readonly Product[]> | undefined;
  return Object.freeze({
    get products(): readonly Product[] {
      let list = held?.deref();
      if (list === undefined) {
        list = Object.freeze(Array.from({ length: cols.ids.length }, (_, i) => productAt(cols, i)));
        held = new WeakRef(list);
      }
      return list;
    },
    get(id: number): Product | undefined {
      const at = positionOf(cols, id);
      return at < 0 ? undefined : productAt(cols, at);
    },
  });
}
