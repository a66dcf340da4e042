// Tests entry for the untrusted-workspace run: code-server with workspace trust ON and the farm folder left
// untrusted (scripts/vscode-test.mjs prepares the farm with scripts/lib/vscode-untrusted.mjs).
import * as path from 'node:path';
import { runSuites } from '../index';

export function run(): Promise<void> {
  return runSuites(path.join(__dirname));
}
