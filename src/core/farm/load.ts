import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { writeFileAtomic } from '../fs/light';
import { FARM_FILE, Farm } from './model';
import { farmLayout, FarmLayout } from './layout';
import { FarmIssue, validateFarm } from './validate';
import { pointerTree, positionOf, syntaxError, TextPosition } from './jsonLocate';
import { editJsonText } from './textEdit';

export interface LocatedIssue extends FarmIssue {
  at: TextPosition;
}

export interface LoadedFarm {
  farm: Farm;
  layout: FarmLayout;
  /** The parsed JSON as written, so updates keep keys this version does not know (`$schema`, comments-as-fields). */
  raw: Record<string, unknown>;
  text: string;
}

/** Parse and validate farm-file text; issues carry text positions for the Problems panel. */
export function checkFarmText(text: string): { farm?: Farm; raw?: Record<string, unknown>; issues: LocatedIssue[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // The parser that knows positions says where; JSON.parse (what every reader of the farm uses) decides whether.
    const bad = syntaxError(text);
    const at = bad?.at ?? { line: 0, column: 0, length: 1 };
    return { issues: [{ pointer: '', severity: 'error', at, message: `${FARM_FILE} is not valid JSON: ${bad ? `${bad.message} at line ${at.line + 1}, column ${at.column + 1}` : (err as Error).message}.` }] };
  }
  const { farm, issues } = validateFarm(raw);
  const tree = issues.length ? pointerTree(text) : undefined;
  return {
    farm,
    raw: raw as Record<string, unknown>,
    issues: issues.map((i) => ({ ...i, at: positionOf(text, i.pointer, tree) })),
  };
}

/** Each error among `issues` as FILE:LINE:COLUMN: message, the way compilers and the Problems panel point at it. */
export function issueLines(file: string, issues: LocatedIssue[]): string[] {
  return issues.filter((i) => i.severity === 'error').map((i) => `${file}:${i.at.line + 1}:${i.at.column + 1}: ${i.message}`);
}

/** The farm file refused for its errors: one sentence for one, a list for several. */
export function farmFileError(file: string, issues: LocatedIssue[]): FarmError {
  const lines = issueLines(file, issues);
  return new FarmError(
    lines.length === 1 ? lines[0]! : `${file} has ${lines.length} problems:\n  ${lines.join('\n  ')}`,
    'Fix the farm file and try again.',
    'EFARMFILE',
  );
}

/** Walk up from `start` to the folder holding ipxe-farm.json. */
export async function findFarmRoot(start: string): Promise<string | undefined> {
  let dir = path.resolve(start);
  for (;;) {
    try {
      await fsp.access(path.join(dir, FARM_FILE));
      return dir;
    } catch { /* keep walking */ }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The farm file's text; a FarmError says why it cannot be read (missing: how to make a farm). */
export async function readFarmText(layout: FarmLayout): Promise<string> {
  try {
    return await fsp.readFile(layout.farmFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FarmError(`No farm at ${layout.root}: ${FARM_FILE} is missing.`, 'Run `ipxe-farm init` there, or pass --farm DIR.', 'ENOFARM');
    }
    throw new FarmError(`Cannot read ${layout.farmFile}: ${(err as Error).message}.`);
  }
}

/**
 * The farm, read and checked whole: any error refuses it. Callers that hold a farm pass it on (handle.ts) instead of
 * calling this again; the boot service, which must keep serving through a bad edit, reads the same way in parts
 * (boot/state.ts: readFarmText + checkFarmText).
 */
export async function loadFarm(root: string): Promise<LoadedFarm> {
  const layout = farmLayout(root);
  const text = await readFarmText(layout);
  const { farm, raw, issues } = checkFarmText(text);
  if (!farm || issues.some((i) => i.severity === 'error')) throw farmFileError(layout.farmFile, issues);
  return { farm, layout, raw: raw!, text };
}

export function serialiseFarm(raw: Record<string, unknown>): string {
  return `${JSON.stringify(raw, null, 2)}\n`;
}

/**
 * Read, change, validate, write atomically. The change works on the raw JSON so unknown keys survive; a change that
 * makes the file invalid is refused and the file on disk stays as it was.
 */
export async function updateFarm(
  root: string,
  change: (raw: Record<string, unknown>, farm: Farm) => void,
  /** More checks of the valid result before it is written (boot mappings); throw to refuse, nothing is written. */
  check?: (next: Farm, current: LoadedFarm) => void | Promise<void>,
): Promise<LoadedFarm> {
  const current = await loadFarm(root);
  const raw = structuredClone(current.raw);
  change(raw, current.farm);
  const text = editJsonText(current.text, current.raw, raw);
  const { farm, issues } = checkFarmText(text);
  if (!farm || issues.some((i) => i.severity === 'error')) throw farmFileError(current.layout.farmFile, issues);
  await check?.(farm, current);
  await writeFileAtomic(current.layout.farmFile, text);
  return { farm, layout: current.layout, raw, text };
}
