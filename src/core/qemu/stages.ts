/**
 * Boot stages read from a serial console as it streams: when iPXE came up, when DHCP answered, when the first script
 * arrived (over mTLS in a farm), when the last image (kernel, initrd) finished downloading, and when Linux printed the
 * marker. Times are milliseconds since QEMU started; a stage never seen stays undefined.
 */

export interface BootStages {
  ipxeUp?: number;
  dhcpOk?: number;
  scriptFetched?: number;
  /** The last download that finished before Linux started (kernel + initrds). */
  imagesLoaded?: number;
  linuxMarker?: number;
}

export interface Download {
  url: string;
  at: number;
}

export interface IpxeErrorSeen {
  /** Eight lowercase hex digits, e.g. 0227e13c. */
  code: string;
  /** The console line it was printed on (what iPXE was doing). */
  line: string;
  at: number;
}

export const STAGE_LABELS: Record<keyof BootStages, string> = {
  ipxeUp: 'iPXE up',
  dhcpOk: 'DHCP ok',
  scriptFetched: 'script fetched',
  imagesLoaded: 'kernel + initrd loaded',
  linuxMarker: 'Linux marker',
};

// ANSI colour and cursor sequences iPXE and SeaBIOS print (ESC c, ESC [ ... letter).
const ANSI = /\x1b(?:\[[0-9;?=>]*[A-Za-z]|c)/g;

/** Console text without escape sequences and with \r\n as \n, so line regexps match what a person reads. */
export function plainText(s: string): string {
  return s.replace(ANSI, '').replace(/\r\n?/g, '\n');
}

const CONSOLE_COLUMNS = 80;
// EFI iPXE looks for an optional autoexec.ipxe beside itself and at the root before anything else: not an error.
const BENIGN = /^file:\/?autoexec\.ipxe\.\.\. Not found\b/;
const IPXE_UP = /iPXE initialising devices|iPXE \S+.*Open Source Network Boot Firmware/;
const DHCP_OK = /Configuring \([^)]*\)[.\s]*ok/;
const WHY_DOWNLOAD = /\/why\.ipxe$/;
const DOWNLOAD_OK = /((?:https?|tftp|ftp|nfs):\/\/\S+?)\.\.\.\s*ok\b/g;
// iPXE prints "… Permission denied (https://ipxe.org/0227e13c)"; older builds and trimmed logs show only "(0227e13c)".
const ERROR_CODE = /\((?:https?:\/\/ipxe\.org\/)?([0-9a-f]{8})\)/;

export function findErrorCodes(text: string, from = 0): { code: string; line: string; index: number; end: number }[] {
  const out: { code: string; line: string; index: number; end: number }[] = [];
  const re = new RegExp(ERROR_CODE.source, 'g');
  re.lastIndex = from;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = text.lastIndexOf('\n', m.index!) + 1;
    const endNl = text.indexOf('\n', m.index!);
    out.push({ code: m[1]!, line: text.slice(start, endNl < 0 ? undefined : endNl).trim(), index: m.index, end: re.lastIndex });
  }
  return out;
}

export class BootStageTracker {
  private text = '';
  private scanned = 0;
  readonly stages: BootStages = {};
  readonly downloads: Download[] = [];
  readonly errors: IpxeErrorSeen[] = [];
  /** Where each error's code ends in `plain`, so a log writer can put its explanation after that line. */
  readonly errorEnds: number[] = [];
  private errorScan = 0;
  private column = 0;

  constructor(private readonly linuxMarker?: RegExp) {}

  /** Feed raw console output that arrived `at` ms after start. */
  feed(chunk: string, at: number): void {
    let before = this.text.length;
    this.text += this.unwrap(chunk.replace(ANSI, '').replace(/\r/g, ''));
    if (chunk.includes('\b')) before = this.applyBackspaces(before);
    const t = this.text;
    // Only the new text and a line's worth before it can hold a new match: keeps long consoles linear.
    const recent = t.slice(Math.max(0, before - 512));
    if (this.stages.ipxeUp === undefined && IPXE_UP.test(recent)) this.stages.ipxeUp = at;
    if (this.stages.dhcpOk === undefined && DHCP_OK.test(recent)) this.stages.dhcpOk = at;
    // Downloads only count once complete lines ("URL... ok") are there; scan from where the last one ended.
    DOWNLOAD_OK.lastIndex = this.scanned;
    for (let m = DOWNLOAD_OK.exec(t); m; m = DOWNLOAD_OK.exec(t)) {
      this.downloads.push({ url: m[1]!, at });
      this.scanned = DOWNLOAD_OK.lastIndex;
      // A refused machine's image fetches the farm's answer to "why" (/why.ipxe): words, not its boot script.
      if (WHY_DOWNLOAD.test(m[1]!)) continue;
      if (this.stages.scriptFetched === undefined) this.stages.scriptFetched = at;
      else if (this.stages.linuxMarker === undefined) this.stages.imagesLoaded = at;
    }
    // An error line is complete once its closing parenthesis is there; never report one twice.
    for (const e of findErrorCodes(t, this.errorScan)) {
      this.errorScan = e.end;
      if (BENIGN.test(e.line)) continue;
      this.errors.push({ code: e.code, line: e.line, at });
      this.errorEnds.push(e.end);
    }
    if (this.linuxMarker && this.stages.linuxMarker === undefined && this.linuxMarker.test(recent)) this.stages.linuxMarker = at;
  }

  /**
   * The BIOS console (SeaBIOS mirroring iPXE's text screen) breaks lines at 80 columns, even inside an error code:
   * a newline right after the 80th column is a wrap, not the program's own, and is dropped so lines read whole.
   * Linux writes to the serial port itself, so unwrapping stops once its marker was seen.
   */
  private unwrap(s: string): string {
    if (this.stages.linuxMarker !== undefined) return s;
    let out = '';
    for (const ch of s) {
      if (ch === '\n') {
        if (this.column !== CONSOLE_COLUMNS) out += ch;
        this.column = 0;
      } else {
        out += ch;
        this.column = ch === '\b' ? Math.max(0, this.column - 1) : this.column + 1;
      }
    }
    return out;
  }

  /**
   * iPXE draws download progress as "12%" then backspaces over it; apply them so a finished download reads
   * "URL... ok" like on a screen. Returns where the changed text starts.
   */
  private applyBackspaces(from: number): number {
    const start = Math.max(0, Math.min(from, this.text.lastIndexOf('\n', from) + 1));
    let tail = this.text.slice(start);
    for (let prev = ''; prev !== tail;) {
      prev = tail;
      tail = tail.replace(/[^\n\x08]\x08/g, '');
    }
    tail = tail.replace(/\x08/g, '');
    this.text = this.text.slice(0, start) + tail;
    this.scanned = Math.min(this.scanned, this.text.length);
    this.errorScan = Math.min(this.errorScan, this.text.length);
    return start;
  }

  get plain(): string {
    return this.text;
  }
}

/** One line per stage, for the CLI and the benchmark: "iPXE up 0.8 s · DHCP ok 4.3 s · …". */
export function formatStages(s: BootStages): string {
  return (Object.keys(STAGE_LABELS) as (keyof BootStages)[])
    .filter((k) => s[k] !== undefined)
    .map((k) => `${STAGE_LABELS[k]} ${(s[k]! / 1000).toFixed(1)} s`)
    .join(' · ');
}
