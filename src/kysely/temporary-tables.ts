/**
 * The temporary tables tenantPlugin knows of, which it names `pg_temp.<name>`.
 *
 * @module
 */
import type { TenantScope } from '../context.js';

/**
 * The names tenantPlugin treats as temporary tables: those listed in its options, always, and
 * those a run created temporary through the schema builder, for the rest of that run.
 *
 * A plugin sees queries, not connections, so "a run" stands in for "the connection": it is the
 * scope object of one `tenancy.run` (a request, a job), which a transaction or a
 * `db.connection()` never outlives. Names are kept in a `WeakMap` keyed by that object, so they go
 * when the run does. `tenancy.runShared` has one scope object for every call: there a name is
 * known until it is dropped through the builder.
 *
 * @example
 * ```ts
 * declare const scope: import('../context.js').TenantScope | undefined;
 * const temporary = new TemporaryTables(['scratch']);
 * temporary.has('scratch', tenancy.scope()); // true, in any run
 * temporary.remember(scope, ['node'], []);
 * temporary.has('node', scope); // true, in this run only
 * ```
 */
export class TemporaryTables {
  readonly #listed: ReadonlySet<string>;
  readonly #created = new WeakMap<TenantScope, Set<string>>();
  /** Whether any run created one: until then a lookup needs no scope. */
  #anyCreated = false;

  constructor(listed: Iterable<string>) {
    this.#listed = new Set(listed);
  }

  /** Whether `name` may be temporary in some run: `false` means no, in any run, without asking which. */
  mayHave(name: string): boolean {
    return this.#anyCreated || this.#listed.has(name);
  }

  /** Whether `name` is a temporary table in the run of `scope`. */
  has(name: string, scope: TenantScope | undefined): boolean {
    if (this.#listed.has(name)) return true;
    return scope !== undefined && this.#created.get(scope)?.has(name) === true;
  }

  /** Records the temporary tables a statement of the run created, and forgets those it dropped. */
  remember(scope: TenantScope | undefined, created: Iterable<string>, dropped: Iterable<string>): void {
    if (scope === undefined) return;
    let names = this.#created.get(scope);
    for (const name of created) {
      if (names === undefined) this.#created.set(scope, (names = new Set()));
      names.add(name);
      this.#anyCreated = true;
    }
    if (names !== undefined) for (const name of dropped) names.delete(name);
  }
}
