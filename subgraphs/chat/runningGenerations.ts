import type { Logger } from 'pino';
import type { GenerationLeases } from './generationLeases.ts';
import type { GenerationOutcome } from './runGeneration.ts';

/** An answer being written by this replica. */
export interface RunningGeneration {
  readonly messageId: string;
  /** Listeners in this process (chatStream, chatResume and chat mutation readers). */
  subscribers: number;
  /** Set once the run has ended. */
  outcome?: GenerationOutcome;
  readonly finished: Promise<GenerationOutcome>;
  readonly controller: AbortController;
}

/**
 * The answers this replica is writing, with who listens to each. When the last listener here goes
 * away, the answer stops unless a follower on another replica still watches it: nobody is left to
 * read it, and the model's time (and the user's quota) should not be spent for nothing. A stopped
 * answer can still be continued later with chatResume.
 */
export class RunningGenerations {
  private readonly running = new Map<string, RunningGeneration>();

  constructor(private readonly leases: GenerationLeases, private readonly logger?: Logger) {}

  /** Starts `run` for a message whose lease this replica holds, with one listener attached (the caller). */
  start(messageId: string, run: (signal: AbortSignal) => Promise<GenerationOutcome>): RunningGeneration {
    const controller = new AbortController();
    const finished = run(controller.signal)
      .catch((error): GenerationOutcome => {
        this.logger?.error({ err: error, messageId }, 'answer generation crashed');
        return { kind: 'stopped' };
      })
      .then((outcome) => {
        generation.outcome = outcome;
        this.running.delete(messageId);
        return outcome;
      });
    const generation: RunningGeneration = { messageId, subscribers: 1, controller, finished };
    this.running.set(messageId, generation);
    return generation;
  }

  /** Adds a listener to the message's generation when it runs here. */
  attach(messageId: string): RunningGeneration | undefined {
    const generation = this.running.get(messageId);
    if (generation) generation.subscribers += 1;
    return generation;
  }

  /** Removes a listener; the last one leaving stops the answer unless it is watched elsewhere. */
  detach(generation: RunningGeneration): void {
    generation.subscribers -= 1;
    if (generation.subscribers <= 0 && !generation.outcome) void this.stopIfUnwatched(generation);
  }

  private async stopIfUnwatched(generation: RunningGeneration): Promise<void> {
    let watched = false;
    try {
      watched = await this.leases.isWatched(generation.messageId);
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not tell whether an answer is watched; stopping it');
    }
    if (!watched && generation.subscribers <= 0) generation.controller.abort(new Error('nobody listens'));
  }

  /** One heartbeat: renew the leases, stop answers lost to another replica, and unwatched ones nobody here listens to. */
  async heartbeat(): Promise<void> {
    const ids = [...this.running.keys()];
    const lost = await this.leases.renew(ids);
    for (const id of lost) this.running.get(id)?.controller.abort(new Error('lease lost'));
    for (const generation of this.running.values()) {
      if (generation.subscribers <= 0) await this.stopIfUnwatched(generation);
    }
  }

  /** Messages running here. */
  ids(): string[] {
    return [...this.running.keys()];
  }

  get size(): number {
    return this.running.size;
  }

  /** Stops every answer (each is charged what it wrote and left for another replica to continue). */
  async stopAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const generation of all) generation.controller.abort(new Error('shutting down'));
    await Promise.all(all.map((g) => g.finished));
  }
}
