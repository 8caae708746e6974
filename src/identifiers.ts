/**
 * Tenant id and schema name rules, and identifier quoting. Everything written into SQL
 * as an identifier passes through {@link quoteIdent}.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidSchemaNameError, InvalidTenantIdError } from './errors.js';

const MAX_IDENTIFIER_BYTES = 63;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Returns why a tenant id is refused, or `undefined` when it is valid. Ids follow DNS-label
 * rules so that every tenant can have a subdomain: 1 to 63 characters of `a-z`, `0-9` and `-`,
 * with no hyphen at either end.
 *
 * @example
 * ```ts
 * tenantIdProblem('acme');   // undefined
 * tenantIdProblem('-acme');  // 'must not start or end with "-"'
 * ```
 */
export function tenantIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `expected a string, got ${id === null ? 'null' : typeof id}`;
  if (id.length === 0) return 'must not be empty';
  if (id.length > 63) return `must be at most 63 characters, got ${id.length}`;
  if (!/^[a-z0-9-]+$/.test(id)) return 'only lower-case letters a-z, digits 0-9 and "-" are allowed';
  if (id.startsWith('-') || id.endsWith('-')) return 'must not start or end with "-"';
  return undefined;
}

/**
 * Tells whether a value is a valid tenant id.
 *
 * @example
 * ```ts
 * isValidTenantId('acme-2'); // true
 * isValidTenantId('Acme');   // false
 * ```
 */
export function isValidTenantId(id: unknown): id is string {
  return tenantIdProblem(id) === undefined;
}

/**
 * Throws {@link InvalidTenantIdError} (HTTP 400) with the reason unless `id` is a valid tenant id.
 *
 * @example
 * ```ts
 * assertTenantId(req.params.tenant); // narrows to string, or throws
 * ```
 */
export function assertTenantId(id: unknown): asserts id is string {
  const problem = tenantIdProblem(id);
  if (problem !== undefined) throw new InvalidTenantIdError(id, problem);
}

/**
 * Returns why a schema name is refused, or `undefined` when it is safe: a plain lower-case
 * identifier of at most 63 bytes that is none of `public`, `information_schema` or `pg_*`.
 *
 * @example
 * ```ts
 * schemaNameProblem('tenant_acme'); // undefined
 * schemaNameProblem('pg_temp');     // 'names starting with "pg_" are reserved by PostgreSQL'
 * ```
 */
export function schemaNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `expected a string, got ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return 'must not be empty';
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) return `must be at most ${MAX_IDENTIFIER_BYTES} bytes`;
  if (!SCHEMA_NAME.test(name)) return 'only a-z, 0-9 and "_" are allowed, and it must not start with a digit';
  if (name === 'public' || name === 'information_schema') return `"${name}" is reserved`;
  if (name.startsWith('pg_')) return 'names starting with "pg_" are reserved by PostgreSQL';
  return undefined;
}

/**
 * Throws {@link InvalidSchemaNameError} unless `name` is a safe tenant schema name.
 *
 * @example
 * ```ts
 * assertSchemaName('tenant_acme');
 * ```
 */
export function assertSchemaName(name: unknown): asserts name is string {
  const problem = schemaNameProblem(name);
  if (problem !== undefined) throw new InvalidSchemaNameError(name, problem);
}

/**
 * Derives the default schema name of a tenant: `prefix` + the id with `-` turned into `_`.
 * Ids never contain `_`, so two ids never map to the same name; a name that would reach
 * 63 bytes is cut and ends with a hash of the whole id. Cut names are always exactly 63 bytes
 * and uncut ones at most 62, so no id can be chosen to take another id's cut name; the
 * registry's unique index turns any remaining (hash) collision into an error at create time,
 * never a shared schema.
 *
 * @example
 * ```ts
 * defaultSchemaName('acme-eu');            // 'tenant_acme_eu'
 * defaultSchemaName('acme', 't_');         // 't_acme'
 * ```
 */
export function defaultSchemaName(id: string, prefix = 'tenant_'): string {
  assertTenantId(id);
  const name = prefix + id.replaceAll('-', '_');
  if (Buffer.byteLength(name) < MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`;
}

/**
 * Quotes an SQL identifier: wraps it in double quotes and doubles any double quote inside,
 * so no value can break out of it. A NUL character, which PostgreSQL cannot store, is refused.
 *
 * @example
 * ```ts
 * quoteIdent('tenant_acme');  // '"tenant_acme"'
 * quoteIdent('we"ird');       // '"we""ird"'
 * ```
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) {
    throw new InvalidSchemaNameError(name, 'an SQL identifier must be a non-empty string without NUL');
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a string as an SQL literal, for the few statements tenantry sends several at a time
 * (which cannot take parameters): doubles single quotes, and writes an `E'…'` literal with
 * doubled backslashes when the text has one, so it reads the same whatever
 * `standard_conforming_strings` is. A NUL character is refused.
 *
 * @example
 * ```ts
 * quoteLiteral("it's");   // "'it''s'"
 * quoteLiteral('a\\b');   // " E'a\\\\b'"
 * ```
 */
export function quoteLiteral(text: string): string {
  if (typeof text !== 'string' || text.includes('\0')) throw new InvalidSchemaNameError(text, 'an SQL literal must be a string without NUL');
  const quoted = `'${text.replaceAll("'", "''")}'`;
  return text.includes('\\') ? ` E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}
