import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { AppError, createProductCatalog, type ProductCatalog } from '@spectrum-grocers/contract';

const require = createRequire(import.meta.url);
/** Read once per file: every part of a process (handlers, routes, the gate's checks) shares one catalog. */
const cache = new Map<string, ProductCatalog>();

/** The contract's `products.json`: ids 1–100, price in cents, starting stock, restock threshold. */
const defaultCatalogFile = () => require.resolve('@spectrum-grocers/contract/products.json');
/** A catalog of 100,000 products can fail on every one: the first few problems say enough. */
const PROBLEMS_SHOWN = 3;

/**
 * The store's product catalog: `file` (CATALOG_FILE) when given, else the contract's
 * `products.json`. A file that is not JSON, fails the Product schema or repeats an id stops
 * the service (CONFIG_INVALID naming CATALOG_FILE): a store cannot price or stock from half a catalog.
 */
export function loadProductCatalog(file?: string): ProductCatalog {
  const path = resolve(file ?? defaultCatalogFile());
  let catalog = cache.get(path);
  if (catalog === undefined) {
    catalog = readCatalog(path);
    cache.set(path, catalog);
  }
  return catalog;
}

function readCatalog(path: string): ProductCatalog {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(path, `not a JSON product catalog: ${(err as Error).message}`, err);
  }
  try {
    return createProductCatalog(data);
  } catch (err) {
    throw invalid(path, firstProblems((err as Error).message), err);
  }
}

function invalid(path: string, problem: string, cause: unknown): AppError {
  return new AppError('CONFIG_INVALID', `CATALOG_FILE ${path}: ${problem}`, { cause });
}

/** `invalid product catalog: a; b; c; d; …` with only the first few problems, and how many more. */
function firstProblems(message: string): string {
  const problems = message.split('; ');
  if (problems.length <= PROBLEMS_SHOWN) return message;
  return `${problems.slice(0, PROBLEMS_SHOWN).join('; ')}; and ${problems.length - PROBLEMS_SHOWN} more`;
}
