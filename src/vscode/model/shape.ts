/**
 * What a tree row looks like, decided in plain Node (no vscode import) so the shaping of 1,000 clients is unit-tested
 * and benchmarked without an editor; src/vscode/tree turns a Shape into a vscode.TreeItem one-to-one.
 */
export interface Shape {
  /** Stable across refreshes, so expanded rows stay expanded. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** The `viewItem` of when clauses: menus and inline actions hang off it. */
  contextValue: string;
  /** A codicon id, with an optional theme colour id. */
  icon?: string;
  iconColor?: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** Arguments passed to inline/context commands: the client, profile or certificate serial the row stands for. */
  ref?: { kind: 'client' | 'profile' | 'cert' | 'group' | 'server' | 'detail'; name: string; serial?: string };
  /** A command run on click (opening the farm file at the row's entry). */
  open?: { file: string; pointer?: string };
}

/** Days from `now` until `iso` (negative when past), rounded down. */
export function daysLeft(iso: string, now: number): number {
  return Math.floor((Date.parse(iso) - now) / 86_400_000);
}

/** Certificates within this many days of their end are marked as expiring. */
export const EXPIRING_DAYS = 30;
