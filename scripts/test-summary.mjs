// Prints "passed failed skipped" from a vitest JSON report (0 0 0 when the report is missing).
// With --failures, prints one line per failed test instead: its file, its name and the first line
// of its error, so the end of a CI log says which tests failed without scrolling back.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const args = process.argv.slice(2);
const listFailures = args.includes('--failures');
const file = args.find((arg) => !arg.startsWith('--')) ?? 'test-results/vitest.json';
const report = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;

if (listFailures) {
  for (const suite of report?.testResults ?? []) {
    for (const test of suite.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      const firstLine = String(test.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      console.log(`${relative(process.cwd(), suite.name)} > ${test.fullName}: ${firstLine}`);
    }
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
      console.log(`${relative(process.cwd(), suite.name)}: ${String(suite.message ?? '').split('\n')[0]}`);
    }
  }
} else if (!report) {
  console.log('0 0 0');
} else {
  console.log(`${report.numPassedTests ?? 0} ${report.numFailedTests ?? 0} ${(report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)}`);
}
