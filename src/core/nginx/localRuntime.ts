import * as fsp from 'node:fs/promises';
import { FarmError } from '../errors';
import { ensureDir } from '../fs/light';
import type { FarmLayout, Farm } from '../farm/light';
import { run } from '../process';
import { localWorkerGroupName } from '../socket/light';
import { loopbackHost, nginxPath } from './generate';
import { assertListensOnFarmPorts } from './listenCheck';
import { assertPkiReady } from './pkiCheck';
import { nginxPaths, NginxPaths } from './paths';
import { parseNginxTestOutput, PathMap } from './diagnostics';
import { assertPortsFree, portOwner, waitForPort } from './ports';
import { ensureWorkerCanReach, lookupUser } from './reach';
import { followFile, lastLines } from './tailFile';
import { readConfigSources } from './sources';
import { LogFollower, LogSink, NginxConfigError, NginxReloadResult, NginxRuntime, NginxStatus, NginxTestResult } from './runtime';
import { pidAlive, pidRuns } from '../process/light';

export interface LocalRuntimeOptions {
  /** The nginx binary (default: nginx on PATH). */
  nginx?: string;
}

/**
 * Debian's nginx with a private prefix (.ipxe-farm/nginx-local/): pid, temp folders and logs stay in the farm, the
 * config is the farm's nginx/nginx.conf. nginx daemonises itself after binding its ports, so `up` returns only once
 * nginx is really listening (or with its error), and the CLI can exit while nginx keeps serving.
 */
export class LocalNginxRuntime implements NginxRuntime {
  readonly kind = 'local' as const;
  readonly paths: NginxPaths;
  private readonly nginx: string;

  constructor(readonly farm: Farm, readonly layout: FarmLayout, opts: LocalRuntimeOptions = {}) {
    this.paths = nginxPaths(layout, 'local');
    this.nginx = opts.nginx ?? 'nginx';
  }

  private get host(): string {
    return loopbackHost(this.farm.server.address) ?? '0.0.0.0';
  }

  private get worker(): string | undefined {
    return localWorkerGroupName();
  }

  /** The same -p/-c/-e/-g for test, start and reload, so `nginx -t` checks exactly what will run. */
  args(extra: string[] = []): string[] {
    const p = this.paths;
    const globals = `pid ${nginxPath(p.pidFile)};${this.worker ? ` user ${this.worker};` : ''}`;
    return ['-p', `${p.prefix}/`, '-c', p.mainConf, '-e', p.errorLog, '-g', globals, ...extra];
  }

  private prepared = false;

  /** Folders and permissions: once per instance (and on every `up`), not on every save-triggered test. */
  private async prepare(force = false): Promise<void> {
    if (this.prepared && !force) return;
    const p = this.paths;
    // 0711: nginx's workers must pass through to temp/, but nobody needs to list the prefix.
    await ensureDir(p.prefix, 0o711);
    await ensureDir(p.logsDir, 0o750);
    await ensureDir(p.tempDir, 0o711);
    if (this.worker && process.getuid?.() === 0) {
      const who = lookupUser(this.worker);
      if (who) await ensureWorkerCanReach([this.layout.files, this.layout.socketDir, p.tempDir], who, [this.layout.runtime, p.prefix, p.tempDir, this.layout.socketDir]);
    }
    this.prepared = true;
  }

  pathMap(sources?: Record<string, string>): PathMap {
    return { mainFile: this.paths.mainConf, sources };
  }

  async test(signal?: AbortSignal): Promise<NginxTestResult> {
    const t0 = performance.now();
    await this.prepare();
    const r = await run(this.nginx, this.args(['-t', '-q']), { signal, timeout: 30_000 });
    const ok = r.exitCode === 0;
    const sources = r.stderr.trim() ? await readConfigSources(this.paths.confDir) : {};
    return { ok, diagnostics: parseNginxTestOutput(r.stderr, this.pathMap(sources)), output: r.stderr, durationMs: performance.now() - t0 };
  }

  private async readPid(): Promise<number | undefined> {
    try {
      const pid = Number((await fsp.readFile(this.paths.pidFile, 'utf8')).trim());
      return pidRuns(pid, 'nginx') ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async status(): Promise<NginxStatus> {
    const pid = await this.readPid();
    return {
      runtime: 'local',
      state: pid ? 'running' : 'stopped',
      pid,
      where: this.paths.prefix,
      ports: { https: this.farm.server.httpsPort, http: this.farm.server.httpPort },
    };
  }

  async up(signal?: AbortSignal): Promise<NginxStatus> {
    const now = await this.status();
    if (now.state === 'running') return now;
    await this.prepare(true);
    const sources = await readConfigSources(this.paths.confDir);
    await assertPkiReady(this.layout, sources);
    const t = await this.test(signal);
    if (!t.ok) throw new NginxConfigError(t.diagnostics, t.output, 'started');
    assertListensOnFarmPorts(this.farm, sources, this.layout.root);
    await assertPortsFree([{ port: this.farm.server.httpsPort, what: 'HTTPS' }, { port: this.farm.server.httpPort, what: 'HTTP' }], this.host);
    const r = await run(this.nginx, this.args(), { signal, timeout: 30_000 });
    if (r.exitCode !== 0) {
      const bind = /bind\(\) to \S+:(\d+) failed/.exec(r.stderr);
      if (bind) {
        const owner = await portOwner(Number(bind[1]));
        throw new FarmError(`nginx could not listen on port ${bind[1]}: it is already taken${owner ? ` by ${owner}` : ''}.`, 'Stop that program, or choose another port in ipxe-farm.json.', 'EADDRINUSE');
      }
      throw new FarmError(`nginx did not start (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-5).join(' | ').replace(/\.?$/, '.')}`, `See ${this.paths.errorLog}.`, 'ENGINXSTART');
    }
    // No pid file yet is normal for a moment (the daemon writes it after it forks): only later does it mean nginx died.
    const forked = Date.now();
    const listening = await waitForPort(this.farm.server.httpsPort, this.host, 5000, async () => Date.now() - forked > 1000 && !(await this.readPid()));
    const st = await this.status();
    if (!listening || st.state !== 'running') {
      const lastLog = await lastLines(this.paths.errorLog, 15);
      throw new FarmError(`nginx started but is not ${st.state === 'running' ? 'listening' : 'running'}; its log ends with:\n${lastLog}`, `See ${this.paths.errorLog}.`, 'ENGINXSTART');
    }
    return st;
  }

  async down(): Promise<NginxStatus> {
    const pid = await this.readPid();
    if (pid) {
      // TERM: fast shutdown; the workers close their connections and the master removes its pid file.
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await fsp.rm(this.paths.pidFile, { force: true });
    return this.status();
  }

  async reload(signal?: AbortSignal): Promise<NginxReloadResult> {
    const t = await this.test(signal);
    const pid = await this.readPid();
    if (!t.ok || !pid) return { ...t, reloaded: false, running: pid !== undefined };
    // SIGHUP is what `nginx -s reload` sends, without starting a second nginx to read the pid file.
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      throw new FarmError(`nginx (pid ${pid}) was started by another user, so this one cannot reload it (${(err as NodeJS.ErrnoException).code}).`, 'Reload it as the user who started it, or stop it and run `ipxe-farm nginx up` as yourself.', 'EPERM');
    }
    return { ...t, reloaded: true, running: true };
  }

  async logs(lines = 50): Promise<string> {
    const [access, error] = await Promise.all([lastLines(this.paths.accessLog, lines), lastLines(this.paths.errorLog, lines)]);
    return [`==> ${this.paths.errorLog} <==`, error, `==> ${this.paths.accessLog} <==`, access].join('\n');
  }

  follow(sink: LogSink, signal?: AbortSignal): LogFollower {
    const a = followFile(this.paths.accessLog, (t) => sink(t, 'access'));
    const e = followFile(this.paths.errorLog, (t) => sink(t, 'error'));
    const stop = () => { a.stop(); e.stop(); };
    signal?.addEventListener('abort', stop, { once: true });
    return { stop, done: Promise.all([a.done, e.done]).then(() => undefined) };
  }
}
