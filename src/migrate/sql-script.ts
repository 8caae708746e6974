/**
 * Runs the text of a SQL file statement by statement.
 *
 * @module
 */
import type { Queryable, QueryResultLike } from '../db.js';
import { locateSqlError } from './sql-error-location.js';
import { splitSqlStatements } from './sql-statements.js';

/**
 * Runs each statement of a SQL file's `text` as its own query, in order, on `client` (inside the
 * caller's transaction: the file applies whole or not at all). One query per statement behaves the
 * same everywhere: Citus refuses a query string of several statements when it forwards one of them
 * (CREATE INDEX, CREATE TRIGGER, some ALTERs) to a worker. A failing statement throws the server's
 * error with the file, line and column added (see `locateSqlError`): where the server's position
 * points, or the statement's start. Returns the last statement's
 * result, or `undefined` for a file without statements.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await client.query('BEGIN');
 * await runSqlScript(client, 'CREATE TABLE t (id int);\nCREATE INDEX t_id ON t (id);', '003_t.sql');
 * await client.query('COMMIT');
 * ```
 */
export async function runSqlScript(client: Queryable, text: string, file: string): Promise<QueryResultLike | undefined> {
  let last: QueryResultLike | undefined;
  for (const statement of await splitSqlStatements(text)) {
    try {
      last = await client.query(statement.text);
    } catch (error) {
      throw locateSqlError(error, file, text, statement);
    }
  }
  return last;
}
