import * as path from 'node:path';
import { FarmError, UsageError } from '../../core/errors';
import { updateFarm } from '../../core/farm/load';
import { NAME_PATTERN, NAME_RULE } from '../../core/farm/model';
import { normaliseMac } from '../../core/farm/validate';
import { explainBoot } from '../../core/boot/explain';
import { startBootService } from '../../core/boot/service';
import { listSecretNames, removeSecret, setSecret } from '../../core/secrets/store';
import { writeDeployUnits } from '../../core/deploy/write';
import type { CliCommand, CliContext } from '../framework';

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});

function one(args: string[], what: string, cmd: string): string {
  if (args.length !== 1) throw new UsageError(`${cmd} takes exactly one ${what}.`, `See \`ipxe-farm ${cmd} --help\`.`);
  return args[0]!;
}

function checkName(name: string, what: string): void {
  if (!NAME_PATTERN.test(name)) throw new UsageError(`The ${what} name "${name}" is not allowed: ${NAME_RULE}.`);
}

const profileOptions = {
  kernel: { type: 'string', description: 'kernel: a URL, or a file under files/' },
  initrd: { type: 'string', multiple: true, description: 'initrd: a URL or a file under files/ (repeat for several)' },
  cmdline: { type: 'string', description: 'kernel command line template ({{client.name}}, {{secret.NAME}}, …)' },
  verify: { type: 'boolean', description: 'imgverify kernel and initrds against the code-signing certificate' },
  'no-verify': { type: 'boolean', description: 'do not imgverify' },
  extra: { type: 'string', multiple: true, description: 'an extra iPXE line before boot (repeat for several)' },
  description: { type: 'string', description: 'what this profile is for' },
} as const;

function applyProfile(p: Raw, o: Record<string, unknown>): void {
  if (typeof o.kernel === 'string') p.kernel = o.kernel;
  if (Array.isArray(o.initrd)) p.initrds = o.initrd;
  if (typeof o.cmdline === 'string') p.cmdline = o.cmdline;
  if (o.verify === true) p.verify = true;
  if (o['no-verify'] === true) p.verify = false;
  if (Array.isArray(o.extra)) p.extra = o.extra;
  if (typeof o.description === 'string') p.description = o.description;
}

async function printOk(ctx: CliContext, text: string, json: unknown): Promise<void> {
  if (ctx.json) ctx.outJson(json);
  else ctx.out(text);
}

export const bootCommands: CliCommand[] = [
  {
    name: 'serve',
    summary: 'Run the boot service in the foreground on the farm\'s unix socket (for systemd or a container).',
    options: { socket: { type: 'string', description: 'listen on this socket instead of .ipxe-farm/run/boot.sock' } },
    async run(ctx, _args, o) {
      const root = await ctx.farmRoot();
      const svc = await startBootService({ root, socket: typeof o.socket === 'string' ? path.resolve(ctx.cwd, o.socket) : undefined, log: (l) => ctx.info(l) });
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      ctx.info('stopping the boot service');
      await svc.close();
    },
  },
  {
    name: 'script',
    args: 'CLIENT',
    summary: 'Print the iPXE script a client gets now (secrets masked unless --reveal).',
    options: {
      reveal: { type: 'boolean', description: 'show secret values' },
      mac: { type: 'string', description: 'as if asked for /ipxe/MAC' },
    },
    async run(ctx, args, o) {
      const e = await explainBoot(await ctx.farmRoot(), one(args, 'client', 'script'), { reveal: o.reveal === true, mac: o.mac as string | undefined });
      if (e.error) throw new FarmError(e.error, undefined, 'ERENDER');
      if (e.preview && e.script) ctx.info(`note: ${e.decision.steps[0]}; this is the script it will get.`);
      else if (!e.decision.ok) throw new FarmError(`This client would be refused: ${e.decision.reason}.`, undefined, 'EREFUSED');
      if (ctx.json) ctx.outJson({ client: e.decision.client, profile: e.decision.ok ? e.decision.profile : undefined, preview: e.preview === true, script: e.script });
      else ctx.out(e.script!);
    },
  },
  {
    name: 'explain',
    args: 'CLIENT|FINGERPRINT',
    summary: 'Explain which profile a client or certificate gets, and why.',
    options: { mac: { type: 'string', description: 'as if asked for /ipxe/MAC' } },
    async run(ctx, args, o) {
      const e = await explainBoot(await ctx.farmRoot(), one(args, 'client or fingerprint', 'explain'), { mac: o.mac as string | undefined });
      if (ctx.json) { ctx.outJson({ ok: e.decision.ok, steps: e.decision.steps, client: e.decision.client, profile: e.decision.ok ? e.decision.profile : undefined, error: e.error }); return e.decision.ok && !e.error ? 0 : 1; }
      e.decision.steps.forEach((s, i) => ctx.out(`${i + 1}. ${s}`));
      if (e.error) ctx.out(`but the script cannot be made: ${e.error}`);
      return e.decision.ok && !e.error ? 0 : 1;
    },
  },
  {
    name: 'profile add',
    args: 'NAME',
    summary: 'Add a boot profile (kernel, initrds, command line).',
    options: profileOptions,
    async run(ctx, args, o) {
      const name = one(args, 'profile name', 'profile add');
      checkName(name, 'profile');
      if (typeof o.kernel !== 'string') throw new UsageError('profile add needs --kernel URL|FILE.');
      await updateFarm(await ctx.farmRoot(), (raw) => {
        const profiles = obj(raw.profiles);
        if (name in profiles) throw new FarmError(`Profile "${name}" already exists.`, `Change it with \`ipxe-farm profile set ${name}\`.`, 'EEXIST');
        const p: Raw = { kernel: o.kernel, initrds: [], cmdline: '', verify: false, extra: [] };
        applyProfile(p, o);
        raw.profiles = { ...profiles, [name]: p };
      });
      await printOk(ctx, `Added profile ${name}.`, { profile: name });
    },
  },
  {
    name: 'profile set',
    args: 'NAME',
    summary: 'Change a boot profile (only the options given).',
    options: { ...profileOptions, default: { type: 'boolean', description: 'make it the farm\'s default profile' } },
    async run(ctx, args, o) {
      const name = one(args, 'profile name', 'profile set');
      await updateFarm(await ctx.farmRoot(), (raw) => {
        const profiles = obj(raw.profiles);
        if (!(name in profiles)) throw new FarmError(`There is no profile "${name}".`, `Add it with \`ipxe-farm profile add ${name} --kernel …\`.`, 'ENOENT');
        const p = { ...obj(profiles[name]) };
        applyProfile(p, o);
        raw.profiles = { ...profiles, [name]: p };
        if (o.default === true) raw.defaultProfile = name;
      });
      await printOk(ctx, `Updated profile ${name}.`, { profile: name });
    },
  },
  {
    name: 'profile rm',
    args: 'NAME',
    summary: 'Remove a boot profile no client uses.',
    async run(ctx, args) {
      const name = one(args, 'profile name', 'profile rm');
      await updateFarm(await ctx.farmRoot(), (raw, farm) => {
        const users = Object.entries(farm.clients).filter(([, c]) => c.profile === name).map(([n]) => n);
        if (users.length) throw new FarmError(`Profile "${name}" is used by ${users.join(', ')}.`, 'Give those clients another profile first (`ipxe-farm client set NAME --profile P`).', 'EBUSY');
        if (farm.defaultProfile === name) throw new FarmError(`Profile "${name}" is the default profile.`, 'Make another profile the default first (`ipxe-farm profile set P --default`).', 'EBUSY');
        const profiles = obj(raw.profiles);
        if (!(name in profiles)) throw new FarmError(`There is no profile "${name}".`, undefined, 'ENOENT');
        delete profiles[name];
        raw.profiles = profiles;
      });
      await printOk(ctx, `Removed profile ${name}.`, { removed: name });
    },
  },
  {
    name: 'client set',
    args: 'NAME',
    summary: 'Map a client to a profile, with its MACs and variables.',
    options: {
      profile: { type: 'string', description: 'the profile this client boots' },
      mac: { type: 'string', multiple: true, description: 'a MAC of this machine (repeat for several; replaces the list)' },
      var: { type: 'string', multiple: true, description: 'KEY=VALUE for {{client.vars.KEY}} (repeat for several)' },
      description: { type: 'string', description: 'what this machine is' },
    },
    async run(ctx, args, o) {
      const name = one(args, 'client name', 'client set');
      checkName(name, 'client');
      const macs = Array.isArray(o.mac) ? (o.mac as string[]).map((m) => normaliseMac(m) ?? (() => { throw new UsageError(`"${m}" is not a MAC address.`, 'Write it as 52:54:00:12:34:56.'); })()) : undefined;
      const vars: Raw = {};
      for (const kv of (o.var as string[] | undefined) ?? []) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new UsageError(`--var "${kv}" is not KEY=VALUE.`);
        vars[kv.slice(0, i)] = kv.slice(i + 1);
      }
      await updateFarm(await ctx.farmRoot(), (raw) => {
        const clients = obj(raw.clients);
        const c: Raw = { macs: [], vars: {}, ...obj(clients[name]) };
        if (typeof o.profile === 'string') c.profile = o.profile;
        if (macs) c.macs = macs;
        if (Object.keys(vars).length) c.vars = { ...obj(c.vars), ...vars };
        if (typeof o.description === 'string') c.description = o.description;
        raw.clients = { ...clients, [name]: c };
      });
      await printOk(ctx, `Client ${name} updated.`, { client: name });
    },
  },
  {
    name: 'client rm',
    args: 'NAME',
    summary: 'Remove a client\'s boot mapping (its certificate stays; revoke it with the PKI commands).',
    async run(ctx, args) {
      const name = one(args, 'client name', 'client rm');
      await updateFarm(await ctx.farmRoot(), (raw) => {
        const clients = obj(raw.clients);
        if (!(name in clients)) throw new FarmError(`There is no client "${name}".`, undefined, 'ENOENT');
        delete clients[name];
        raw.clients = clients;
      });
      await printOk(ctx, `Removed client ${name}.`, { removed: name });
    },
  },
  {
    name: 'secret set',
    args: 'NAME',
    summary: 'Store a secret, its value read from stdin (never from an argument, so it stays out of shell history).',
    details: 'Example: printf %s "$TOKEN" | ipxe-farm secret set minio\nUse it in a profile as {{secret.minio}}.',
    async run(ctx, args) {
      const name = one(args, 'secret name', 'secret set');
      if (process.stdin.isTTY) ctx.info(`Type the value for ${name}, then Enter and Ctrl-D:`);
      await setSecret(await ctx.farmRoot(), name, await ctx.readStdin());
      await printOk(ctx, `Stored secret ${name}.`, { secret: name });
    },
  },
  {
    name: 'secret rm',
    args: 'NAME',
    summary: 'Remove a secret.',
    async run(ctx, args) {
      const name = one(args, 'secret name', 'secret rm');
      if (!(await removeSecret(await ctx.farmRoot(), name))) throw new FarmError(`There is no secret "${name}".`, 'List them with `ipxe-farm secret list`.', 'ENOENT');
      await printOk(ctx, `Removed secret ${name}.`, { removed: name });
    },
  },
  {
    name: 'secret list',
    summary: 'List secret names (never values).',
    async run(ctx) {
      const names = await listSecretNames(await ctx.farmRoot());
      if (ctx.json) ctx.outJson({ secrets: names });
      else ctx.out(names.length ? names.join('\n') : '(no secrets)');
    },
  },
  {
    name: 'deploy systemd',
    args: 'DIR',
    summary: 'Write systemd units that run nginx (podman) and the boot service on a server.',
    options: { bin: { type: 'string', description: 'path of the ipxe-farm program on the server (default: /usr/local/bin/ipxe-farm)' } },
    async run(ctx, args, o) {
      const dir = path.resolve(ctx.cwd, one(args, 'folder', 'deploy systemd'));
      const files = await writeDeployUnits(await ctx.farmRoot(), dir, 'systemd', { bin: o.bin as string | undefined });
      await printOk(ctx, files.map((f) => `Wrote ${f}`).join('\n'), { files });
    },
  },
  {
    name: 'deploy quadlet',
    args: 'DIR',
    summary: 'Write podman quadlet units (nginx container + boot service) for a server.',
    options: { bin: { type: 'string', description: 'path of the ipxe-farm program on the server (default: /usr/local/bin/ipxe-farm)' } },
    async run(ctx, args, o) {
      const dir = path.resolve(ctx.cwd, one(args, 'folder', 'deploy quadlet'));
      const files = await writeDeployUnits(await ctx.farmRoot(), dir, 'quadlet', { bin: o.bin as string | undefined });
      await printOk(ctx, files.map((f) => `Wrote ${f}`).join('\n'), { files });
    },
  },
];
