/**
 * `tenantry tenants clone FROM TO`.
 *
 * @module
 */
import { assertTenantId } from '../../identifiers.js';
import type { CommandContext } from '../command-context.js';
import { stringList } from '../option-values.js';
import { runRestore } from './restore-command.js';

/**
 * Copies tenant FROM into a new tenant TO (no domains unless `--domain`). Exit codes as
 * `restore`'s.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await tenantsCloneCommand(ctx); // tenantry tenants clone acme acme-staging
 * ```
 */
export async function tenantsCloneCommand(ctx: CommandContext): Promise<number> {
  const [from, to] = ctx.args as [string, string];
  assertTenantId(from);
  assertTenantId(to);
  const domains = stringList(ctx.values.domain);
  const name = typeof ctx.values.name === 'string' ? ctx.values.name : undefined;
  const cli = await ctx.open();
  return runRestore(ctx, `Cloning ${from} into ${to}`, (options) =>
    cli.tenancy.clone(from, to, { ...options, ...(name === undefined ? {} : { name }), ...(domains.length === 0 ? {} : { domains }) }),
  );
}
