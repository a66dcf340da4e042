/** One problem `nginx -t` reported, placed on a workspace file (the editor shows it in the Problems panel). */
export interface NginxDiagnostic {
  /** Absolute path of the workspace file the problem belongs to. */
  file: string;
  /** 1-based line, when nginx gave one or the cause could be found in the file. */
  line?: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface PathMap {
  /** Container path prefix → host path prefix, e.g. ["/etc/nginx/", "/farm/nginx/"]. Longest prefix wins. */
  prefixes?: Array<[string, string]>;
  /** Where a problem goes when nginx names no file and none can be found: the main nginx.conf. */
  mainFile: string;
  /**
   * The configuration files' text by host path. Messages without file:line that quote a path or variable
   * (`cannot load certificate "/…"`, `unknown "x" variable`) are placed on the line that mentions it.
   */
  sources?: Record<string, string>;
}

const LINE = /^(?:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: (?:\*\d+ )?|nginx: \[(\w+)\] )(.*?)(?: in (\/\S+):(\d+))?$/;

function severityOf(level: string): NginxDiagnostic['severity'] {
  if (level === 'warn') return 'warning';
  if (level === 'notice' || level === 'info' || level === 'debug') return 'info';
  return 'error';
}

export function mapPath(p: string, map: PathMap): string {
  let best: [string, string] | undefined;
  for (const pair of map.prefixes ?? []) {
    if (p.startsWith(pair[0]) && (!best || pair[0].length > best[0].length)) best = pair;
  }
  return best ? best[1] + p.slice(best[0].length) : p;
}

/** What in the config a line-less message is about: a quoted path, or a variable. */
function needles(message: string): string[] {
  const out: string[] = [];
  const variable = /unknown "([^"]+)" variable/.exec(message);
  if (variable) out.push(`$${variable[1]}`);
  for (const m of message.matchAll(/"([^"]+)"/g)) if (m[1]!.includes('/')) out.push(m[1]!);
  return out;
}

function locate(message: string, map: PathMap): { file: string; line?: number } {
  const sources = map.sources ?? {};
  for (const needle of needles(message)) {
    const candidates = [needle, ...(map.prefixes ?? []).filter(([, host]) => needle.startsWith(host)).map(([c, host]) => c + needle.slice(host.length))];
    // The main file first, so a path it shares with an included file lands where a reader looks first.
    const files = Object.keys(sources).sort((a, b) => Number(b === map.mainFile) - Number(a === map.mainFile));
    for (const file of files) {
      const lines = sources[file]!.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const code = lines[i]!.replace(/#.*$/, '');
        if (candidates.some((c) => code.includes(c) || code.includes(mapPath(c, map)))) return { file, line: i + 1 };
      }
    }
    // A path nginx could not load that no config mentions as such may be the config file itself.
    const mapped = mapPath(needle, map);
    if (sources[mapped] !== undefined) return { file: mapped };
  }
  return { file: map.mainFile };
}

/**
 * Parse what `nginx -t` (or a failed start or reload) wrote to stderr into diagnostics. Debian prints the timestamped
 * form, the official image prints both forms of each message: duplicates are dropped. Container paths are mapped back
 * to workspace files; a message without file:line goes on the config line that names its path or variable, else on
 * the main file.
 */
export function parseNginxTestOutput(stderr: string, map: PathMap): NginxDiagnostic[] {
  const out: NginxDiagnostic[] = [];
  const seen = new Set<string>();
  for (const raw of stderr.split(/\r?\n/)) {
    const m = LINE.exec(raw.trim());
    if (!m) continue;
    const severity = severityOf((m[1] ?? m[2] ?? 'error').toLowerCase());
    const message = m[3]!.trim();
    let where: { file: string; line?: number };
    if (m[4]) where = { file: mapPath(m[4], map), line: Number(m[5]) };
    else where = locate(message, map);
    const key = `${severity}\u0000${message}\u0000${m[4] ?? ''}\u0000${m[5] ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...where, severity, message });
  }
  return out;
}

/** `file:line: severity: message`, the form compilers print and terminals make clickable. */
export function formatDiagnostic(d: NginxDiagnostic, relativeTo?: (file: string) => string): string {
  const file = relativeTo ? relativeTo(d.file) : d.file;
  return `${file}${d.line ? `:${d.line}` : ''}: ${d.severity}: ${d.message}`;
}
