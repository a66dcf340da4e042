import * as path from 'node:path';
import { describeError, FarmError, UsageError } from '../../core/errors';
import { openFarm } from '../../core/farm/handle';
import { starterFarm, type ImageTarget } from '../../core/farm/model';
import { buildClientImage, checkDebug, imageState, type BuildResult } from '../../core/ipxe/build';
import { assembleClientImage } from '../../core/ipxe/assemble';
import { decodeIpxeError, describeIpxeError, findIpxeErrors } from '../../core/ipxe/errors';
import { locateIpxeSource } from '../../core/ipxe/source';
import type { CliCommand, CliContext } from '../framework';

const TARGETS: ImageTarget[] = ['iso', 'usb', 'efi'];

function targetOption(value: unknown): ImageTarget | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (TARGETS as string[]).includes(value)) return value as ImageTarget;
  throw new UsageError(`Unknown image target "${String(value)}".`, 'Use --target iso, --target usb or --target efi.');
}

async function farmOrDefaults(ctx: CliContext) {
  try {
    const root = await ctx.farmRoot();
    return { root, farm: (await openFarm(root)).farm };
  } catch (err) {
    if (err instanceof FarmError && err.code === 'ENOFARM') return { root: ctx.cwd, farm: starterFarm('farm') };
    throw err;
  }
}

const build: CliCommand = {
  name: 'build',
  args: 'CLIENT…',
  summary: 'Build each client\'s iPXE image: farm CA trusted, client certificate and key and the farm boot script built in.',
  options: {
    target: { type: 'string', description: 'iso (default: the farm\'s first target), usb, or efi (ipxe.efi plus a FAT stick image)' },
    debug: { type: 'string', description: 'iPXE DEBUG= value, e.g. tls,x509:3,certstore (default: the farm\'s ipxe.debug)' },
    verbose: { type: 'boolean', short: 'v', description: 'show every line make prints' },
    shared: { type: 'boolean', description: 'build iPXE once per farm and architecture (no key compiled in) and add each client\'s identity to a copy: about a second per client after the first (iso or efi)' },
  },
  details: `
Runs a real make in the farm's iPXE tree (ipxe.source, else IPXE_SRC, else the per-user cache of ipxe.ref, cloned
on first use). Builds in one tree wait for each other. Images go to ipxe/CLIENT/out/ with a manifest.json; they
hold the client's private key, so they are written 0600 in a 0700 folder: copy them only to the machine they are for.
The first build in a tree takes 1–2 minutes; later clients take a few seconds.
With --shared, the farm's iPXE is built once per architecture and firmware (the farm CA and the boot script built
in, no client key) under ipxe/.shared/, and each client's image is that binary plus its identity script (set cert,
set privkey): beside the binary as autoexec.ipxe on an EFI stick, as ISOLINUX's INITRD on a BIOS ISO.
An arm64-efi client's image is cross-built EFI (make CROSS=aarch64-linux-gnu- bin-arm64-efi/ipxe.efi).
Example: ipxe-farm build dut1 dut2 --target usb`,
  async run(ctx, args, o) {
    if (args.length === 0) throw new UsageError('Name at least one client to build.', 'Example: `ipxe-farm build dut1`.');
    const target = targetOption(o.target);
    // Checked before any client: a bad --debug is the command line's fault (exit 2), not one client's failure.
    if (typeof o.debug === 'string') checkDebug(o.debug);
    const h = await openFarm(await ctx.farmRoot());
    const results: BuildResult[] = [];
    const failures: Array<{ client: string; error: string }> = [];
    for (const client of args) {
      if (ctx.signal.aborted) break;
      try {
        const r = await (o.shared === true ? assembleClientImage : buildClientImage)(h, client, {
          target,
          debug: typeof o.debug === 'string' ? o.debug : undefined,
          signal: ctx.signal,
          onProgress: (p) => {
            if (p.stage === 'make' && p.line !== undefined) { if (o.verbose) ctx.info(`  ${p.line}`); return; }
            if (p.stage !== 'done') ctx.info(`${client}: ${p.message}`);
          },
        });
        results.push(r);
        for (const w of r.warnings) ctx.info(`${client}: warning: ${w}`);
        if (!ctx.json) {
          ctx.out(`${client}: ${r.files.map((f) => path.relative(ctx.cwd, f) || f).join(', ')} built in ${(r.durationMs / 1000).toFixed(1)} s (mode 0600: it holds ${client}'s private key)`);
        }
      } catch (err) {
        failures.push({ client, error: describeError(err) });
        ctx.info(`${client}: ${describeError(err)}`);
      }
    }
    if (ctx.json) {
      ctx.outJson({
        built: results.map((r) => ({ client: r.client, target: r.target, files: r.files, manifest: r.manifestFile, durationMs: r.durationMs, warnings: r.warnings })),
        failed: failures,
      });
    }
    return failures.length > 0 || ctx.signal.aborted ? 1 : 0;
  },
};

const status: CliCommand = {
  name: 'ipxe status',
  args: '[CLIENT…]',
  summary: 'Say whether each client\'s image is built, stale (script, certificate, CA, iPXE build options such as ipxe.proxyDhcp, or iPXE source changed) or missing.',
  options: { target: { type: 'string', description: 'iso, usb or efi (default: the farm\'s first target)' } },
  async run(ctx, args, o) {
    const h = await openFarm(await ctx.farmRoot());
    const clients = args.length ? args : Object.keys(h.farm.clients);
    if (clients.length === 0) throw new UsageError('The farm has no clients and none was named.', 'Name one: `ipxe-farm ipxe status dut1`.');
    const states = [];
    for (const c of clients) states.push(await imageState(h, c, targetOption(o.target)));
    if (ctx.json) ctx.outJson(states.map(({ record, ...s }) => ({ ...s, builtAt: record?.builtAt })));
    else for (const s of states) ctx.out(`${s.client} ${s.target}: ${s.state}${s.reasons.length ? ` — ${s.reasons.join(' ')}` : ''}`);
    return states.some((s) => s.state !== 'built') ? 1 : 0;
  },
};

const decode: CliCommand = {
  name: 'decode',
  args: 'CODE… | -',
  summary: 'Explain iPXE error codes (e.g. 0216eb3c): meaning, likely cause in a farm and the fix; `-` reads a log from stdin.',
  details: `
Accepts 0216eb3c, 0x0216eb3c or https://ipxe.org/0216eb3c. With "-", every code in the text on stdin (a QEMU serial
log, a pasted console) is explained with the line it appeared on.`,
  async run(ctx, args) {
    if (args.length === 0) throw new UsageError('Give an iPXE error code, or - to read a log from stdin.', 'Example: `ipxe-farm decode 0216eb3c`.');
    if (args.length === 1 && args[0] === '-') {
      const found = findIpxeErrors(await ctx.readStdin());
      if (ctx.json) { ctx.outJson(found); return 0; }
      if (found.length === 0) { ctx.out('No iPXE error codes in the input.'); return 0; }
      for (const f of found) ctx.out(`line ${f.line + 1}: ${f.text}\n${describeIpxeError(f.info)}\n`);
      return 0;
    }
    const infos = args.map((a) => {
      try { return decodeIpxeError(a); } catch (err) {
        if (err instanceof FarmError) throw new UsageError(err.message, err.fix);
        throw err;
      }
    });
    if (ctx.json) ctx.outJson(infos.length === 1 ? infos[0] : infos);
    else ctx.out(infos.map(describeIpxeError).join('\n\n'));
    return 0;
  },
};

const source: CliCommand = {
  name: 'ipxe source',
  summary: 'Show which iPXE source tree builds use (version, origin, known limits); --fetch clones it when missing.',
  options: {
    ref: { type: 'string', description: 'iPXE tag, branch or full commit (default: the farm\'s ipxe.ref, v2.0.0)' },
    fetch: { type: 'boolean', description: 'clone the ref into the per-user cache if no tree is found' },
  },
  details: `
Order: ipxe.source in ipxe-farm.json, then $IPXE_SRC, then \${XDG_CACHE_HOME:-~/.cache}/ipxe-farm/src/ipxe-REF,
then (with --fetch, or on the first build) a shallow git clone of REF into that cache.`,
  async run(ctx, _args, o) {
    const { root, farm } = await farmOrDefaults(ctx);
    if (typeof o.ref === 'string') farm.ipxe = { ...farm.ipxe, ref: o.ref, source: undefined };
    const s = await locateIpxeSource(farm, root, {
      clone: o.fetch === true,
      signal: ctx.signal,
      onProgress: (l) => { if (l.trim()) ctx.info(l.trim()); },
    });
    if (ctx.json) { ctx.outJson(s); return 0; }
    ctx.out([
      `iPXE ${s.version} (${s.flavour}${s.commit ? `, commit ${s.commit.slice(0, 12)}` : ''})`,
      `tree: ${s.dir}`,
      `from: ${{ farm: 'ipxe.source in ipxe-farm.json', env: 'IPXE_SRC', cache: `the per-user cache of ${s.ref}`, cloned: `a fresh clone of ${s.ref}` }[s.origin]}`,
      ...(s.makeVars.length ? [`extra make flags: ${s.makeVars.join(' ')}`] : []),
      ...s.warnings.map((w) => `warning: ${w}`),
    ].join('\n'));
    return 0;
  },
};

export const ipxeCommands: CliCommand[] = [build, status, decode, source];
