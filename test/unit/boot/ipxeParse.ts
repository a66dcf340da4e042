/**
 * A test-side reading of a script the way iPXE v2.0.0 reads it (image/script.c + core/exec.c): lines at '\n', one
 * trailing '\r' dropped, '\' continuations joined, labels, words at whitespace, commands ended by "||", "&&", ";",
 * and "#" comments. Tests use it to prove a script holds exactly the commands we meant.
 */
export interface ParsedCommand { line: number; argv: string[] }

export function parseIpxeScript(script: string): { shebang: boolean; commands: ParsedCommand[]; labels: string[] } {
  const raw = script.split('\n');
  if (raw[raw.length - 1] === '') raw.pop();
  const commands: ParsedCommand[] = [];
  const labels: string[] = [];
  let pending = '';
  raw.forEach((l0, i) => {
    let l = pending + (l0.endsWith('\r') ? l0.slice(0, -1) : l0);
    if (l.endsWith('\\')) { pending = l.slice(0, -1); return; }
    pending = '';
    l = l.replace(/^\s+/, '');
    if (l.startsWith(':')) { labels.push(l.slice(1).split(/\s/)[0]!); return; }
    const words = l.split(/[ \t\n\v\f\r]+/).filter((w) => w.length > 0);
    let cur: string[] = [];
    for (const w of words) {
      if (w.startsWith('#')) break;
      if (w === '||' || w === '&&' || w === ';') { if (cur.length) commands.push({ line: i + 1, argv: cur }); cur = []; continue; }
      cur.push(w);
    }
    if (cur.length) commands.push({ line: i + 1, argv: cur });
  });
  return { shebang: raw[0] === '#!ipxe', commands, labels };
}
