// Type-checks the ```ts blocks of the `@example` tags in src/ (npm run docs:examples).
//
// Each example becomes a module in .tmp/examples/ and is compiled with the project's tsconfig:
// - the package's own imports (`tenantry`, `tenantry/pg`, …) resolve to src/ through `paths`;
// - everything the example's source file exports is in scope, as if the example were written
//   below it, and so is everything the package's entries export (`createTenancy`,
//   `tenantPool`, …; a name two entries export, such as `tenancyMiddleware`, must be imported);
//   an example that imports or declares a name itself keeps its own;
// - relative imports (`import('./startup-check.js').CheckContext`) are read from the source file;
// - the free variables examples share (`tenancy`, `pool`, `acme`, `req`…) are declared, with
//   their types, in scripts/examples-prelude.d.ts.
// An example that cannot compile on those terms is a bug in the example: fix it, or declare what
// it needs in the prelude. A block fenced with another language (```js, ```sql, ```text) is not
// checked. Exits 1 on any type error, naming the source file and line of the example.
//
// Files in `notChecked` are skipped, each with the reason; the list should only shrink.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, '.tmp', 'examples');
const prelude = join(root, 'scripts', 'examples-prelude.d.ts');

/** The package's import paths and the source files they stand for (tsup.config.ts `entries`). */
const importPaths = {
  tenantry: 'src/index.ts',
  'tenantry/pg': 'src/pg/index.ts',
  'tenantry/kysely': 'src/kysely/index.ts',
  'tenantry/express': 'src/adapters/express.ts',
  'tenantry/fastify': 'src/adapters/fastify.ts',
  'tenantry/koa': 'src/adapters/koa.ts',
  'tenantry/testing': 'src/testing/index.ts',
};

/** Files whose examples are not checked yet, and why. */
const notChecked = {};

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

/** The ```ts blocks of the `@example` tags of one file, with the line each block's code starts on (1-based). */
function examplesOf(text, file) {
  const examples = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const lines = comment[0].split('\n').map((line) => line.replace(/^\s*\/?\*+\/?\s?/, ''));
    const firstLine = text.slice(0, comment.index).split('\n').length;
    let inExample = false;
    for (let i = 0; i < lines.length; i++) {
      if (/^@\w+/.test(lines[i])) inExample = lines[i].startsWith('@example');
      if (!inExample || lines[i].trim() !== '```ts') continue;
      const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
      if (end === -1) throw new Error(`${relative(root, file)}:${firstLine}: an unclosed \`\`\`ts block`);
      examples.push({ line: firstLine + i + 1, code: lines.slice(i + 1, end).join('\n') });
      i = end;
    }
  }
  return examples;
}

/** The names a file exports, split into values and types (a class is both: imported as a value). */
function exportsOf(sourceFile, checker) {
  const values = [];
  const types = [];
  const symbol = checker.getSymbolAtLocation(sourceFile);
  for (const exported of symbol ? checker.getExportsOfModule(symbol) : []) {
    if (exported.name === 'default') continue;
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const typeOnly = exported.declarations?.some((d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly));
    if (target.flags & ts.SymbolFlags.Value && !typeOnly) values.push(exported.name);
    else types.push(exported.name);
  }
  return { values, types };
}

/** The names an example binds at its top level (imports and declarations). */
function namesBoundBy(code) {
  const names = new Set();
  const file = ts.createSourceFile('example.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const bind = (name) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      else if (bindings) for (const element of bindings.elements) names.add(element.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name);
    } else if (statement.name && ts.isIdentifier(statement.name)) {
      names.add(statement.name.text);
    }
  }
  return names;
}

const sourceFiles = walk(join(root, 'src'))
  .filter((file) => !(relative(root, file) in notChecked))
  .sort();
const found = sourceFiles.map((file) => ({ file, examples: examplesOf(readFileSync(file, 'utf8'), file) })).filter((f) => f.examples.length > 0);

// A first program over src/ answers what each file exports.
const configPath = join(root, 'tsconfig.json');
const base = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
const srcProgram = ts.createProgram([...found.map((f) => f.file), ...Object.values(importPaths).map((file) => join(root, file))], base.options);
const checker = srcProgram.getTypeChecker();

// What the package's entries export, by name: in scope in every example.
const publicNames = new Map(); // name → { entry file, type only }
for (const file of Object.values(importPaths)) {
  const { values, types } = exportsOf(srcProgram.getSourceFile(join(root, file)), checker);
  for (const [names, typeOnly] of [[values, false], [types, true]]) {
    for (const name of names) {
      // Exported by two entries (`tenancyMiddleware`: Express and Koa): the example says which.
      publicNames.set(name, publicNames.has(name) ? null : { file: join(root, file), typeOnly });
    }
  }
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const generated = new Map(); // generated file → { file, line, header }
for (const { file, examples } of found) {
  const { values, types } = exportsOf(srcProgram.getSourceFile(file), checker);
  const from = relative(outDir, file).replace(/\.ts$/, '.js');
  examples.forEach((example, n) => {
    const bound = namesBoundBy(example.code);
    const free = (names) => names.filter((name) => !bound.has(name));
    const own = new Set([...values, ...types]);
    const fromEntries = new Map();
    for (const [name, origin] of publicNames) {
      if (origin === null || own.has(name) || bound.has(name)) continue;
      const { file: entry, typeOnly } = origin;
      const names = fromEntries.get(entry) ?? { values: [], types: [] };
      names[typeOnly ? 'types' : 'values'].push(name);
      fromEntries.set(entry, names);
    }
    const importsOf = (names, path) => [
      names.values.length > 0 ? `import { ${names.values.join(', ')} } from '${path}';` : '',
      names.types.length > 0 ? `import type { ${names.types.join(', ')} } from '${path}';` : '',
    ];
    const header = [
      `// ${relative(root, file)}:${example.line}`,
      ...importsOf({ values: free(values), types: free(types) }, from),
      ...[...fromEntries].flatMap(([entry, names]) => importsOf(names, relative(outDir, entry).replace(/\.ts$/, '.js'))),
    ];
    const name = `${relative(join(root, 'src'), file).replace(/\.ts$/, '').replaceAll('/', '__')}__${n + 1}.ts`;
    // Relative module names are the source file's: point them at the same module from outDir.
    const code = example.code.replace(/(from\s+|import\()'(\.\.?\/[^']+)'/g, (_, lead, path) => {
      const target = relative(outDir, resolve(dirname(file), path));
      return `${lead}'${target.startsWith('.') ? target : `./${target}`}'`;
    });
    writeFileSync(join(outDir, name), `${header.join('\n')}\n${code}\nexport {};\n`);
    generated.set(join(outDir, name), { file, line: example.line, header: header.length });
  });
}

const paths = Object.fromEntries(Object.entries(importPaths).map(([path, file]) => [path, [join(root, file)]]));
const program = ts.createProgram([prelude, ...generated.keys()], { ...base.options, paths, types: ['node', 'express'], noEmit: true });
const problems = [];
for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
  const origin = diagnostic.file && generated.get(diagnostic.file.fileName);
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n    ');
  if (origin === undefined) {
    const where = diagnostic.file ? `${relative(root, diagnostic.file.fileName)}: ` : '';
    problems.push(`${where}${message}`);
    continue;
  }
  const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
  const sourceLine = line - origin.header >= 0 ? origin.line + line - origin.header : origin.line;
  problems.push(`${relative(root, origin.file)}:${sourceLine}: ${message}`);
}

const total = found.reduce((sum, f) => sum + f.examples.length, 0);
if (problems.length > 0) {
  console.error(`check-examples: ${problems.length} type error(s) in the @example blocks (${total} blocks, ${found.length} files; generated modules in ${relative(root, outDir)}/)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const skipped = Object.entries(notChecked).map(([file, why]) => `${file} (${why})`);
console.log(`check-examples: ${total} @example blocks in ${found.length} files type-check${skipped.length > 0 ? `; not checked: ${skipped.join(', ')}` : ''}`);
