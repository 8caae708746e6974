/**
 * What a statement's text tells tenantPool: whether it may leave session state, move the scope,
 * undo a SET, drop prepared statements, or must run outside a pipelined exchange.
 *
 * @module
 */

/** Statements that may move the search_path, the role or the row-level setting themselves. */
const PATH_CHANGING =
  /search_path|set_config|tenantry\.tenant_id|\bschema\b|\bset\s+((session|local)\s+)?schema\b|\bdiscard\b|\breset\b|\bset\s+(session\s+)?role\b|\bset\s+session\s+authorization\b/i;

/**
 * Statements that may leave session state another tenant must not inherit: SET or RESET of a
 * setting for the session (not SET LOCAL), set_config, LISTEN, a WITH HOLD cursor, a temporary
 * table (also one named pg_temp.x), a session advisory lock, SET SESSION AUTHORIZATION, DISCARD,
 * LOAD, and DO and CALL (whose bodies may do any of these). A statement that matches by mistake
 * (a multi-line UPDATE whose SET starts a line) only costs a cleanup.
 */
const LEAVES_STATE =
  /(?:^|[;\n]|\*\/)\s*(?:set|reset)\b(?!\s+local\b)|(?:^|;)\s*(?:do|call)\b|set_config|\bpg_temp\s*\.|\blisten\b|\bwith\s+hold\b|\b(?:temp|temporary)\s+(?:table|view|sequence)\b|\binto\s+(?:temp|temporary)\b|\bpg_(?:try_)?advisory_lock(?:_shared)?\s*\(|\bsession\s+authorization\b|\bdiscard\b|\bload\b/i;

/** Statements that drop prepared statements on the server (pg's client still believes them parsed). */
const DROPS_PREPARED = /\bdeallocate\b|\bdiscard\s+all\b/i;

/**
 * Statements that can undo a SET made earlier in their transaction block: ROLLBACK (also `TO
 * SAVEPOINT` and `AND CHAIN`) and ABORT; PREPARE TRANSACTION; any `AND CHAIN` (a chained block
 * drops a SET LOCAL); CALL (a procedure may ROLLBACK the block the SET was pipelined into).
 */
const MAY_UNDO = /\brollback\b|\babort\b|\bprepare\s+transaction\b|\band\s+chain\b|\bcall\b/i;

/** Statements PostgreSQL refuses inside a transaction block: they cannot share an implicit one with a SET. */
const NEEDS_OWN_TRANSACTION =
  /^\s*(vacuum\b|create\s+database\b|drop\s+database\b|create\s+tablespace\b|drop\s+tablespace\b|alter\s+system\b|reindex\b.*\bconcurrently\b|create\s+(unique\s+)?index\s+concurrently\b|drop\s+index\s+concurrently\b|alter\s+database\b.*\bset\s+tablespace\b|cluster\b(?!.*\busing\b)|discard\s+all\b|reindex\s+(\([^)]*\)\s*)?(database|system)\b|create\s+subscription\b|drop\s+subscription\b|alter\s+subscription\b.*\brefresh\b)/is;

/**
 * CALL and DO may COMMIT or ROLLBACK, but only when nothing else shares their transaction: a SET
 * pipelined with them would make them atomic ("invalid transaction termination") exactly when
 * the connection had to switch scope, and a ROLLBACK in them could undo that SET.
 */
const RUNS_ALONE = /^\s*(call|do)\b/i;

/**
 * The bits of {@link traitsOf}, one per pattern above.
 *
 * @example
 * ```ts
 * const leavesState = (traitsOf('listen jobs') & LEAVES_STATE_TRAIT) !== 0; // true
 * ```
 */
export const LEAVES_STATE_TRAIT = 1;
export const TOUCHES_PATH_TRAIT = 2;
export const MAY_UNDO_TRAIT = 4;
export const DROPS_PREPARED_TRAIT = 8;
export const NEEDS_OWN_TRANSACTION_TRAIT = 16;
export const RUNS_ALONE_TRAIT = 32;

/** How many statement texts `traitsOf` remembers before it starts over (apps run a few texts many times). */
const REMEMBERED_TEXTS = 2000;
/** Longer texts (a bulk insert with its values inlined) are read each time, not kept. */
const REMEMBERED_TEXT_LENGTH = 4096;
const traitsOfText = new Map<string, number>();

/**
 * What the patterns above say of `text`, as bits, remembered per text: the per-query path reads a
 * Map instead of running six regular expressions.
 *
 * @example
 * ```ts
 * (traitsOf('vacuum items') & NEEDS_OWN_TRANSACTION_TRAIT) !== 0; // true
 * ```
 */
export function traitsOf(text: string): number {
  let traits = traitsOfText.get(text);
  if (traits === undefined) {
    traits =
      (LEAVES_STATE.test(text) ? LEAVES_STATE_TRAIT : 0) |
      (PATH_CHANGING.test(text) ? TOUCHES_PATH_TRAIT : 0) |
      (MAY_UNDO.test(text) ? MAY_UNDO_TRAIT : 0) |
      (DROPS_PREPARED.test(text) ? DROPS_PREPARED_TRAIT : 0) |
      (NEEDS_OWN_TRANSACTION.test(text) ? NEEDS_OWN_TRANSACTION_TRAIT : 0) |
      (RUNS_ALONE.test(text) ? RUNS_ALONE_TRAIT : 0);
    if (text.length > REMEMBERED_TEXT_LENGTH) return traits;
    if (traitsOfText.size >= REMEMBERED_TEXTS) traitsOfText.clear();
    traitsOfText.set(text, traits);
  }
  return traits;
}
