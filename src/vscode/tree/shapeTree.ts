import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Shape } from '../model/shape';

/** A node handed to VS Code: the shape plus whatever its view needs to find the children later. */
export interface Node {
  shape: Shape;
}

/**
 * A TreeDataProvider that is an EventEmitter and a pair of functions (vscode-extension-samples' tree-view shape).
 * Rows are shaped when VS Code asks for them, so a collapsed client costs nothing until it is expanded.
 */
export class ShapeTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Milliseconds spent in the last getChildren(root): the benchmark reads it. */
  lastRootMs = 0;

  constructor(
    private readonly roots: () => Shape[],
    private readonly children: (parent: Shape) => Shape[],
    private readonly farmRoot: () => string | undefined,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: Node): Node[] {
    const t0 = performance.now();
    const shapes = element ? this.children(element.shape) : this.roots();
    const nodes = shapes.map((shape) => ({ shape }));
    if (!element) this.lastRootMs = performance.now() - t0;
    return nodes;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const s = node.shape;
    const item = new vscode.TreeItem(s.label, s.collapsible === 'none' ? vscode.TreeItemCollapsibleState.None
      : s.collapsible === 'expanded' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.id = s.id;
    item.description = s.description;
    item.contextValue = s.contextValue;
    if (s.icon) item.iconPath = new vscode.ThemeIcon(s.icon, s.iconColor ? new vscode.ThemeColor(s.iconColor) : undefined);
    // The click command stays here: resolved lazily, VS Code did not run it for a click on a collapsible row.
    const root = this.farmRoot();
    if (s.open && root) {
      item.command = { command: 'ipxeFarm.openEntry', title: 'Open', arguments: [path.join(root, s.open.file), s.open.pointer] };
    }
    return item;
  }

  /** On hover: tooltips travel to the workbench only when asked for, so 1,000 rows do not carry them. */
  resolveTreeItem(item: vscode.TreeItem, node: Node): vscode.TreeItem {
    item.tooltip = node.shape.tooltip;
    return item;
  }
}
