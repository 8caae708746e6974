/**
 * The tenantry a benchmark measures: the built package (`dist/`, imported as users import it)
 * by default, or `src/` through tsx with BENCH_SOURCE=src. tsx compiles with esbuild's
 * `keepNames`, so every named closure created per call also costs an `Object.defineProperty`:
 * src/ through tsx runs slower per query or request than what users run.
 *
 * @module
 */
import { readdir, stat } from 'node:fs/promises';
import type * as Express from '../src/adapters/express.js';
import type * as Fastify from '../src/adapters/fastify.js';
import type * as Koa from '../src/adapters/koa.js';
import type * as Core from '../src/index.js';
import type * as KyselyPlugin from '../src/kysely/index.js';
import type * as Pg from '../src/pg/index.js';

/** Whether the benchmark imports the built package (the default) or src/ through tsx (BENCH_SOURCE=src). */
export const BUILT = sourceKind(process.env.BENCH_SOURCE) === 'dist';

/**
 * The library's entry points, each from dist/ or src/ as BENCH_SOURCE says (typed as src/,
 * which the build is made of).
 *
 * @example
 * ```ts
 * const { createTenancy } = await tenantry.core();
 * ```
 */
export const tenantry = {
  core: async (): Promise<typeof Core> => (BUILT ? ((await import('tenantry')) as unknown as typeof Core) : import('../src/index.js')),
  pg: async (): Promise<typeof Pg> => (BUILT ? ((await import('tenantry/pg')) as unknown as typeof Pg) : import('../src/pg/index.js')),
  kysely: async (): Promise<typeof KyselyPlugin> =>
    BUILT ? ((await import('tenantry/kysely')) as unknown as typeof KyselyPlugin) : import('../src/kysely/index.js'),
  fastify: async (): Promise<typeof Fastify> => (BUILT ? ((await import('tenantry/fastify')) as unknown as typeof Fastify) : import('../src/adapters/fastify.js')),
  express: async (): Promise<typeof Express> => (BUILT ? ((await import('tenantry/express')) as unknown as typeof Express) : import('../src/adapters/express.js')),
  koa: async (): Promise<typeof Koa> => (BUILT ? ((await import('tenantry/koa')) as unknown as typeof Koa) : import('../src/adapters/koa.js')),
};

/**
 * What is measured, for the report: `dist/ (built …)` or `src/ (tsx)`. Refuses a missing build,
 * and warns when src/ has changed since the build.
 *
 * @example
 * ```ts
 * console.log(`code: ${await measuredSource()}`);
 * ```
 */
export async function measuredSource(): Promise<string> {
  if (!BUILT) return 'src/ (tsx)';
  const built = await stat(new URL('../dist/index.js', import.meta.url)).catch(() => undefined);
  if (built === undefined) throw new Error('No built package in dist/: run `npm run build` first, or set BENCH_SOURCE=src');
  const sources = await readdir(new URL('../src/', import.meta.url), { recursive: true });
  let newest = 0;
  for (const file of sources) {
    if (file.endsWith('.ts')) newest = Math.max(newest, (await stat(new URL(`../src/${file}`, import.meta.url))).mtimeMs);
  }
  if (newest > built.mtimeMs) console.error('warning: src/ has changed since the last build; run `npm run build` to measure the current code');
  return `dist/ (built ${built.mtime.toISOString().slice(0, 16).replace('T', ' ')})`;
}

function sourceKind(text: string | undefined): 'dist' | 'src' {
  if (text === undefined || text === '' || text === 'dist') return 'dist';
  if (text === 'src') return 'src';
  throw new TypeError(`BENCH_SOURCE: expected dist or src, got ${JSON.stringify(text)}`);
}
