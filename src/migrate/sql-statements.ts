/**
 * Splits a SQL file into its statements with PostgreSQL's own parser (`libpg-query`, WebAssembly),
 * loaded the first time a file is split, so only migration runs and `tenantry run` pay for it.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';

/** One statement of a SQL file. */
export interface SqlStatement {
  /** The statement's text, without its closing semicolon. */
  readonly text: string;
  /** How many characters (code points, as PostgreSQL counts them) of the file come before it. */
  readonly offset: number;
  /** Set on COMMIT, END, ROLLBACK, ABORT and PREPARE TRANSACTION: statements that end the transaction they run in. */
  readonly endsTransaction?: true;
}

interface ParsedStatement {
  readonly stmt_location?: number;
  readonly stmt_len?: number;
  readonly stmt?: { readonly TransactionStmt?: { readonly kind?: string } };
}

const ENDING_KINDS = new Set(['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE']);
// Words one of those statements starts with: a one-statement text that has none needs no parser.
const ENDING_WORD = /\b(?:commit|end|rollback|abort|prepare)\b/i;

type Parse = (text: string) => { readonly stmts?: readonly ParsedStatement[] };

let parser: Promise<Parse> | undefined;
// A fleet migration splits the same few files once per tenant: parse each text once.
const splitCache = new LRUCache<string, readonly SqlStatement[]>({ max: 256 });

/**
 * The statements of `text`, in order, each with where it starts in the file. The parser knows
 * what a lexer must: dollar quotes (`$$`, `$tag$`), `--` and nested block comments, `''` and
 * `E''` strings with escapes, quoted identifiers and `BEGIN ATOMIC … END` bodies. Text the parser
 * refuses (a syntax error) comes back whole, as one statement: the server then reports the error,
 * with its position, as it would have for the whole file. So does text whose only semicolon ends
 * it (or that has none), without loading the parser.
 *
 * @example
 * ```ts
 * const statements = await splitSqlStatements("CREATE TABLE t (a text);\nINSERT INTO t VALUES (E'a;b');");
 * // [{ text: 'CREATE TABLE t (a text)', offset: 0 }, { text: "INSERT INTO t VALUES (E'a;b')", offset: 25 }]
 * ```
 */
export async function splitSqlStatements(text: string): Promise<readonly SqlStatement[]> {
  // Without a semicolon before its last character the text holds one statement at most: no parser needed.
  const semicolon = text.indexOf(';');
  if ((semicolon === -1 || semicolon === text.trimEnd().length - 1) && !ENDING_WORD.test(text)) return [{ text, offset: 0 }];
  const cached = splitCache.get(text);
  if (cached !== undefined) return cached;
  const parse = await loadParser();
  let parsed: readonly ParsedStatement[];
  try {
    parsed = parse(text).stmts ?? [];
  } catch {
    return [{ text, offset: 0 }];
  }
  const statements = statementsAt(text, parsed);
  splitCache.set(text, statements);
  return statements;
}

/** Cuts the parser's statements out of the text: it reports them in UTF-8 bytes, the server counts characters. */
function statementsAt(text: string, parsed: readonly ParsedStatement[]): readonly SqlStatement[] {
  const bytes = Buffer.from(text, 'utf8');
  const statements: SqlStatement[] = [];
  let counted = 0;
  let offset = 0;
  for (const { stmt_location: start = 0, stmt_len: length = 0, stmt } of parsed) {
    offset += codePoints(bytes.subarray(counted, start));
    const end = length === 0 ? bytes.length : start + length;
    const ends = ENDING_KINDS.has(stmt?.TransactionStmt?.kind ?? '');
    statements.push({ text: bytes.subarray(start, end).toString('utf8'), offset, ...(ends ? { endsTransaction: true as const } : {}) });
    counted = start;
  }
  return statements;
}

function codePoints(bytes: Buffer): number {
  let count = 0;
  // Every byte but a UTF-8 continuation byte (10xxxxxx) starts a character.
  for (const byte of bytes) if ((byte & 0xc0) !== 0x80) count += 1;
  return count;
}

function loadParser(): Promise<Parse> {
  parser ??= import('libpg-query')
    .then(async (module) => {
      await module.loadModule();
      return module.parseSync as Parse;
    })
    .catch((error: unknown) => {
      parser = undefined;
      throw new Error('Cannot load the SQL parser (the libpg-query package) that splits .sql migrations into statements; reinstall tenantry', { cause: error });
    });
  return parser;
}
