// Fails the build when a built entry is missing from package.json `exports`, or an export points at nothing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const problems = [];
const exported = new Set();

for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (subpath === './package.json') continue;
  for (const condition of ['import', 'require']) {
    for (const file of [target[condition]?.types, target[condition]?.default]) {
      if (file === undefined) problems.push(`exports["${subpath}"].${condition} lacks types or default`);
      else if (!existsSync(file)) problems.push(`exports["${subpath}"].${condition} points at ${file}, which the build did not produce`);
      else exported.add(relative('.', file));
    }
  }
}

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
const entryFiles = walk('dist').filter((file) => /(^|\/)index\.(js|cjs)$/.test(relative('dist', file)));
for (const file of entryFiles) {
  if (!exported.has(relative('.', file))) problems.push(`${file} is a built entry that package.json "exports" does not name`);
}

if (problems.length > 0) {
  console.error(`check-exports: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-exports: ${Object.keys(pkg.exports).length - 1} subpaths, ${entryFiles.length} entry files, all in step`);
