import type { Selectable } from 'kysely';
import { badUserInput, forbidden } from '../../lib/errors.ts';
import type { ModelsTable, PlanName } from '../store/tables.ts';

/** What the platform offers a model on: how much it may write, what it costs, who may use it. */
export interface ModelTerms {
  /** Longest answer, tokens. */
  maxOutputTokens: number;
  /** Cost of one token (prompt or completion), USD; ranks models when one is chosen for the caller. */
  costPerToken: number;
  /** Plans that may use the model. */
  plans: readonly PlanName[];
}

/** The registry, by catalog id (the `models` table holds names and context windows). */
export const MODEL_TERMS: Readonly<Record<string, ModelTerms>> = {
  'm-small': { maxOutputTokens: 256, costPerToken: 0.000_000_2, plans: ['FREE', 'PRO', 'ENTERPRISE'] },
  'm-medium': { maxOutputTokens: 512, costPerToken: 0.000_001, plans: ['PRO', 'ENTERPRISE'] },
  'm-large': { maxOutputTokens: 1_024, costPerToken: 0.000_005, plans: ['PRO', 'ENTERPRISE'] },
};

/** A catalog model the registry does not know is offered to ENTERPRISE only, as the most expensive. */
const UNLISTED_TERMS: ModelTerms = { maxOutputTokens: 512, costPerToken: 0.000_01, plans: ['ENTERPRISE'] };

export interface ModelChoice {
  row: Selectable<ModelsTable>;
  terms: ModelTerms;
}

export function termsOf(modelId: string): ModelTerms {
  return MODEL_TERMS[modelId] ?? UNLISTED_TERMS;
}

/**
 * Picks the model of an answer. An explicit `requested` id must exist (BAD_USER_INPUT) and be open to
 * the plan (FORBIDDEN). Otherwise FREE callers get the cheapest model they may use and others the
 * catalog default; when the conversation plus prompt (`neededTokens`) does not fit that model's
 * window with room for an answer, the cheapest allowed model that fits, else the largest allowed.
 */
export function chooseModel(
  catalog: ReadonlyArray<Selectable<ModelsTable>>,
  options: { requested?: string | null; plan: PlanName; neededTokens: number },
): ModelChoice {
  const { requested, plan, neededTokens } = options;
  if (requested != null) {
    const row = catalog.find((m) => m.id === requested);
    if (!row) throw badUserInput(`Unknown model "${requested}": query "models" for the available ids.`, { argument: 'input.model' });
    const terms = termsOf(row.id);
    if (!terms.plans.includes(plan)) throw forbidden(`The model "${row.id}" is not available on the ${plan} plan.`);
    return { row, terms };
  }
  const allowed = catalog
    .map((row) => ({ row, terms: termsOf(row.id) }))
    .filter((m) => m.terms.plans.includes(plan))
    .sort((a, b) => a.terms.costPerToken - b.terms.costPerToken || a.row.context_window - b.row.context_window);
  if (!allowed.length) throw forbidden(`No model is available on the ${plan} plan.`);
  const fits = (m: ModelChoice) => neededTokens + m.terms.maxOutputTokens <= m.row.context_window;
  const preferred = (plan !== 'FREE' && allowed.find((m) => m.row.is_default === 1)) || allowed[0];
  if (fits(preferred)) return preferred;
  return allowed.find(fits) ?? allowed.reduce((a, b) => (b.row.context_window > a.row.context_window ? b : a));
}
