// A TypeDoc plugin: names each entry point's module after the import path users write
// (`tenantry/pg`, not `pg`; `tenantry/express`, not `adapters/express`). The table follows
// tsup.config.ts `entries`; a module without a name here, or a name that matches no module,
// fails the build.
import { Converter, ReflectionKind } from 'typedoc';

const importPaths = {
  index: 'tenantry',
  pg: 'tenantry/pg',
  kysely: 'tenantry/kysely',
  'adapters/express': 'tenantry/express',
  'adapters/fastify': 'tenantry/fastify',
  'adapters/koa': 'tenantry/koa',
  testing: 'tenantry/testing',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const unused = new Set(Object.keys(importPaths));
    for (const module of context.project.getChildrenByKind(ReflectionKind.Module)) {
      const importPath = importPaths[module.name];
      if (importPath === undefined) {
        app.logger.error(`typedoc-entry-names: the entry module "${module.name}" has no import path; add it to scripts/typedoc-entry-names.mjs`);
        continue;
      }
      unused.delete(module.name);
      module.name = importPath;
    }
    for (const name of unused) app.logger.error(`typedoc-entry-names: "${name}" names no entry module; remove it from scripts/typedoc-entry-names.mjs`);
  });
}
