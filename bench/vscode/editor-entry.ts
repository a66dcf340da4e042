// Runs inside the real VS Code (via bench/vscode/editor.mjs): activation time and the Clients tree with 1,000
// clients, measured in the extension host and on the rendered page. Prints `metric NAME=VALUE UNIT` lines.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FarmExtensionApi } from '../../src/vscode/extension';
import type { Node } from '../../src/vscode/tree/shapeTree';
import { markConsole, reportResult } from '../../test/vscode/host-console';
import { harnessCanSeeScreen, waitForDomText } from '../../test/vscode/dom';
import { screenshot } from '../../test/vscode/screenshot';

const metric = (name: string, value: number, unit = 'ms') => console.log(`metric ${name}=${value.toFixed(1)} ${unit}`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(): Promise<void> {
  markConsole();
  let failed = 0;
  try {
    const ext = vscode.extensions.getExtension<FarmExtensionApi>('ipxe-farm.ipxe-farm')!;
    const wasActive = ext.isActive;
    const t0 = performance.now();
    const api = ext.isActive ? ext.exports : await ext.activate();
    if (!wasActive) metric('activation_wall_ms', performance.now() - t0);
    metric('activation_ms', api.activationMs);
    await api.state.ready;
    if (api.firstReadMs !== undefined) metric('first_farm_read_ms', api.firstReadMs);
    metric('farm_read_ms', api.state.lastReadMs);
    await api.state.refresh();
    metric('farm_reread_ms', api.state.lastReadMs);
    const clients = Object.keys(api.state.snapshot?.loaded?.farm.clients ?? {}).length;
    console.log(`farm: ${clients} clients, ${api.state.snapshot?.index.records.length ?? 0} PKI records`);
    if (clients < 1000) throw new Error(`the bench workspace has ${clients} clients, expected 1,000`);

    // The provider alone: what the extension host spends producing the 1,000 rows.
    const tree = api.views.clients;
    const provider: number[] = [];
    for (let i = 0; i < 7; i++) {
      const a = performance.now();
      const nodes = tree.getChildren();
      for (const n of nodes) tree.getTreeItem(n);
      provider.push(performance.now() - a);
    }
    metric('clients_tree_provider_ms', median(provider));

    // The workbench round trip: refresh → VS Code asks for the children and every item → the rows are on the page.
    let items = 0;
    let resolveAll: (() => void) | undefined;
    const original = tree.getTreeItem.bind(tree);
    tree.getTreeItem = (n: Node) => {
      const item = original(n);
      if (++items === clients && resolveAll) resolveAll();
      return item;
    };
    // First render: the view opens, VS Code asks for the 1,000 rows, the page shows them.
    {
      items = 0;
      const all = new Promise<void>((r) => { resolveAll = r; });
      const a = performance.now();
      await vscode.commands.executeCommand('workbench.view.extension.ipxeFarm');
      await vscode.commands.executeCommand('ipxeFarm.clients.focus');
      await all;
      metric('clients_tree_first_render_host_ms', performance.now() - a);
      if (harnessCanSeeScreen()) {
        await waitForDomText('.monaco-list-row', (t) => t.includes('dut0'));
        metric('clients_tree_first_render_dom_ms', performance.now() - a);
        const q = performance.now();
        await waitForDomText('.monaco-list-row', (t) => t.includes('dut0'));
        metric('dom_query_overhead_ms', performance.now() - q);
      }
    }
    const rounds: number[] = [];
    const dom: number[] = [];
    for (let i = 0; i < 5; i++) {
      items = 0;
      const all = new Promise<void>((r) => { resolveAll = r; });
      const a = performance.now();
      tree.refresh();
      await all;
      rounds.push(performance.now() - a);
      if (harnessCanSeeScreen()) {
        await waitForDomText('.monaco-list-row', (t) => t.includes('dut0'));
        dom.push(performance.now() - a);
      }
    }
    metric('clients_tree_render_host_ms', median(rounds));
    if (dom.length) metric('clients_tree_render_dom_ms', median(dom));

    // A save of the farm file: watcher → debounce (150 ms) → re-read farm + index + events → all rows delivered again.
    const farmFile = path.join(api.state.root!, 'ipxe-farm.json');
    const saves: number[] = [];
    for (let i = 0; i < 3; i++) {
      items = 0;
      const all = new Promise<void>((r) => { resolveAll = r; });
      const a = performance.now();
      fs.writeFileSync(farmFile, fs.readFileSync(farmFile));
      await all;
      saves.push(performance.now() - a);
    }
    metric('clients_tree_after_save_ms', median(saves));
    await screenshot('clients-1000');
  } catch (err) {
    failed = 1;
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
  }
  reportResult({ passed: failed ? 0 : 1, failed, skipped: 0 });
}
