import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.ts';
import { storeOptions } from '../../../lib/config/databaseConfig.ts';

describe('database config', () => {
  it('keeps the embedded SQLite file by default', () => {
    const { database } = loadConfig({});
    expect(database).toEqual({ path: 'data/supergraph.db', poolSize: 10 });
    expect(storeOptions(database, 'orders-0')).toEqual({ path: 'data/supergraph.db' });
  });

  it('switches to PostgreSQL with DATABASE_URL, a pool of DATABASE_POOL_SIZE connections per process', () => {
    const { database } = loadConfig({ DATABASE_URL: 'postgres://app:secret@db.internal:5432/supergraph', DATABASE_POOL_SIZE: '4' });
    expect(storeOptions(database, 'orders-1')).toEqual({
      url: 'postgres://app:secret@db.internal:5432/supergraph', poolSize: 4, applicationName: 'orders-1',
    });
  });

  it('names DATABASE_URL and DATABASE_POOL_SIZE when they are wrong', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/x' })).toThrow(/database\.url \(DATABASE_URL\): must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/database\.poolSize \(DATABASE_POOL_SIZE\)/);
  });
});
