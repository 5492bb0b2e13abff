import type { Kysely, Selectable } from 'kysely';
import type { ChatGenerationsTable, Database } from '../store/tables.ts';

export type GenerationRow = Selectable<ChatGenerationsTable>;

/**
 * The lease on a generation row says which replica runs an answer. The owner renews it on every
 * heartbeat; when it lapses (the replica died or hung) any replica may take the answer over. One
 * statement renews all of a replica's leases, so the heartbeat costs one write however many answers
 * it runs.
 */
export class GenerationLeases {
  constructor(
    private readonly db: Kysely<Database>,
    /** This replica's identity as a lease owner. */
    readonly owner: string,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {}

  load(messageId: string): Promise<GenerationRow | undefined> {
    return this.db.selectFrom('chat_generations').selectAll().where('message_id', '=', messageId).executeTakeFirst();
  }

  /** True when a live replica (not necessarily this one) holds the answer's lease. */
  isAlive(row: GenerationRow): boolean {
    return row.state === 'running' && row.lease_owner !== null && row.lease_expires_at > this.now();
  }

  /**
   * Takes over an unfinished answer whose lease lapsed or was released; undefined when another
   * replica holds it or it is done. Atomic: of several replicas trying at once, one wins.
   */
  async acquire(messageId: string): Promise<GenerationRow | undefined> {
    const now = this.now();
    const result = await this.db
      .updateTable('chat_generations')
      .set({ lease_owner: this.owner, lease_expires_at: now + this.leaseMs })
      .where('message_id', '=', messageId)
      .where('state', '!=', 'done')
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_expires_at', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? this.load(messageId) : undefined;
  }

  /** Gives up this replica's lease on an answer (it will not write it), so another may take it at once. */
  async release(messageId: string): Promise<void> {
    await this.db
      .updateTable('chat_generations')
      .set({ lease_owner: null, lease_expires_at: 0 })
      .where('message_id', '=', messageId)
      .where('lease_owner', '=', this.owner)
      .execute();
  }

  /** Renews this replica's leases on `messageIds`; returns those it no longer holds (taken over or finished elsewhere). */
  async renew(messageIds: readonly string[]): Promise<string[]> {
    if (!messageIds.length) return [];
    await this.db
      .updateTable('chat_generations')
      .set({ lease_expires_at: this.now() + this.leaseMs })
      .where('lease_owner', '=', this.owner)
      .where('state', '=', 'running')
      .execute();
    const held = await this.db
      .selectFrom('chat_generations')
      .select('message_id')
      .where('lease_owner', '=', this.owner)
      .where('message_id', 'in', messageIds)
      .execute();
    const still = new Set(held.map((row) => row.message_id));
    return messageIds.filter((id) => !still.has(id));
  }

  /** Marks answers as followed from this replica for one more lease period, so their generator elsewhere goes on. */
  async watch(messageIds: readonly string[]): Promise<void> {
    if (!messageIds.length) return;
    await this.db.updateTable('chat_generations').set({ watched_until: this.now() + this.leaseMs }).where('message_id', 'in', messageIds).execute();
  }

  /** True when a follower on some replica asked, within the last lease period, for the answer to go on. */
  async isWatched(messageId: string): Promise<boolean> {
    const row = await this.db.selectFrom('chat_generations').select('watched_until').where('message_id', '=', messageId).executeTakeFirst();
    return !!row && row.watched_until > this.now();
  }
}
