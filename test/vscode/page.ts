// Asks the harness to act on the workbench page as a user would (real pointer and keyboard events through
// Playwright) and to time what the user sees from inside the page (scripts/lib/vscode-page.mjs). Code-server runner
// only: check harnessCanSeeScreen() (test/vscode/dom.ts) first.
import * as fs from 'node:fs';
import * as path from 'node:path';

let asked = 0;

async function ask<T>(action: Record<string, unknown>, timeoutMs: number): Promise<T> {
  const dir = process.env.IPXE_FARM_HARNESS_DIR;
  if (!dir) throw new Error('no harness that can act on the page (IPXE_FARM_HARNESS_DIR is not set): check harnessCanSeeScreen() first');
  const name = `page-${process.pid}-${++asked}`;
  const file = path.join(dir, `${name}.json`);
  console.log(`@@page ${name} ${JSON.stringify(action)}`);
  const deadline = Date.now() + timeoutMs + 10_000;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) {
      const answer = JSON.parse(fs.readFileSync(file, 'utf8')) as T & { error?: string };
      fs.rmSync(file, { force: true });
      if (answer.error) throw new Error(`the page action ${String(action.action)} failed: ${answer.error}`);
      return answer;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the harness did not answer the page action ${String(action.action)} within ${(timeoutMs + 10_000) / 1000} s`);
}

export const clickOn = (selector: string, timeoutMs = 15_000) => ask<object>({ action: 'click', selector, timeoutMs }, timeoutMs);
/** Types into whatever has the keyboard focus, one key event per character. */
export const typeText = (text: string, delayMs = 20) => ask<object>({ action: 'type', text, delayMs }, 5_000 + text.length * delayMs * 2);
export const pressKey = (key: string) => ask<object>({ action: 'press', key }, 5_000);
/** The attribute `name` of every element matching `selector` (null where absent). */
export const attributes = async (selector: string, name: string) => (await ask<{ values: (string | null)[] }>({ action: 'attr', selector, name }, 5_000)).values;

export interface PageTiming {
  /** performance.now() of the click's pointerdown on the page. */
  start: number;
  /** When the MutationObserver saw the text in the DOM. */
  domAt: number;
  /** The next animation frame after that: the frame that shows it. */
  end: number;
  ms: number;
}

/** Clicks `click` and times, on the page, from its pointerdown to the first frame where `until` shows `text`. */
export const measureClickUntil = (click: string, until: { selector: string; text: string }, timeoutMs = 20_000) =>
  ask<PageTiming>({ action: 'measure', click, until, timeoutMs }, timeoutMs);
