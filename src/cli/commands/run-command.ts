/**
 * `tenantry run FILE`: a SQL file or a module run over every tenant (or some), each in its scope.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type pg from 'pg';
import { TenantNotFoundError } from '../../errors.js';
import { runSqlScript } from '../../migrate/sql-script.js';
import { assertTenantId } from '../../identifiers.js';
import { tenantPool, type TenantPool } from '../../pg/tenant-pool.js';
import type { Tenant } from '../../types.js';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { explainFailure } from '../explain-error.js';
import { importDefault } from '../load-config.js';
import { positiveInteger, stringList } from '../option-values.js';
import { watchInterrupts } from '../watch-interrupts.js';

/**
 * What a module run by `tenantry run` default-exports: called once per tenant, inside its scope.
 *
 * @example
 * ```ts
 * // scripts/recount.ts
 * import type { Tenant } from 'tenantry';
 * import type { TenantPool } from 'tenantry/pg';
 * export default async (tenant: Tenant, { db }: { db: TenantPool }) => (await db.query<{ n: number }>('select count(*)::int as n from products')).rows[0]?.n;
 * ```
 */
export type TenantScript = (tenant: Tenant, tools: { readonly db: TenantPool; readonly signal: AbortSignal }) => unknown;

const SCRIPT_EXTENSIONS = new Set(['.sql', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/**
 * Runs `tenantry run FILE`. A `.sql` file runs in one transaction per tenant (all of it or none
 * of it); a module's default export is called with the tenant and a tenantPool. Exit code 0 when
 * every tenant succeeded, 1 when one failed (each is listed), 130 after Ctrl-C.
 *
 * @example
 * ```ts
 * import type { CommandContext } from '../command-context.js';
 * declare const ctx: CommandContext;
 * await runCommand(ctx); // tenantry run scripts/backfill.sql --concurrency 8
 * ```
 */
export async function runCommand(ctx: CommandContext): Promise<number> {
  const file = resolve(ctx.io.cwd, ctx.args[0]!);
  const extension = extname(file).toLowerCase();
  if (!SCRIPT_EXTENSIONS.has(extension)) throw new UsageError(`tenantry run takes a .sql file or a module (.js, .mjs, .ts…), got ${ctx.args[0]}`);
  const only = stringList(ctx.values.tenant);
  for (const id of only) assertTenantId(id);
  const concurrency = positiveInteger(ctx.values.concurrency, 'concurrency', 4);
  const script = extension === '.sql' ? sqlScript(await readFile(file, 'utf8'), basename(file)) : await moduleScript(file);

  const cli = await ctx.open({ poolSize: concurrency + 1 });
  for (const id of only) if ((await cli.tenancy.registry.get(id)) === undefined) throw new TenantNotFoundError(id);
  const db = tenantPool(cli.tenancy, cli.pool as pg.Pool);
  const watch = watchInterrupts({ onFirst: () => ctx.output.warn('Interrupted: no new tenant starts; waiting for those in flight. Ctrl-C again stops at once.') });
  try {
    const selected = new Set(only);
    const report = await cli.tenancy.forEachTenant((tenant, { signal }) => script(tenant, { db, signal }), {
      concurrency,
      signal: watch.signal,
      ...(only.length > 0 ? { filter: (tenant: Tenant) => selected.has(tenant.id) } : {}),
      onProgress: ({ tenant, error, done }) => {
        const outcome = error === undefined ? 'done' : `FAILED: ${explainFailure(error, ctx.hints()).message}`;
        ctx.output.line(`[${done}] ${tenant.id}: ${outcome}`);
      },
    });
    const failures = report.failures.map(({ tenant, error }) => ({ tenantId: tenant.id, message: explainFailure(error, ctx.hints()).message }));
    ctx.output.line(`Ran ${file} over ${report.results.length + failures.length} tenants: ${report.results.length} done, ${failures.length} failed${report.aborted ? ' (interrupted)' : ''}`);
    ctx.output.result({ results: report.results.map(({ tenant, value }) => ({ tenantId: tenant.id, value: value ?? null })), failures, aborted: report.aborted });
    if (watch.exitCode !== undefined) return watch.exitCode;
    return failures.length > 0 ? ExitCode.failed : ExitCode.ok;
  } finally {
    watch.dispose();
  }
}

/** A SQL file as a script: its statements one by one, in one transaction of the tenant; the last one's row count as the value. */
function sqlScript(text: string, file: string): TenantScript {
  if (text.trim() === '') throw new UsageError('The SQL file is empty');
  return async (_tenant, { db }) => {
    const last = await db.transaction((client) => runSqlScript(client, text, file));
    return last?.rowCount ?? null;
  };
}

async function moduleScript(file: string): Promise<TenantScript> {
  const exported = await importDefault(file);
  if (typeof exported !== 'function') throw new UsageError(`${file} must default-export a function (tenant, { db, signal }) => …, got ${typeof exported}`);
  return exported as TenantScript;
}
