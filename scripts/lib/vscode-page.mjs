// What a suite asks the page to do (`@@page NAME {json}` lines, test/vscode/page.ts): click, type and press keys the
// way a user does (Playwright input events, not commands), and time what the user sees, measured inside the page so
// no cross-process clock or polling round trip is counted.

/**
 * Waits, inside the page, for the first frame in which an element matching `selector` contains `text`, timing it
 * from the pointerdown of the click that follows (both on the page's performance clock). Installed before the
 * click so no mutation is missed.
 */
function installMeasure({ selector, text, timeoutMs }) {
  const w = /** @type {any} */ (window);
  w.__ipxeFarmMeasure = new Promise((resolve) => {
    let start;
    const onDown = (e) => { start ??= e.timeStamp; };
    window.addEventListener('pointerdown', onDown, { capture: true, once: true });
    const shown = () => [...document.querySelectorAll(selector)].some((e) => (e.textContent ?? '').includes(text));
    let done = false;
    const finish = (found) => {
      if (done) return;
      done = true;
      observer.disconnect();
      clearTimeout(timer);
      // The DOM has the row; the frame that paints it is the next animation frame.
      requestAnimationFrame(() => {
        const end = performance.now();
        resolve({ found, start, domAt: found ? domAt : undefined, end, ms: start === undefined ? undefined : end - start });
      });
    };
    let domAt;
    const observer = new MutationObserver(() => {
      if (start !== undefined && shown()) { domAt = performance.now(); finish(true); }
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
    const timer = setTimeout(() => finish(false), timeoutMs);
  });
}

/** Runs one action; resolves with what goes back to the suite. */
export async function pageAction(page, a) {
  const timeout = a.timeoutMs ?? 15_000;
  switch (a.action) {
    case 'click':
      await page.locator(a.selector).first().click({ timeout });
      return {};
    case 'type':
      await page.keyboard.type(a.text, { delay: a.delayMs ?? 20 });
      return {};
    case 'attr':
      // An attribute of every match (an input box's type="password": what innerText cannot tell).
      return { values: await page.$$eval(a.selector, (els, name) => els.map((e) => e.getAttribute(name)), a.name) };
    case 'press':
      await page.keyboard.press(a.key);
      return {};
    case 'measure': {
      await page.evaluate(installMeasure, { selector: a.until.selector, text: a.until.text, timeoutMs: timeout });
      await page.locator(a.click).first().click({ timeout });
      const r = await page.evaluate(() => /** @type {any} */ (window).__ipxeFarmMeasure);
      if (!r.found) throw new Error(`no "${a.until.selector}" showed "${a.until.text}" within ${timeout / 1000} s of the click on ${a.click}`);
      return r;
    }
    default:
      throw new Error(`unknown page action "${a.action}"`);
  }
}
