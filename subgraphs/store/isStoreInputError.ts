/**
 * SQLite refusals that a value from the client causes: a limit of the engine on the size or
 * complexity of one value or statement (SQLITE_MAX_LIKE_PATTERN_LENGTH, SQLITE_MAX_LENGTH,
 * SQLITE_MAX_VARIABLE_NUMBER, SQLITE_MAX_EXPR_DEPTH). better-sqlite3 reports most of them as
 * SQLITE_ERROR, so the message tells them from a store that is broken.
 */
const SQLITE_INPUT_LIMITS = /LIKE or GLOB pattern too complex|string or blob too big|too many SQL variables|Expression tree is too large|parser stack overflow/i;

/** PostgreSQL (the store's next engine): SQLSTATE class 22, data exception, and 54, program limit exceeded. */
const POSTGRES_INPUT_CLASSES = /^(?:22|54)[0-9A-Z]{3}$/;

/**
 * Whether a store error was caused by the input rather than by the store: the client's to fix
 * (BAD_USER_INPUT), never reported as the server's fault. Limits on every string argument keep
 * these from happening (stringArgumentLimits); this catches what a limit did not foresee.
 */
export function isStoreInputError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_TOOBIG') return true;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return SQLITE_INPUT_LIMITS.test(error.message);
  return typeof code === 'string' && POSTGRES_INPUT_CLASSES.test(code);
}
