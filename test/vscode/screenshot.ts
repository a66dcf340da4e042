// Asks the harness for a screenshot of the workbench as it is now, and waits until the file exists, so the suite does
// not change the screen before the picture is taken. Outside a harness that takes screenshots (no
// IPXE_FARM_SCREENSHOT_DIR, or the test-electron runner) it returns undefined at once.
import * as fs from 'node:fs';
import * as path from 'node:path';

export async function screenshot(name: string, timeoutMs = 30_000): Promise<string | undefined> {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(name)) throw new Error(`screenshot name "${name}": use letters, digits, dot, dash or underscore`);
  if (name.startsWith('failed-')) throw new Error('screenshot names starting with "failed-" are kept for failure screenshots');
  return take(process.env.IPXE_FARM_SCREENSHOT_DIR, name, timeoutMs);
}

/**
 * The workbench as it was when a test failed, as failed-<title>.png in the harness's failure folder (always set by
 * the code-server harness: out/vscode-test/failures/ unless screenshots were asked for elsewhere).
 */
export async function failureScreenshot(title: string): Promise<string | undefined> {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 70) || 'test';
  return take(process.env.IPXE_FARM_FAILURE_SCREENSHOT_DIR, `failed-${slug}`, 30_000);
}

async function take(dir: string | undefined, name: string, timeoutMs: number): Promise<string | undefined> {
  if (!dir) return undefined;
  const file = path.join(dir, `${name}.png`);
  // A picture left over from an earlier run must not be mistaken for this one.
  fs.rmSync(file, { force: true });
  console.log(`@@screenshot ${name}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return file;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the harness took no screenshot "${name}" within ${timeoutMs / 1000} s (is it a harness that takes screenshots?)`);
}
