import type { NginxRuntimeKind } from '../farm/light';
import { FarmError } from '../errors';
import type { NginxDiagnostic } from './diagnostics';

export type NginxState = 'stopped' | 'running' | 'exited' | 'config-error';

export interface NginxStatus {
  runtime: NginxRuntimeKind;
  state: NginxState;
  /** Host pid of the nginx master, when running. */
  pid?: number;
  /** The container name (podman) or the private prefix (local). */
  where: string;
  ports: { https: number; http: number };
  /** Last log lines when nginx exited on its own. */
  lastLog?: string;
  detail?: string;
}

export interface NginxTestResult {
  ok: boolean;
  diagnostics: NginxDiagnostic[];
  /** Raw stderr of `nginx -t`, for an output channel. */
  output: string;
  durationMs: number;
}

export interface NginxReloadResult extends NginxTestResult {
  reloaded: boolean;
  /** nginx was running when the reload was asked for. */
  running: boolean;
}

export interface LogFollower {
  stop(): void;
  /** Resolves when following ends (stopped, container gone). */
  done: Promise<void>;
}

export type LogSink = (text: string, stream: 'access' | 'error') => void;

/**
 * One contract for every way of running the farm's nginx (STYLE: contracts, then implementations). The CLI and the
 * editor hold an NginxRuntime and never ask which one it is.
 */
export interface NginxRuntime {
  readonly kind: NginxRuntimeKind;
  /** Test the config, then start nginx; throws NginxConfigError with diagnostics when the config is broken. */
  up(signal?: AbortSignal): Promise<NginxStatus>;
  down(signal?: AbortSignal): Promise<NginxStatus>;
  status(signal?: AbortSignal): Promise<NginxStatus>;
  /** `nginx -t` against the files on disk, in the same environment the running nginx has. */
  test(signal?: AbortSignal): Promise<NginxTestResult>;
  /**
   * Test, then reload only when the test passes: a broken config never replaces the running one. When nginx is not
   * running the config is only tested (`reloaded: false`).
   */
  reload(signal?: AbortSignal): Promise<NginxReloadResult>;
  /** The last `lines` lines of both logs. */
  logs(lines?: number, signal?: AbortSignal): Promise<string>;
  /** Stream new log text until stopped (podman logs -f, or the local log files). */
  follow(sink: LogSink, signal?: AbortSignal): LogFollower;
  /**
   * Optional: keep whatever makes repeated tests fast (podman: one `podman exec` shell instead of one per test) until
   * `cool`. ReloadOnSave calls these; one-shot callers need not.
   */
  warm?(): Promise<void>;
  cool?(): void;
}

/** The config failed `nginx -t`: the CLI prints each diagnostic, the editor puts them in the Problems panel. */
export class NginxConfigError extends FarmError {
  constructor(readonly diagnostics: NginxDiagnostic[], readonly output: string, action: string) {
    const first = diagnostics.find((d) => d.severity === 'error') ?? diagnostics[0];
    const where = first ? ` ${first.file}${first.line ? `:${first.line}` : ''}: ${first.message}` : '';
    super(
      `The nginx configuration did not pass \`nginx -t\`, so nginx was not ${action}:${where}${diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : ''}.`,
      'Fix the file and save; `ipxe-farm nginx test` lists every problem.',
      'ENGINXCONF',
    );
    this.name = 'NginxConfigError';
  }
}
