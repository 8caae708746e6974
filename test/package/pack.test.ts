/**
 * The package as a user gets it: `npm pack`, install the tarball into a scratch project, then
 * `import` and `require` every entry by its package name in plain Node processes.
 *
 * The install is offline (the package has no runtime dependencies; its peers are optional). The
 * scratch project first has no peers at all, as a user who installed only `tenantry`; then the
 * peers are linked from this repository's node_modules, as a user who installed them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const timeout = 120_000;

interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly exports: Record<string, unknown>;
  readonly peerDependencies?: Record<string, string>;
}

interface PackResult {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** What a probe script prints for one specifier. */
type Probe =
  | { readonly ok: true; readonly names: string[]; readonly file: string }
  | { readonly ok: false; readonly code: string; readonly message: string };

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
const subpaths = Object.keys(pkg.exports).filter((subpath) => subpath !== './package.json');
const specifiers = subpaths.map((subpath) => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`));
const peers = Object.keys(pkg.peerDependencies ?? {});

/** Every file path an `exports` target names, under any condition (types included). */
function targetFiles(target: unknown): string[] {
  if (typeof target === 'string') return [target];
  if (Array.isArray(target)) return target.flatMap(targetFiles);
  if (typeof target === 'object' && target !== null) return Object.values(target).flatMap(targetFiles);
  return [];
}

const exportedFiles = [...new Set(subpaths.flatMap((subpath) => targetFiles(pkg.exports[subpath])))].map((file) => file.replace(/^\.\//, ''));

/** The environment of child npm and node processes: the parent npm's per-project variables left out. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$|command$)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', NODE_OPTIONS: '' };
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const windows = process.platform === 'win32';
  try {
    const { stdout } = await run(windows ? 'npm.cmd' : 'npm', args, {
      cwd,
      env: childEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout,
      shell: windows,
    });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}\n${stderr}\n${stdout}`.trim(), { cause: error });
  }
}

/**
 * Loads each specifier in a fresh Node process (`import` or `require`) and reports the file it
 * resolved to and its export names, or its failure.
 */
const probeSource = (kind: 'import' | 'require'): string => `
const results = {};
for (const specifier of process.argv.slice(2)) {
  try {
    const module = ${kind === 'import' ? 'await import(specifier)' : 'require(specifier)'};
    const file = ${kind === 'import' ? 'new URL(import.meta.resolve(specifier)).pathname' : 'require.resolve(specifier)'};
    results[specifier] = { ok: true, file, names: Object.keys(module).filter((name) => name !== '__esModule').sort() };
  } catch (error) {
    results[specifier] = { ok: false, code: String(error?.code ?? ''), message: String(error?.message ?? error) };
  }
}
process.stdout.write(JSON.stringify(results));
`;

async function probe(project: string, kind: 'import' | 'require'): Promise<Record<string, Probe>> {
  const script = join(project, kind === 'import' ? 'probe.mjs' : 'probe.cjs');
  const { stdout } = await run(process.execPath, [script, ...specifiers], { cwd: project, env: childEnv(), timeout });
  return JSON.parse(stdout) as Record<string, Probe>;
}

function loadedProbe(results: Record<string, Probe>, specifier: string, kind: string): Extract<Probe, { ok: true }> {
  const result = results[specifier];
  if (result === undefined) throw new Error(`${kind} ${specifier}: the probe reported nothing`);
  if (!result.ok) throw new Error(`${kind} ${specifier} failed: ${result.code} ${result.message}`);
  return result;
}

function loaded(results: Record<string, Probe>, specifier: string, kind: string): string[] {
  return loadedProbe(results, specifier, kind).names;
}

/** The package a module-not-found message names (`Cannot find package 'x'` in ESM, `Cannot find module 'x'` in CJS). */
function missingPackage(message: string): string | undefined {
  const name = /Cannot find (?:package|module) '([^']+)'/.exec(message)?.[1];
  if (name === undefined) return undefined;
  const parts = name.split('/');
  return name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('the packed package', { timeout }, () => {
  let work: string;
  let packed: PackResult;
  let project: string;

  beforeAll(async () => {
    const missing = exportedFiles.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0) {
      throw new Error(`The built package is missing ${missing.join(', ')}. Run \`npm run build\` first (\`npm test\` does it in pretest).`);
    }

    work = await mkdtemp(join(tmpdir(), 'tenantry-pack-'));
    const tarballs = join(work, 'tarballs');
    await mkdir(tarballs);
    // --ignore-scripts: pack what pretest built; a prepack rebuild would wipe dist under the other test files.
    const output = JSON.parse(await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], root)) as PackResult[];
    const result = output[0];
    if (result === undefined) throw new Error('npm pack --json reported no package');
    packed = result;

    project = join(work, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'tenantry-pack-scratch', private: true, type: 'module' }, null, 2)}\n`);
    await writeFile(join(project, 'probe.mjs'), probeSource('import'));
    await writeFile(join(project, 'probe.cjs'), probeSource('require'));

    // --legacy-peer-deps: never fetch peers (they are linked below); --offline: no network, the
    // tarball has no dependencies. Should it gain some that the cache lacks, fall back to the registry.
    const install = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', '--no-package-lock'];
    const tarball = join(tarballs, packed.filename);
    try {
      await npm([...install, '--offline', tarball], project);
    } catch (error) {
      if (!/ENOTCACHED/.test(String((error as Error).message))) throw error;
      await npm([...install, '--prefer-offline', tarball], project);
    }
  }, timeout);

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  describe('tarball contents', () => {
    const paths = (): string[] => packed.files.map((file) => file.path.replace(/\\/g, '/'));

    it('holds package.json, README.md and CHANGELOG.md', () => {
      expect(paths()).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md']));
    });

    it('holds every file package.json exports names (code and types, ESM and CJS)', () => {
      expect(exportedFiles.length).toBeGreaterThan(0);
      expect(paths()).toEqual(expect.arrayContaining(exportedFiles));
      expect(exportedFiles.some((file) => file.endsWith('.cjs'))).toBe(true);
      expect(exportedFiles.some((file) => file.endsWith('.d.ts'))).toBe(true);
    });

    it('holds no tests or other repository files; TypeScript only as declarations and under src/', () => {
      const list = paths();
      expect(list.filter((path) => /^(test|bench|examples|scripts|docs)\//.test(path))).toEqual([]);
      expect(list.filter((path) => !/^(dist\/|src\/|package\.json$|README\.md$|CHANGELOG\.md$|LICEN[CS]E(\.md)?$)/i.test(path))).toEqual([]);
      expect(list.filter((path) => /\.ts$/.test(path) && !/\.d\.c?ts$/.test(path) && !path.startsWith('src/'))).toEqual([]);
    });

    it('holds every source file the source maps name, so stack traces point at files that exist', () => {
      const list = new Set(paths());
      const maps = [...list].filter((path) => path.startsWith('dist/') && path.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(0);
      const named = new Set<string>();
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(join(project, 'node_modules', pkg.name, map), 'utf8')) as { sources: string[] };
        for (const source of sources) named.add(posix.normalize(posix.join(posix.dirname(map), source)));
      }
      // The sources are src/**/*.ts, and package.json, which the CLI reads its version from.
      expect([...named].filter((source) => source.startsWith('src/')).length).toBeGreaterThan(0);
      expect([...named].filter((source) => !list.has(source))).toEqual([]);
      for (const source of named) expect(existsSync(join(project, 'node_modules', pkg.name, source)), source).toBe(true);
    });

    it('installs as tenantry at this version', () => {
      const installed = JSON.parse(readFileSync(join(project, 'node_modules', pkg.name, 'package.json'), 'utf8')) as PackageJson;
      expect(installed.name).toBe(pkg.name);
      expect(installed.version).toBe(pkg.version);
      expect(installed.exports).toEqual(pkg.exports);
    });
  });

  describe('with no peer dependency installed', () => {
    it(`loads ${pkg.name} itself in ESM and in CJS`, async () => {
      const [esm, cjs] = await Promise.all([probe(project, 'import'), probe(project, 'require')]);
      const names = loaded(esm, pkg.name, 'import');
      expect(names).toContain('createTenancy');
      expect(loaded(cjs, pkg.name, 'require')).toEqual(names);
    });

    it('loads every other entry, or fails only for want of one of its declared peer dependencies', async () => {
      const [esm, cjs] = await Promise.all([probe(project, 'import'), probe(project, 'require')]);
      for (const [kind, results] of [['import', esm], ['require', cjs]] as const) {
        for (const specifier of specifiers) {
          const result = results[specifier];
          expect(result, `${kind} ${specifier}`).toBeDefined();
          if (result === undefined || result.ok) continue;
          const wanted = missingPackage(result.message);
          expect(wanted, `${kind} ${specifier} failed: ${result.code} ${result.message}`).toBeDefined();
          expect(peers, `${kind} ${specifier} needs ${wanted}, which is not a declared peer dependency`).toContain(wanted);
        }
      }
    });
  });

  describe('with the peer dependencies installed', () => {
    let esm: Record<string, Probe>;
    let cjs: Record<string, Probe>;

    beforeAll(async () => {
      const modules = join(project, 'node_modules');
      for (const peer of peers) {
        const source = join(root, 'node_modules', peer);
        const target = join(modules, peer);
        if (!existsSync(source) || existsSync(target)) continue;
        await mkdir(dirname(target), { recursive: true });
        await symlink(source, target, 'junction');
      }
      [esm, cjs] = await Promise.all([probe(project, 'import'), probe(project, 'require')]);
    }, timeout);

    it.each(specifiers)('imports %s (ESM) by package name', (specifier) => {
      expect(loaded(esm, specifier, 'import').length).toBeGreaterThan(0);
    });

    it.each(specifiers)('requires %s (CJS) by package name', (specifier) => {
      expect(loaded(cjs, specifier, 'require').length).toBeGreaterThan(0);
    });

    it.each(specifiers)('%s resolves to the ESM build for import and the CJS build for require', (specifier) => {
      const esmFile = loadedProbe(esm, specifier, 'import').file.replace(/\\/g, '/');
      const cjsFile = loadedProbe(cjs, specifier, 'require').file.replace(/\\/g, '/');
      expect(esmFile).toMatch(new RegExp(`/node_modules/${pkg.name}/dist/.+\\.m?js$`));
      expect(cjsFile).toMatch(new RegExp(`/node_modules/${pkg.name}/dist/.+\\.cjs$`));
    });

    it.each(specifiers)('%s has the same export names in ESM and CJS', (specifier) => {
      expect(loaded(cjs, specifier, 'require')).toEqual(loaded(esm, specifier, 'import'));
    });
  });
});
