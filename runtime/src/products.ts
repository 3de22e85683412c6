import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw notJson(path, err);
  }
  try {
    return createProductCatalog(
      firstByte(fd) === OPEN_ARRAY ? arrayElements(fd) : JSON.parse(readFileSync(fd, 'utf8')),
    );
  } catch (err) {
    // A SyntaxError, or a failed read (EISDIR), from the file as the catalog reads it.
    if (err instanceof SyntaxError || (err as NodeJS.ErrnoException).syscall !== undefined) throw notJson(path, err);
    throw invalid(path, firstProblems((err as Error).message), err);
  } finally {
    closeSync(fd);
  }
}

function notJson(path: string, err: unknown): AppError {
  return invalid(path, `not a JSON product catalog: ${(err as Error).message}`, err);
}

const [SPACE, TAB, LF, CR, QUOTE, BACKSLASH, COMMA, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = Array.from(
  ' \t\n\r"\\,[]{}',
  (c) => c.charCodeAt(0),
);
const isSpace = (c: number | undefined) => c === SPACE || c === TAB || c === LF || c === CR;

/** The first byte of the file that is not blank (read without moving its position), if any. */
function firstByte(fd: number): number | undefined {
  const buf = Buffer.alloc(256);
  for (let pos = 0, n = 0; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) {
    const at = buf.subarray(0, n).findIndex((c) => !isSpace(c));
    if (at >= 0) return buf[at];
  }
  return undefined;
}

/** Bytes read at a time: a big catalog's file is never in memory whole. */
const CHUNK_BYTES = 1 << 20;
/** Products parsed per JSON.parse call: few enough to die young, enough to keep the calls few. */
const BATCH = 1000;

/**
 * A catalog file's array, product by product. JSON.parse of a catalog of 100,000 products
 * holds its text and every parsed product at once (some 25 MB, 11 MB of them outside the heap
 * until a full collection) and grows the service's heap for good; read a chunk at a time and
 * parsed BATCH products at a time, all of it is garbage the young generation clears. A batch ends
 * at a `,` or the `]` outside strings and nested brackets (UTF-8 never encodes other characters
 * with those bytes; the decoder joins a character split between chunks). Not JSON: SyntaxError.
 */
function* arrayElements(fd: number): Generator<unknown> {
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  const decoder = new StringDecoder('utf8');
  const scan: Scan = { opened: false, closed: false, depth: 0, inString: false, escaped: false, commas: 0 };
  let batch = '';
  let cut = false;
  for (let n = 0; (n = readSync(fd, chunk, 0, CHUNK_BYTES, null)) > 0;) {
    let start = 0;
    for (let i = 0; i < n; i++) {
      const boundary = step(scan, chunk[i]!);
      if (boundary === undefined) continue;
      batch += decoder.write(chunk.subarray(start, i));
      start = i + 1;
      // `[1,]` is not JSON: a batch cut at a comma leaves `[]` for the last, which would be.
      if (boundary === 'close' && cut && batch.trim() === '') throw new SyntaxError('Unexpected "]" after ","');
      if (boundary !== 'open') yield* JSON.parse(`[${batch}]`) as unknown[];
      cut = boundary === 'batch';
      batch = '';
    }
    if (!scan.closed) batch += decoder.write(chunk.subarray(start, n));
  }
  if (!scan.closed) throw new SyntaxError('Unexpected end of JSON input: the array is not closed');
}

/** Where the scan of an array's text is, byte after byte. */
interface Scan {
  opened: boolean;
  closed: boolean;
  /** Brackets open inside the array. */
  depth: number;
  inString: boolean;
  /** The byte before was a backslash in a string. */
  escaped: boolean;
  /** Commas between the array's elements so far. */
  commas: number;
}

/** One byte further: whether it opens the array, ends a batch of BATCH elements, or closes the array. */
function step(s: Scan, c: number): 'open' | 'batch' | 'close' | undefined {
  if (s.inString) {
    if (s.escaped) s.escaped = false;
    else if (c === BACKSLASH) s.escaped = true;
    else if (c === QUOTE) s.inString = false;
    return undefined;
  }
  if (!s.opened || s.closed) {
    if (isSpace(c)) return undefined;
    if (s.closed) throw new SyntaxError('Unexpected non-whitespace character after JSON');
    s.opened = true; // firstByte saw that it is `[`
    return 'open';
  }
  if (c === QUOTE) s.inString = true;
  else if (c === OPEN_ARRAY || c === OPEN_OBJECT) s.depth++;
  else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && s.depth > 0) s.depth--;
  else if (c === CLOSE_ARRAY) return ((s.closed = true), 'close');
  else if (c === COMMA && s.depth === 0 && ++s.commas % BATCH === 0) return 'batch';
  return undefined;
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
