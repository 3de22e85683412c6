import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, startService, type RunningService } from '@spectrum-grocers/runtime';
import { quietLogger, startAedes, tempDir, TEST_SERVICE_ENV, type EmbeddedTestBroker } from '@spectrum-grocers/testkit';
import { InventoryEnv, inventorySpec } from './inventory.js';

const product = (id: number) => ({
  id,
  name: `product ${id}`,
  price_cents: 99,
  starting_stock: id,
  restock_threshold: 1,
});

/** inventory-intel stocks the shelves from CATALOG_FILE, and will not start on a bad one. */
describe('inventory-intel: CATALOG_FILE', () => {
  let broker: EmbeddedTestBroker;
  let data: ReturnType<typeof tempDir>;
  let service: RunningService | undefined;

  const start = async (catalogFile: string) => {
    const config = loadConfig('inventory-intel', {
      options: InventoryEnv,
      env: {
        ...TEST_SERVICE_ENV,
        MQTT_URL: broker.url,
        STORE: `catalog-${process.pid}`,
        DATA_DIR: join(data.path, 'store'),
        RESTOCK_DELAY_S: 'off',
        CATALOG_FILE: catalogFile,
      },
      dotenv: false,
    });
    service = await startService(inventorySpec(), config, quietLogger());
  };
  const write = (name: string, value: unknown) => {
    const file = join(data.path, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await broker.close();
    data.remove();
  });

  it("stocks the file's products, and only those", async () => {
    await start(write('catalog.json', [product(7), product(250_000)]));
    const res = await fetch(`http://127.0.0.1:${service!.http.port}/stock`);
    const stock = (await res.json()) as Array<{ product_id: number; quantity: number }>;
    expect(stock.map((s) => [s.product_id, s.quantity])).toEqual([
      [7, 7],
      [250_000, 250_000],
    ]);
  });

  it('refuses to start on a catalog with a repeated id, naming CATALOG_FILE', async () => {
    const file = write('twice.json', [product(3), product(3)]);
    await expect(start(file)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `CATALOG_FILE ${file}: invalid product catalog: duplicate id 3`,
    });
  });

  it('refuses to start on a file that is not JSON', async () => {
    await expect(start(write('notes.txt', 'milk, eggs'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^CATALOG_FILE .*notes\.txt: not a JSON product catalog/) as unknown,
    });
  });
});
