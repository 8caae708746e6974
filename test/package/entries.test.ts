/**
 * Every public entry of the BUILT package, loaded as ESM and as CJS from `dist/`: each loads in
 * both formats with the same exports, and the two builds share one tenant context (the context
 * belongs to the `tenancy` instance) and recognise each other's errors (by brand and `code`).
 * `tenantry/pg` from one build, handed a tenancy from the other, scopes queries to that tenancy's
 * tenant on a real database.
 *
 * The entries come from package.json `exports`, so a new subpath is covered without editing this file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Core from '../../src/index.js';
import type * as PgEntry from '../../src/pg/index.js';
import type * as Testing from '../../src/testing/index.js';
import { useTestDatabase } from '../helpers/database.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

interface PackageJson {
  readonly name: string;
  readonly exports: Record<string, unknown>;
}

interface Entry {
  /** The subpath in package.json `exports`, e.g. `./testing`. */
  readonly subpath: string;
  /** What a user writes, e.g. `tenantry/testing`. */
  readonly specifier: string;
  /** Absolute paths of the files Node picks for `import` and for `require`. */
  readonly esm: string;
  readonly cjs: string;
}

/** Node's conditional-exports resolution (object keys in order, first matching condition wins), for one target. */
function resolveTarget(target: unknown, conditions: readonly string[]): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = resolveTarget(item, conditions);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  for (const [condition, value] of Object.entries(target)) {
    if (!conditions.includes(condition)) continue;
    const found = resolveTarget(value, conditions);
    if (found !== undefined) return found;
  }
  return undefined;
}

function readEntries(): { pkg: PackageJson; entries: Entry[] } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const entries = Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]): Entry => {
      const esm = resolveTarget(target, ['node', 'import', 'default']);
      const cjs = resolveTarget(target, ['node', 'require', 'default']);
      if (esm === undefined || cjs === undefined) {
        throw new Error(`package.json exports["${subpath}"] names no file for ${esm === undefined ? 'import' : 'require'}`);
      }
      return {
        subpath,
        specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
        esm: resolve(root, esm),
        cjs: resolve(root, cjs),
      };
    });
  return { pkg, entries };
}

const { pkg, entries } = readEntries();

const missing = entries.flatMap((entry) => [entry.esm, entry.cjs]).filter((file) => !existsSync(file));
if (missing.length > 0) {
  throw new Error(
    `The built package is missing ${missing.map((file) => file.slice(root.length + 1)).join(', ')}. ` +
      'Run `npm run build` first (`npm test` does it in pretest).',
  );
}

type ModuleRecord = Record<string, unknown>;

async function importEsm(file: string): Promise<ModuleRecord> {
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as ModuleRecord;
}

function requireCjs(file: string): ModuleRecord {
  return require(file) as ModuleRecord;
}

/** The export names of a loaded module, sorted; `__esModule` is the CJS interop marker, not an export. */
function exportNames(module: ModuleRecord): string[] {
  return Object.keys(module)
    .filter((name) => name !== '__esModule')
    .sort();
}

/** Each export's name and `typeof`, so a class in one format and an object in the other is caught too. */
function exportShapes(module: ModuleRecord): Record<string, string> {
  return Object.fromEntries(exportNames(module).map((name) => [name, typeof module[name]]));
}

function entryFor(subpath: string): Entry {
  const entry = entries.find((candidate) => candidate.subpath === subpath);
  if (entry === undefined) throw new Error(`package.json exports has no "${subpath}"`);
  return entry;
}

/** Calls `fn` and returns what it threw; fails the test when it does not throw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('package.json exports', () => {
  it('names the core entry and tenantry/testing (the list the other tests run over)', () => {
    expect(entries.map((entry) => entry.specifier)).toEqual(expect.arrayContaining([pkg.name, `${pkg.name}/testing`]));
    for (const entry of entries) {
      expect(entry.esm, `${entry.specifier} import`).toMatch(/[/\\]dist[/\\].+\.(m?js)$/);
      expect(entry.cjs, `${entry.specifier} require`).toMatch(/[/\\]dist[/\\].+\.(cjs|js)$/);
      expect(entry.esm, `${entry.specifier}: import and require must pick different builds`).not.toBe(entry.cjs);
    }
  });
});

describe.each(entries)('$specifier', (entry) => {
  it('loads as ESM from dist', async () => {
    const module = await importEsm(entry.esm);
    expect(exportNames(module).length, `${entry.esm} exports nothing`).toBeGreaterThan(0);
  });

  it('loads as CJS from dist', () => {
    const module = requireCjs(entry.cjs);
    expect(exportNames(module).length, `${entry.cjs} exports nothing`).toBeGreaterThan(0);
  });

  it('exposes the same exports, of the same kinds, in both formats', async () => {
    const esm = await importEsm(entry.esm);
    const cjs = requireCjs(entry.cjs);
    expect(exportNames(cjs)).toEqual(exportNames(esm));
    expect(exportShapes(cjs)).toEqual(exportShapes(esm));
  });
});

describe('the ESM and CJS builds share one tenant context', () => {
  let esm: typeof Core;
  let cjs: typeof Core;
  let esmTesting: typeof Testing;
  let cjsTesting: typeof Testing;

  beforeAll(async () => {
    esm = (await importEsm(entryFor('.').esm)) as unknown as typeof Core;
    cjs = requireCjs(entryFor('.').cjs) as unknown as typeof Core;
    esmTesting = (await importEsm(entryFor('./testing').esm)) as unknown as typeof Testing;
    cjsTesting = requireCjs(entryFor('./testing').cjs) as unknown as typeof Testing;
  });

  const seed = [{ id: 'acme' }, { id: 'globex' }] as const;

  it('loads two separate copies of the code (otherwise the proofs below prove nothing)', () => {
    expect(cjs.createTenancy).not.toBe(esm.createTenancy);
    expect(cjs.TenancyError).not.toBe(esm.TenancyError);
    expect(cjs.NoTenantError).not.toBe(esm.NoTenantError);
    expect(cjs.isTenancyError).not.toBe(esm.isTenancyError);
  });

  it('CJS code run inside an ESM tenancy.run sees the ESM tenant, across awaits and timers', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: [...seed] });

    expect(esmTenancy.current()).toBeUndefined();
    const seen = await esmTenancy.run('acme', async () => {
      const outer = esmTenancy.require();
      expect(outer.id).toBe('acme');
      // The CJS build's tenancy.run is handed the ESM instance's Tenant and runs the callback.
      return cjsTenancy.run(outer, async () => {
        const atStart = { esm: esmTenancy.current(), cjs: cjsTenancy.current() };
        await sleep(5);
        const afterTimer = { esm: esmTenancy.current(), cjs: cjsTenancy.current() };
        await new Promise<void>((resolveImmediate) => setImmediate(resolveImmediate));
        const afterImmediate = { esm: esmTenancy.current(), cjs: cjsTenancy.current() };
        return { outer, atStart, afterTimer, afterImmediate };
      });
    });

    for (const point of [seen.atStart, seen.afterTimer, seen.afterImmediate]) {
      expect(point.esm).toBe(seen.outer);
      expect(point.cjs).toBe(seen.outer);
    }
    expect(esmTenancy.current()).toBeUndefined();
    expect(cjsTenancy.current()).toBeUndefined();
  });

  it('a CJS-built tenancy handed the ESM registry and tenants resolves the very same tenant', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: esmTenancy.registry });

    const inEsm = await esmTenancy.run('globex', () => esmTenancy.require());
    const inCjs = await cjsTenancy.run('globex', () => cjsTenancy.require());
    expect(inCjs).toBe(inEsm);
    expect(Object.isFrozen(inCjs)).toBe(true);
    expect(inCjs.schema).toBe(esm.defaultSchemaName('globex'));
    expect(cjs.defaultSchemaName('globex')).toBe(esm.defaultSchemaName('globex'));
  });

  it('an ESM tenancy.bind callback keeps its tenant when CJS code calls it later', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: [...seed] });

    const bound = await esmTenancy.run('acme', () => esmTenancy.bind(() => esmTenancy.current()?.id));
    expect(bound()).toBe('acme');
    expect(await cjsTenancy.run('globex', () => bound())).toBe('acme');
  });

  it('interleaved runs in the two builds never see each other’s tenant', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: esmTenancy.registry });

    const observe = async (tenancy: Core.Tenancy, other: Core.Tenancy, id: string, delays: readonly number[]) =>
      tenancy.run(id, async () => {
        const seen: { mine: string | undefined; other: string | undefined }[] = [];
        for (const delay of delays) {
          await sleep(delay);
          seen.push({ mine: tenancy.current()?.id, other: other.current()?.id });
        }
        return seen;
      });

    const [fromEsm, fromCjs] = await Promise.all([
      observe(esmTenancy, cjsTenancy, 'acme', [3, 1, 4, 1, 5]),
      observe(cjsTenancy, esmTenancy, 'globex', [2, 7, 1, 8, 2]),
    ]);
    expect(fromEsm).toEqual(Array.from({ length: 5 }, () => ({ mine: 'acme', other: undefined })));
    expect(fromCjs).toEqual(Array.from({ length: 5 }, () => ({ mine: 'globex', other: undefined })));
  });

  it('fails closed across builds: a CJS run gives no tenant to an ESM instance, and the reverse', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: [...seed] });

    const fromEsm = await cjsTenancy.run('acme', () => thrownBy(() => esmTenancy.require()));
    const fromCjs = await esmTenancy.run('acme', () => thrownBy(() => cjsTenancy.require()));

    expect(fromEsm).toBeInstanceOf(esm.NoTenantError);
    expect(fromCjs).toBeInstanceOf(cjs.NoTenantError);
    expect(cjs.isTenancyError(fromEsm)).toBe(true);
    expect(esm.isTenancyError(fromCjs)).toBe(true);
  });

  it('isTenancyError from ESM recognises a NoTenantError thrown by a CJS-built tenancy.require()', () => {
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: [...seed] });
    const error = thrownBy(() => cjsTenancy.require());

    expect(error).toBeInstanceOf(cjs.NoTenantError);
    expect(error).not.toBeInstanceOf(esm.TenancyError);
    expect(esm.isTenancyError(error)).toBe(true);
    if (!esm.isTenancyError(error)) return;
    expect(error.code).toBe('TENANTRY_NO_TENANT');
    expect(error.name).toBe('NoTenantError');
    expect(error.httpStatus).toBe(new esm.NoTenantError().httpStatus);
  });

  it('isTenancyError from CJS recognises a NoTenantError thrown by an ESM-built tenancy.require()', () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const error = thrownBy(() => esmTenancy.require());

    expect(error).toBeInstanceOf(esm.NoTenantError);
    expect(error).not.toBeInstanceOf(cjs.TenancyError);
    expect(cjs.isTenancyError(error)).toBe(true);
    if (!cjs.isTenancyError(error)) return;
    expect(error.code).toBe('TENANTRY_NO_TENANT');
    expect(error.httpStatus).toBe(new cjs.NoTenantError().httpStatus);
  });

  it('errors rejected by run() in one build are recognised, with code and status, by the other', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: [...seed] });

    const cases = [
      { error: await rejectionOf(esmTenancy.run('ghost', () => undefined)), guard: cjs.isTenancyError, code: 'TENANTRY_TENANT_NOT_FOUND', status: 404 },
      { error: await rejectionOf(cjsTenancy.run('ghost', () => undefined)), guard: esm.isTenancyError, code: 'TENANTRY_TENANT_NOT_FOUND', status: 404 },
      { error: await rejectionOf(esmTenancy.run('Not An Id', () => undefined)), guard: cjs.isTenancyError, code: 'TENANTRY_INVALID_TENANT_ID', status: 400 },
      { error: await rejectionOf(cjsTenancy.run('Not An Id', () => undefined)), guard: esm.isTenancyError, code: 'TENANTRY_INVALID_TENANT_ID', status: 400 },
    ];
    for (const { error, guard, code, status } of cases) {
      expect(guard(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code, httpStatus: status });
    }
  });

  it('an error thrown by app code inside a run in one build reaches the other build intact', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: [...seed] });
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: [...seed] });
    const error = await rejectionOf(
      esmTenancy.run('acme', () =>
        cjsTenancy.run('globex', () => {
          throw new cjs.TenantSuspendedError(esmTenancy.require().id);
        }),
      ),
    );
    expect(esm.isTenancyError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TENANTRY_TENANT_SUSPENDED', name: 'TenantSuspendedError' });
    expect(String((error as Error).message)).toContain('acme');
  });

  it('isTenancyError rejects look-alikes in both builds (the brand is checked, not just the code)', () => {
    const lookAlikes: unknown[] = [
      new Error('plain'),
      Object.assign(new Error('coded'), { code: 'TENANTRY_NO_TENANT', httpStatus: 500 }),
      { code: 'TENANTRY_NO_TENANT', httpStatus: 500, name: 'NoTenantError', message: '' },
      null,
      undefined,
      'TENANTRY_NO_TENANT',
    ];
    for (const value of lookAlikes) {
      expect(esm.isTenancyError(value), String(value)).toBe(false);
      expect(cjs.isTenancyError(value), String(value)).toBe(false);
    }
  });

  it('tenantry/testing throws the core error classes of its own format, recognised by the other format', async () => {
    const badPrefix = { serverUrl: 'postgres://127.0.0.1:1/postgres', prefix: 'Not Valid' };
    const fromEsm = await rejectionOf(esmTesting.createTestDatabase(badPrefix));
    const fromCjs = await rejectionOf(cjsTesting.createTestDatabase(badPrefix));

    // Same format: the entries share one copy of the errors (one chunk), so instanceof holds.
    expect(fromEsm).toBeInstanceOf(esm.InvalidConfigError);
    expect(fromCjs).toBeInstanceOf(cjs.InvalidConfigError);
    // Other format: recognised by brand and code.
    expect(cjs.isTenancyError(fromEsm)).toBe(true);
    expect(esm.isTenancyError(fromCjs)).toBe(true);
    expect(fromEsm).toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
    expect(fromCjs).toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
  });
});

describe('tenantry/pg from one build, handed a tenancy from the other, scopes to that tenancy', () => {
  const db = useTestDatabase();
  let esm: typeof Core;
  let cjs: typeof Core;
  let esmPg: typeof PgEntry;
  let cjsPg: typeof PgEntry;
  const ids = ['acme', 'globex'] as const;

  beforeAll(async () => {
    esm = (await importEsm(entryFor('.').esm)) as unknown as typeof Core;
    cjs = requireCjs(entryFor('.').cjs) as unknown as typeof Core;
    esmPg = (await importEsm(entryFor('./pg').esm)) as unknown as typeof PgEntry;
    cjsPg = requireCjs(entryFor('./pg').cjs) as unknown as typeof PgEntry;
    // Each tenant's schema holds one marker row naming its owner; public holds a decoy.
    await db.pool.query('CREATE TABLE public.marker (owner text NOT NULL); INSERT INTO public.marker VALUES ($$shared$$)');
    for (const id of ids) {
      const schema = esm.quoteIdent(esm.defaultSchemaName(id));
      await db.pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.marker (owner text NOT NULL)`);
      await db.pool.query(`INSERT INTO ${schema}.marker VALUES ($1)`, [id]);
    }
  });

  const owner = async (pool: PgEntry.TenantPool): Promise<unknown> =>
    (await pool.query<{ owner: string }>('SELECT owner, pg_sleep(0.01) FROM marker')).rows.map((row) => row.owner);

  it('loads two separate copies of tenantPool', () => {
    expect(cjsPg.tenantPool).not.toBe(esmPg.tenantPool);
    expect(cjsPg.TenantPool).not.toBe(esmPg.TenantPool);
  });

  it('the CJS tenantPool queries the tenant an ESM tenancy.run made active, with interleaved runs', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: ids.map((id) => ({ id })) });
    const scoped = cjsPg.tenantPool(esmTenancy, db.pool);

    const seen = await Promise.all(
      [...ids, ...ids, ...ids].map((id) =>
        esmTenancy.run(id, async () => {
          const owners = await owner(scoped);
          const client = await scoped.transaction((tx) => tx.query('SELECT owner FROM marker'));
          return { id, owners, client };
        }),
      ),
    );
    for (const { id, owners, client } of seen) {
      expect(owners).toEqual([id]);
      expect(client.rows).toEqual([{ owner: id }]);
    }
    expect(await esmTenancy.runShared(() => owner(scoped))).toEqual(['shared']);
  });

  it('the ESM tenantPool queries the tenant a CJS tenancy.run made active', async () => {
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: ids.map((id) => ({ id })) });
    const scoped = esmPg.tenantPool(cjsTenancy, db.pool);

    const seen = await Promise.all(ids.map((id) => cjsTenancy.run(id, async () => ({ id, owners: await owner(scoped) }))));
    for (const { id, owners } of seen) expect(owners).toEqual([id]);
  });

  it('fails closed across builds: the CJS tenantPool refuses with no run of its tenancy, and ESM recognises the error', async () => {
    const esmTenancy = esm.createTenancy({ registry: 'memory', tenants: ids.map((id) => ({ id })) });
    const cjsTenancy = cjs.createTenancy({ registry: 'memory', tenants: ids.map((id) => ({ id })) });
    const scoped = cjsPg.tenantPool(esmTenancy, db.pool);

    const outside = await rejectionOf(owner(scoped));
    // A run of another tenancy instance gives this pool no tenant: the context belongs to the instance.
    const inOtherInstance = await cjsTenancy.run('acme', () => rejectionOf(owner(scoped)));
    for (const error of [outside, inOtherInstance]) {
      expect(error).toBeInstanceOf(cjs.NoTenantError);
      expect(esm.isTenancyError(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    }
  });
});
