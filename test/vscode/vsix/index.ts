// Tests entry for the packaged extension: VS Code started with the .vsix installed (and only a stub as the
// development extension), so what loads is what a user gets from `npm run package`.
import * as path from 'node:path';
import { runSuites } from '../index';

export function run(): Promise<void> {
  return runSuites(path.join(__dirname));
}
