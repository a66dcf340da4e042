// Shared helpers for the editor's suite: the extension's API, a farm in the workspace, waiting for a tree to show a row.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { FarmExtensionApi } from '../../../src/vscode/extension';
import type { Node } from '../../../src/vscode/tree/shapeTree';
import type { ShapeTree } from '../../../src/vscode/tree/shapeTree';

export async function api(): Promise<FarmExtensionApi> {
  const ext = vscode.extensions.getExtension<FarmExtensionApi>('ipxe-farm.ipxe-farm');
  assert.ok(ext, 'the extension is loaded');
  const a = ext.isActive ? ext.exports : await ext.activate();
  await a.state.ready;
  return a;
}

/** The farm in the workspace folder (the foundation suite creates it; alone, this creates it). */
export async function farmRoot(): Promise<string> {
  const a = await api();
  if (!a.state.root) await vscode.commands.executeCommand('ipxeFarm.createFarm');
  assert.ok(a.state.root, 'the workspace has a farm');
  return a.state.root;
}

export interface Row { label: string; description?: string; contextValue?: string; node: Node }

export async function rows(tree: ShapeTree, parent?: Node): Promise<Row[]> {
  const nodes = await tree.getChildren(parent);
  return nodes.map((node) => {
    const item = tree.getTreeItem(node);
    return { label: String(item.label), description: item.description as string | undefined, contextValue: item.contextValue, node };
  });
}

/** Poll until `check` passes: file watchers and the extension's debounce decide when a tree changes, not the test. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
