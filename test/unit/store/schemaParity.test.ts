import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../src/store/migrations.js';
import { postgresMigrations } from '../../../src/store/postgresMigrations.js';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { storeEngines } from '../../support/storeEngines.js';

/** Table → its columns, sorted, as each engine describes its own schema. */
async function columns(store: SqlStore): Promise<Record<string, string[]>> {
  const rows =
    store.dialect === 'sqlite'
      ? await store.all<{ table_name: string; column_name: string }>(
          `SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p
           WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
        )
      : await store.all<{ table_name: string; column_name: string }>(
          `SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name <> 'schema_version'`,
        );
  const tables: Record<string, string[]> = {};
  for (const row of rows) {
    const list = tables[row.table_name] ?? [];
    list.push(row.column_name);
    tables[row.table_name] = list;
  }
  for (const list of Object.values(tables)) list.sort();
  return tables;
}

describe('the SQLite and PostgreSQL schemas', () => {
  const engines = storeEngines();
  afterAll(async () => {
    for (const engine of engines) await engine.dispose();
  });

  it('end on the same version', () => {
    expect(postgresMigrations.at(-1)?.version).toBe(migrations.at(-1)?.version);
  });

  it.skipIf(engines.length < 2)(
    'have the same tables with the same columns',
    async () => {
      const [sqlite, postgres] = await Promise.all(engines.map((e) => e.open()));
      try {
        const [a, b] = await Promise.all([columns(sqlite as SqlStore), columns(postgres as SqlStore)]);
        expect(Object.keys(a).length).toBeGreaterThan(5);
        expect(b).toEqual(a);
      } finally {
        await Promise.all([sqlite?.close(), postgres?.close()]);
      }
    },
    60_000,
  );
});
