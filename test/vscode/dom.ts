// Asks the harness what the workbench shows: the innerText of the elements matching a CSS selector, read from the
// real page by Playwright (what the extension API cannot see: welcome content, rendered tree rows). Only the
// code-server runner answers; elsewhere (desktop VS Code) `harnessCanSeeScreen()` is false and such tests skip.
import * as fs from 'node:fs';
import * as path from 'node:path';

let asked = 0;

export function harnessCanSeeScreen(): boolean {
  return Boolean(process.env.IPXE_FARM_HARNESS_DIR);
}

/** The texts of all elements matching `selector` right now. */
export async function domTexts(selector: string, timeoutMs = 20_000): Promise<string[]> {
  const dir = process.env.IPXE_FARM_HARNESS_DIR;
  if (!dir) throw new Error('no harness that can see the screen (IPXE_FARM_HARNESS_DIR is not set): check harnessCanSeeScreen() first');
  if (/[\r\n]/.test(selector)) throw new Error('a selector is one line');
  const name = `dom-${process.pid}-${++asked}`;
  const file = path.join(dir, `${name}.json`);
  console.log(`@@dom ${name} ${selector}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) {
      const answer = JSON.parse(fs.readFileSync(file, 'utf8')) as { texts?: string[]; error?: string };
      fs.rmSync(file, { force: true });
      if (answer.error) throw new Error(`the harness could not query "${selector}": ${answer.error}`);
      return answer.texts ?? [];
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the harness did not answer the query "${selector}" within ${timeoutMs / 1000} s`);
}

/** Polls until some element matching `selector` has text for which `test` holds; returns all the texts then. */
export async function waitForDomText(selector: string, test: (text: string) => boolean, timeoutMs = 15_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await domTexts(selector);
    if (last.some(test)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing matching "${selector}" showed the expected text within ${timeoutMs / 1000} s; it showed: ${JSON.stringify(last).slice(0, 400)}`);
}
