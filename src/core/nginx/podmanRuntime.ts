import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { ensureDir, writeFileAtomic } from '../fs/light';
import type { FarmLayout, Farm } from '../farm/light';
import { pkiPaths } from '../pki/light';
import { run, start } from '../process';
import { pidRuns } from '../process/light';
import { loopbackHost, nginxPath } from './generate';
import { assertListensOnFarmPorts } from './listenCheck';
import { assertPkiReady } from './pkiCheck';
import { nginxPaths, NginxPaths } from './paths';
import { parseNginxTestOutput, PathMap } from './diagnostics';
import { assertPortsFree, portOwner, waitForPort } from './ports';
import { readConfigSources } from './sources';
import { ContainerShell } from './containerShell';
import { chooseNginxImage, missingImageError, type NginxImageChoice } from './imageChoice';
import { parseContainerState, ContainerState } from './podmanInspect';
import { LogFollower, LogSink, NginxConfigError, NginxReloadResult, NginxRuntime, NginxStatus, NginxTestResult } from './runtime';

/** The label that marks a container as this farm's (its value is the farm's root folder). */
export const FARM_LABEL = 'ipxe-farm.root';

export interface PodmanRuntimeOptions {
  podman?: string;
}

/**
 * nginx in a podman container, the seed's way, with two changes: every farm folder is mounted at the same absolute
 * path it has on the host (one generated config serves both runtimes, and `nginx -t`'s file:line needs no mapping),
 * and folders are mounted rather than single files (an editor saving by rename would leave a file mount stale).
 * The PKI is not mounted whole: only copies of what nginx reads (CA, CRL, server chain and key) are placed, at their
 * usual paths, so the CA's private key never enters the container.
 */
export class PodmanNginxRuntime implements NginxRuntime {
  readonly kind = 'podman' as const;
  readonly paths: NginxPaths;
  private readonly podman: string;
  private hostPid?: number;
  private shell?: ContainerShell;
  private chosen?: NginxImageChoice;

  constructor(readonly farm: Farm, readonly layout: FarmLayout, opts: PodmanRuntimeOptions = {}) {
    this.paths = nginxPaths(layout, 'podman');
    this.podman = opts.podman ?? 'podman';
  }

  get name(): string { return this.farm.nginx.container; }
  /** The image that runs: nginx.image, or for the default the official image or the one built here (imageChoice.ts). */
  get image(): string { return this.chosen?.image ?? this.farm.nginx.image; }

  async chooseImage(signal?: AbortSignal, pull = false): Promise<NginxImageChoice> {
    if (!this.chosen?.present) this.chosen = await chooseNginxImage(this.farm.nginx.image, { podman: this.podman, pull, signal });
    return this.chosen;
  }
  /** Where the copies of the PKI files nginx needs are kept; mounted over pki/ inside the container. */
  get pkiView(): string { return path.join(this.paths.prefix, 'pki'); }

  private get publishHost(): string | undefined {
    return loopbackHost(this.farm.server.address);
  }

  /** The same nginx arguments for the throwaway test, the exec test and the server itself. */
  nginxArgs(extra: string[] = []): string[] {
    const p = this.paths;
    return ['nginx', '-p', `${p.prefix}/`, '-c', p.mainConf, '-e', '/dev/stderr', '-g', `daemon off; pid ${nginxPath(p.pidFile)}; user nginx;`, ...extra];
  }

  mounts(): string[] {
    const l = this.layout;
    return [
      '-v', `${l.nginx}:${l.nginx}:ro`,
      '-v', `${l.files}:${l.files}:ro`,
      '-v', `${this.pkiView}:${l.pki}:ro`,
      '-v', `${l.socketDir}:${l.socketDir}`,
      '-v', `${this.paths.prefix}:${this.paths.prefix}`,
    ];
  }

  /** Copy the four PKI files nginx reads into the container's view; skipped files keep nginx -t's own message. */
  async syncPki(): Promise<void> {
    const pki = pkiPaths(this.layout);
    for (const src of [pki.caCert, pki.crlPem, pki.serverChain, pki.serverKey]) {
      const dest = path.join(this.pkiView, path.relative(pki.dir, src));
      let data: Buffer;
      try { data = await fsp.readFile(src); } catch { await fsp.rm(dest, { force: true }); continue; }
      const have = await fsp.readFile(dest).catch(() => undefined);
      if (have && have.equals(data)) continue;
      const isKey = src === pki.serverKey;
      await ensureDir(path.dirname(dest), isKey ? 0o700 : 0o755);
      await writeFileAtomic(dest, data, { mode: isKey ? 0o600 : 0o644 });
    }
  }

  private async prepare(): Promise<void> {
    const p = this.paths;
    await ensureDir(p.prefix, 0o711);
    await ensureDir(p.tempDir, 0o711);
    await ensureDir(p.logsDir, 0o755);
    // Inside the container the logs are the container's stdout/stderr, which `podman logs` shows.
    for (const [name, target] of [['access.log', '/dev/stdout'], ['error.log', '/dev/stderr']] as const) {
      const link = path.join(p.logsDir, name);
      const now = await fsp.readlink(link).catch(() => undefined);
      if (now !== target) { await fsp.rm(link, { force: true }); await fsp.symlink(target, link); }
    }
    await ensureDir(this.layout.socketDir, 0o711);
    await ensureDir(this.pkiView, 0o711);
    await this.syncPki();
  }

  pathMap(sources?: Record<string, string>): PathMap {
    // Every folder is mounted at its host path, so container paths are host paths.
    return { mainFile: this.paths.mainConf, sources };
  }

  private async inspect(signal?: AbortSignal): Promise<ContainerState | undefined> {
    const r = await run(this.podman, ['container', 'inspect', '--format', 'json', this.name], { signal, timeout: 30_000 });
    if (r.exitCode !== 0) return undefined;
    return parseContainerState(r.stdout);
  }

  async test(signal?: AbortSignal): Promise<NginxTestResult> {
    const t0 = performance.now();
    await this.prepare();
    await this.chooseImage(signal);
    const running = this.liveHostPid() !== undefined || (await this.status(signal)).state === 'running';
    // In the running container when there is one (exactly the nginx that will reload), else in a throwaway one.
    const r = running
      ? await this.execInContainer(this.nginxArgs(['-t', '-q']), signal)
      : await run(this.podman, ['run', '--rm', '--network', 'none', ...this.mounts(), this.image, ...this.nginxArgs(['-t', '-q'])], { signal, timeout: 120_000 });
    if (r.exitCode !== 0 && !/\[(emerg|alert|crit|error)\]/.test(r.stderr)) await this.explainPodmanFailure(r.stderr, signal);
    const sources = r.stderr.trim() ? await readConfigSources(this.paths.confDir) : {};
    return { ok: r.exitCode === 0, diagnostics: parseNginxTestOutput(r.stderr, this.pathMap(sources)), output: r.stderr, durationMs: performance.now() - t0 };
  }

  /** Through the warm shell when there is one (ReloadOnSave), else a plain `podman exec`. */
  private async execInContainer(argv: string[], signal?: AbortSignal): Promise<{ exitCode: number; stderr: string }> {
    if (this.shell) {
      try {
        const r = await this.shell.run(argv);
        return { exitCode: r.exitCode, stderr: r.output };
      } catch {
        this.shell.close(); // an image without /bin/sh, or the container restarted: plain exec below
      }
    }
    return run(this.podman, ['exec', this.name, ...argv], { signal, timeout: 60_000 });
  }

  async warm(): Promise<void> {
    if (!this.shell) this.shell = new ContainerShell(this.podman, this.name);
  }

  cool(): void {
    this.shell?.close();
    this.shell = undefined;
  }

  /** podman itself failed (no image, no runtime): one sentence, not an nginx diagnostic. */
  private async explainPodmanFailure(stderr: string, signal?: AbortSignal): Promise<never> {
    if (!(await this.imageExists(signal))) throw this.missingImage();
    throw new FarmError(`podman could not run nginx: ${stderr.trim().split('\n').slice(-3).join(' | ').replace(/\.?$/, '.')}`, 'Run `ipxe-farm doctor`: when podman cannot start containers it prints the containers.conf that fixes it.', 'EPODMAN');
  }

  private async imageExists(signal?: AbortSignal): Promise<boolean> {
    return (await run(this.podman, ['image', 'exists', this.image], { signal, timeout: 30_000 })).exitCode === 0;
  }

  private missingImage(): FarmError {
    return missingImageError(this.chosen ?? { image: this.image, source: 'configured', present: false, describe: this.image });
  }

  async status(signal?: AbortSignal): Promise<NginxStatus> {
    const s = await this.inspect(signal);
    const base = { runtime: 'podman' as const, where: this.name, ports: { https: this.farm.server.httpsPort, http: this.farm.server.httpPort } };
    if (!s) return { ...base, state: 'stopped' };
    if (s.running) { this.hostPid = s.pid; return { ...base, state: 'running', pid: s.pid }; }
    // podman reports `stopped` for a moment after the process ends, then `exited`: both mean nginx is gone.
    if (s.status === 'exited' || s.status === 'stopped' || s.status === 'dead') return { ...base, state: 'exited', detail: `exit code ${s.exitCode}`, lastLog: await this.logs(15, signal) };
    return { ...base, state: 'stopped', detail: s.status };
  }

  async up(signal?: AbortSignal): Promise<NginxStatus> {
    if (!(await this.chooseImage(signal, true)).present) throw this.missingImage();
    const now = await this.inspect(signal);
    if (now) this.assertOurs(now);
    if (now?.running) return this.status(signal);
    // A container left `created` by a taken port, or exited, still holds the name: it is ours, replace it.
    if (now) await run(this.podman, ['rm', '-f', this.name], { signal, timeout: 30_000 });
    const sources = await readConfigSources(this.paths.confDir);
    await assertPkiReady(this.layout, sources);
    const t = await this.test(signal);
    if (!t.ok) throw new NginxConfigError(t.diagnostics, t.output, 'started');
    assertListensOnFarmPorts(this.farm, sources, this.layout.root);
    const host = this.publishHost;
    const bindHost = host ?? '0.0.0.0';
    await assertPortsFree([{ port: this.farm.server.httpsPort, what: 'HTTPS' }, { port: this.farm.server.httpPort, what: 'HTTP' }], bindHost);
    const publish = (port: number) => ['-p', `${host ? `${host === '::1' ? '[::1]' : host}:` : ''}${port}:${port}`];
    const r = await run(this.podman, [
      'run', '-d', '--name', this.name, '--label', `${FARM_LABEL}=${this.layout.root}`,
      ...this.mounts(), ...publish(this.farm.server.httpsPort), ...publish(this.farm.server.httpPort),
      this.image, ...this.nginxArgs(),
    ], { signal, timeout: 120_000 });
    if (r.exitCode !== 0) {
      await run(this.podman, ['rm', '-f', this.name], { timeout: 30_000 }).catch(() => undefined);
      const port = /(?:address already in use|bind)[^\n]*?:(\d+)/i.exec(r.stderr)?.[1];
      if (port) {
        const owner = await portOwner(Number(port));
        throw new FarmError(`podman could not publish port ${port}: it is already taken${owner ? ` by ${owner}` : ''}.`, 'Stop that program, or choose another port in ipxe-farm.json.', 'EADDRINUSE');
      }
      throw new FarmError(`podman could not start ${this.name}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').replace(/\.?$/, '.')}`, 'Run `ipxe-farm doctor` (it tells a podman that cannot start containers apart and prints the fix), and check the image name in ipxe-farm.json.', 'EPODMAN');
    }
    const ok = await waitForPort(this.farm.server.httpsPort, bindHost, 10_000, async () => !(await this.inspect(signal))?.running);
    const st = await this.status(signal);
    if (!ok || st.state !== 'running') {
      const log = st.lastLog ?? (await this.logs(15, signal));
      throw new FarmError(`The nginx container ${this.name} ${st.state === 'running' ? 'does not answer on port ' + this.farm.server.httpsPort : `exited (${st.detail ?? st.state})`}; its last log lines:\n${log}`, `Fix the cause above, then \`ipxe-farm nginx up\` again.`, 'ENGINXSTART');
    }
    return st;
  }

  /** Never start over, stop or remove a container of the same name that another farm or person made. */
  private assertOurs(state: ContainerState): void {
    const owner = state.labels[FARM_LABEL];
    if (owner === this.layout.root) return;
    throw new FarmError(
      `A container named ${this.name} already exists and ${owner ? `belongs to the farm at ${owner}` : 'was not made by iPXE Farm'}, so it was left alone.`,
      'Set nginx.container in ipxe-farm.json to another name, or remove that container yourself (`podman rm -f ' + this.name + '`).',
      'ECONTAINERNAME',
    );
  }

  async down(signal?: AbortSignal): Promise<NginxStatus> {
    this.shell?.close();
    const now = await this.inspect(signal);
    if (!now) return this.status(signal);
    this.assertOurs(now);
    await run(this.podman, ['rm', '-f', '-t', '3', this.name], { signal, timeout: 60_000 });
    this.hostPid = undefined;
    return this.status(signal);
  }

  async reload(signal?: AbortSignal): Promise<NginxReloadResult> {
    const t = await this.test(signal);
    const running = this.liveHostPid() !== undefined;
    if (!t.ok || !running) return { ...t, reloaded: false, running };
    await this.signalMaster('HUP', signal);
    return { ...t, reloaded: true, running: true };
  }

  /** The master's host pid when we saw it running and it still is (saves a 50-100 ms `podman inspect` per save). */
  private liveHostPid(): number | undefined {
    if (!this.hostPid) return undefined;
    if (pidRuns(this.hostPid, 'nginx')) return this.hostPid;
    this.hostPid = undefined;
    return undefined;
  }

  /**
   * SIGHUP straight to the container's nginx master (its host pid, from inspect): what `nginx -s reload` does, without
   * the 130-200 ms a `podman exec` costs. Falls back to `podman kill` when the pid cannot be signalled.
   */
  private async signalMaster(sig: 'HUP', signal?: AbortSignal): Promise<void> {
    if (!this.hostPid) await this.status(signal);
    if (!this.hostPid) throw new FarmError(`The nginx container ${this.name} is not running, so there is nothing to reload.`, 'Start it with `ipxe-farm nginx up`.', 'ENOTRUNNING');
    try {
      if (!pidRuns(this.hostPid, 'nginx')) throw new Error('pid reused');
      process.kill(this.hostPid, `SIG${sig}`);
    } catch {
      this.hostPid = undefined;
      const r = await run(this.podman, ['kill', '--signal', sig, this.name], { signal, timeout: 30_000 });
      if (r.exitCode !== 0) throw new FarmError(`Could not signal the nginx container ${this.name}: ${r.stderr.trim().replace(/\.?$/, '.')}`, 'Check `ipxe-farm nginx status`.', 'EPODMAN');
    }
  }

  async logs(lines = 50, signal?: AbortSignal): Promise<string> {
    const r = await run(this.podman, ['logs', '--tail', String(lines), this.name], { signal, timeout: 30_000 });
    return `${r.stdout}${r.stderr}`.trimEnd();
  }

  follow(sink: LogSink, signal?: AbortSignal): LogFollower {
    // podman logs -f streams access lines on stdout and errors on stderr.
    const child = start(this.podman, ['logs', '-f', '--tail', '0', this.name], { signal, buffer: false, onOutput: (t, s) => sink(t, s === 'stdout' ? 'access' : 'error') });
    return {
      stop: () => { child.kill('SIGTERM'); },
      done: child.then(() => undefined, () => undefined),
    };
  }
}
