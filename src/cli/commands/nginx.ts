import * as path from 'node:path';
import { UsageError } from '../../core/errors';
import { openFarm, type FarmHandle } from '../../core/farm/handle';
import { switchNginxRuntime } from '../../core/nginx/switchRuntime';
import { generateNginxConfig } from '../../core/nginx/generate';
import { requireNginxConfig } from '../../core/nginx/requireConfig';
import { createNginxRuntime } from '../../core/nginx/createRuntime';
import { formatDiagnostic, type NginxDiagnostic } from '../../core/nginx/diagnostics';
import { NginxConfigError, type NginxRuntime, type NginxStatus } from '../../core/nginx/runtime';
import { ReloadOnSave, type ReloadOutcome } from '../../core/nginx/reloadOnSave';
import { describeSocketReach } from '../../core/nginx/socketReach';
import { watchNginxFiles } from '../../core/nginx/watch';
import { chooseNginxImage } from '../../core/nginx/imageChoice';
import { buildLocalNginxImage } from '../../core/nginx/localImage';
import { runtimeOption } from './runtimeOption';
import type { CliCommand, CliContext, OptionSpec } from '../framework';

const RUNTIME: Record<string, OptionSpec> = {
  runtime: { type: 'string', description: 'podman or local (default: the runtime running this farm\'s nginx, else nginx.runtime in ipxe-farm.json; local when podman is absent)' },
};

/** The farm, opened once for the command, and its nginx: --runtime, else the one the farm resolved (running first). */
async function open(ctx: CliContext, o: Record<string, unknown>, opened?: FarmHandle): Promise<{ h: FarmHandle; rt: NginxRuntime; rel: (f: string) => string }> {
  const h = opened ?? await openFarm(await ctx.farmRoot());
  return { h, rt: createNginxRuntime(h, runtimeOption(o)), rel: (f) => path.relative(ctx.cwd, f) || f };
}

function printDiagnostics(ctx: CliContext, diagnostics: NginxDiagnostic[], rel: (f: string) => string): void {
  for (const d of diagnostics) ctx.info(formatDiagnostic(d, rel));
}

function describeStatus(s: NginxStatus): string {
  const ports = `HTTPS ${s.ports.https}, HTTP ${s.ports.http}`;
  const head = `nginx (${s.runtime}, ${s.where}): ${s.state}${s.pid ? ` (pid ${s.pid})` : ''}${s.detail ? `, ${s.detail}` : ''}; ${ports}`;
  return s.lastLog ? `${head}\nlast log lines:\n${s.lastLog}` : head;
}

/** Runtime calls that fail on the config print every diagnostic before the one-sentence error. */
async function withDiagnostics<T>(ctx: CliContext, rel: (f: string) => string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof NginxConfigError && !ctx.json) printDiagnostics(ctx, err.diagnostics, rel);
    throw err;
  }
}

export const nginxCommands: CliCommand[] = [
  {
    name: 'nginx init',
    summary: 'write the farm\'s mutual-TLS nginx config (nginx/nginx.conf, nginx/conf.d/*.conf) once',
    options: { force: { type: 'boolean', description: 'overwrite the existing config files' } },
    details: 'After this the config is yours to edit; `ipxe-farm nginx watch` (or saving in the editor) tests and reloads it.',
    async run(ctx, _p, o) {
      const files = await generateNginxConfig(await openFarm(await ctx.farmRoot()), { force: o.force === true });
      if (ctx.json) ctx.outJson({ files });
      else ctx.out(`wrote ${files.map((f) => path.relative(ctx.cwd, f) || f).join(', ')}`);
    },
  },
  {
    name: 'nginx up',
    summary: 'test the config, then start nginx (podman container or local nginx)',
    options: RUNTIME,
    details: '--runtime that differs from nginx.runtime in ipxe-farm.json changes the farm file (it says so): the file is where the farm\'s runtime is decided, so the editor, `nginx status`, the boot socket and the next `up` all follow it.',
    async run(ctx, _p, o) {
      const wanted = runtimeOption(o);
      let h = await openFarm(await ctx.farmRoot());
      if (wanted) {
        // Refuse before the switch: an up that cannot start must leave the farm file as it found it.
        await requireNginxConfig(h.layout);
        const switched = await switchNginxRuntime(h, wanted);
        for (const line of switched.said) ctx.info(line);
        h = switched.farm;
      }
      const { rt, rel } = await open(ctx, o, h);
      const s = await withDiagnostics(ctx, rel, () => rt.up(ctx.signal));
      if (ctx.json) ctx.outJson(s); else ctx.out(describeStatus(s));
    },
  },
  {
    name: 'nginx down',
    summary: 'stop nginx (and remove its container)',
    options: RUNTIME,
    async run(ctx, _p, o) {
      const { rt } = await open(ctx, o);
      const s = await rt.down(ctx.signal);
      if (ctx.json) ctx.outJson(s); else ctx.out(describeStatus(s));
    },
  },
  {
    name: 'nginx status',
    summary: 'is nginx running, stopped, or exited (with its last log lines)? and who can reach the boot socket',
    options: RUNTIME,
    async run(ctx, _p, o) {
      const { h, rt } = await open(ctx, o);
      const s = await rt.status(ctx.signal);
      const { farm } = h;
      const reach = describeSocketReach({ ...h, runtime: { ...h.runtime, kind: rt.kind } });
      // Which image the podman runtime runs (or would): the official one, one built here, or the farm's own.
      const image = rt.kind === 'podman' ? await chooseNginxImage(farm.nginx.image, { signal: ctx.signal }) : undefined;
      if (ctx.json) { ctx.outJson({ ...s, bootSocket: reach, ...(image ? { image } : {}) }); return reach.ok ? 0 : 1; }
      ctx.out(describeStatus(s));
      if (image) ctx.out(`image: ${image.describe}${image.fix ? `\n${image.fix}` : ''}`);
      ctx.out(reach.ok ? reach.text : `WARNING: ${reach.text} ${reach.fix ?? ''}`.trimEnd());
      return reach.ok ? 0 : 1;
    },
  },
  {
    name: 'nginx test',
    summary: 'run `nginx -t` on the config and list every problem as FILE:LINE: severity: message',
    options: RUNTIME,
    async run(ctx, _p, o) {
      const { rt, rel } = await open(ctx, o);
      const t = await rt.test(ctx.signal);
      if (ctx.json) { ctx.outJson({ ok: t.ok, diagnostics: t.diagnostics }); return t.ok ? 0 : 1; }
      for (const d of t.diagnostics) ctx.out(formatDiagnostic(d, rel));
      ctx.info(t.ok ? 'nginx config test passed' : 'nginx config test FAILED');
      return t.ok ? 0 : 1;
    },
  },
  {
    name: 'nginx reload',
    summary: 'test the config and reload nginx only if the test passes (a broken config never replaces the running one)',
    options: RUNTIME,
    async run(ctx, _p, o) {
      const { rt, rel } = await open(ctx, o);
      const r = await rt.reload(ctx.signal);
      if (ctx.json) { ctx.outJson({ ok: r.ok, reloaded: r.reloaded, running: r.running, diagnostics: r.diagnostics }); return r.ok ? 0 : 1; }
      printDiagnostics(ctx, r.diagnostics, rel);
      if (!r.ok) ctx.info('nginx config test FAILED: not reloaded, the running config keeps serving');
      else if (!r.running) ctx.info('nginx config test passed; nginx is not running (start it with `ipxe-farm nginx up`)');
      else ctx.out('nginx config test passed; reloaded');
      return r.ok ? 0 : 1;
    },
  },
  {
    name: 'nginx logs',
    summary: 'show nginx\'s last log lines, or follow them',
    options: {
      ...RUNTIME,
      follow: { type: 'boolean', short: 'f', description: 'keep printing new lines until Ctrl-C' },
      lines: { type: 'string', short: 'n', description: 'how many last lines (default 50)' },
    },
    async run(ctx, _p, o) {
      const { rt } = await open(ctx, o);
      const n = o.lines === undefined ? 50 : Number(o.lines);
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--lines must be a whole number, not "${String(o.lines)}".`);
      ctx.out(await rt.logs(n, ctx.signal));
      if (!o.follow) return;
      const f = rt.follow((text, stream) => (stream === 'error' ? process.stderr : process.stdout).write(text), ctx.signal);
      await Promise.race([f.done, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
      f.stop();
    },
  },
  {
    name: 'nginx watch',
    summary: 'on every save under nginx/ (or of the CA, CRL or server certificate): nginx -t, then reload only if it passes',
    options: { ...RUNTIME, up: { type: 'boolean', description: 'start nginx first if it is not running' } },
    details: 'Prints each problem as FILE:LINE: severity: message (terminals make them clickable). Ctrl-C stops watching; nginx keeps running.',
    async run(ctx, _p, o) {
      const { h: { layout }, rt, rel } = await open(ctx, o);
      if (o.up) {
        const s = await withDiagnostics(ctx, rel, () => rt.up(ctx.signal));
        ctx.info(describeStatus(s));
      }
      const report = (r: ReloadOutcome) => {
        if (ctx.json) { ctx.outJson(r); return; }
        const what = r.files.map(rel).join(', ');
        printDiagnostics(ctx, r.diagnostics, rel);
        if (r.error) ctx.info(`${what}: ${r.error}`);
        else if (!r.ok) ctx.info(`${what}: nginx -t FAILED, not reloaded (the running config keeps serving)`);
        else ctx.out(`${what}: ${r.reloaded ? `reloaded in ${Math.round(r.latencyMs)} ms` : 'config ok; nginx is not running'}`);
      };
      const reloader = new ReloadOnSave(rt, layout, { onOutcome: report });
      const watcher = watchNginxFiles(layout, reloader);
      ctx.info(`watching ${rel(layout.nginx)} and the CA/CRL/server certificate in ${rel(layout.pki)}; Ctrl-C to stop`);
      await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
      watcher.close();
      await reloader.idle();
      reloader.dispose();
    },
  },
  {
    name: 'nginx image',
    summary: 'build localhost/ipxe-farm-nginx:VERSION from this machine\'s Debian/Ubuntu nginx packages (no registry)',
    details: `For labs that cannot reach Docker Hub: apt-get download of nginx and the libraries it links, unpacked into a
root folder, FROM scratch, podman build. Logs go to the container's stdout/stderr and workers run as nginx (uid 101),
like the official image. A farm on the default image uses the official image when it is here, else this one.`,
    async run(ctx) {
      const r = await buildLocalNginxImage({ signal: ctx.signal, onProgress: (l) => ctx.info(l) });
      if (ctx.json) { ctx.outJson(r); return; }
      ctx.out(`built ${r.image} from nginx ${r.packageVersion} (${r.packages.length} packages) in ${(r.durationMs / 1000).toFixed(1)} s; nginx -v in it: ${r.check}`);
    },
  },
];
