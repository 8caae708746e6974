// Prints "passed failed skipped" from a vitest JSON report (0 0 0 when the report is missing).
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
if (!existsSync(file)) {
  console.log('0 0 0');
} else {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  console.log(`${report.numPassedTests ?? 0} ${report.numFailedTests ?? 0} ${(report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)}`);
}
