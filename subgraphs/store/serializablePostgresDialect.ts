import {
  CompiledQuery,
  PostgresDialect,
  PostgresDriver,
  type DatabaseConnection,
  type Driver,
  type PostgresDialectConfig,
  type TransactionSettings,
} from 'kysely';

/**
 * On SQLite every transaction holds the one write lock from its start (WriteLockingSqliteDialect), so
 * transactions run one after another. PostgreSQL lets them overlap; SERIALIZABLE keeps the same
 * guarantee (the outcome is that of some serial order) and reports a conflict as SQLSTATE 40001
 * instead of silently losing an update, and inTransaction retries those. A transaction that asks for
 * another level (the chunk log's group commit asks for READ COMMITTED) gets what it asks for.
 */
class SerializablePostgresDriver extends PostgresDriver {
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel || settings.accessMode) return super.beginTransaction(connection, settings);
    await connection.executeQuery(CompiledQuery.raw('start transaction isolation level serializable'));
  }
}

/** PostgresDialect whose transactions are SERIALIZABLE unless they say otherwise. */
export class SerializablePostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;

  constructor(config: PostgresDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new SerializablePostgresDriver(this.#config);
  }
}
