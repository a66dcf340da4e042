import * as path from 'node:path';
import { FarmError, UsageError } from '../../core/errors';
import { addProfile, parseSecretFileArg, removeClient, removeProfile, secretRemovalProblem, setClient, setProfile, type ProfileFields } from '../../core/boot';
import { checkFarmWithBoot } from '../../core/boot';
import { explainBoot } from '../../core/boot';
import { clientScript } from '../../core/boot';
import { listSecretNames, removeSecret, setSecret } from '../../core/secrets';
import { writeDeployUnits } from '../../core/deploy';
import { openFarm } from '../../core/farm';
import { CLIENT_ARCHES, CPU_ARCHES } from '../../core/farm';
import { emptyTable } from '../../core/farm';
import type { CliCommand, CliContext } from '../framework';
import { exactlyOne } from '../args';

const profileOptions = {
  arch: { type: 'string', description: `the CPU --kernel, --initrd and --cmdline are for: ${CPU_ARCHES.join(', ')} (default x86_64)` },
  kernel: { type: 'string', description: 'kernel: a URL, or a file under files/' },
  initrd: { type: 'string', multiple: true, description: 'initrd: a URL or a file under files/ (repeat for several)' },
  cmdline: { type: 'string', description: 'kernel command line template ({{client.name}}, {{secret.NAME}}, …)' },
  verify: { type: 'boolean', description: 'imgverify kernel and initrds against the code-signing certificate' },
  'no-verify': { type: 'boolean', description: 'do not imgverify' },
  extra: { type: 'string', multiple: true, description: 'an extra iPXE line before boot (repeat for several)' },
  description: { type: 'string', description: 'what this profile is for' },
  'secret-file': { type: 'string', multiple: true, description: 'PATH[:MODE]=TEMPLATE: a file placed in the initramfs, fetched once with a one-time URL (repeat for several; replaces the list)' },
  'no-secret-files': { type: 'boolean', description: 'remove the profile\'s secret files' },
  'allow-missing': { type: 'boolean', description: 'write it although a file, signature or secret it names is not there yet (that client is refused until it is)' },
} as const;

/** --allow-missing, and its sentences on stderr: what was accepted, and who is refused until it arrives. */
function writeOptions(ctx: CliContext, o: Record<string, unknown>) {
  return { allowMissing: o['allow-missing'] === true, onMissing: (s: string) => ctx.info(`note: ${s}`) };
}

function profileFields(o: Record<string, unknown>): ProfileFields {
  return {
    arch: typeof o.arch === 'string' ? o.arch : undefined,
    kernel: typeof o.kernel === 'string' ? o.kernel : undefined,
    initrds: Array.isArray(o.initrd) ? (o.initrd as string[]) : undefined,
    cmdline: typeof o.cmdline === 'string' ? o.cmdline : undefined,
    verify: o.verify === true ? true : o['no-verify'] === true ? false : undefined,
    extra: Array.isArray(o.extra) ? (o.extra as string[]) : undefined,
    description: typeof o.description === 'string' ? o.description : undefined,
    secretFiles: Array.isArray(o['secret-file']) ? (o['secret-file'] as string[]).map(parseSecretFileArg) : o['no-secret-files'] === true ? [] : undefined,
  };
}

async function printOk(ctx: CliContext, text: string, json: unknown): Promise<void> {
  if (ctx.json) ctx.outJson(json);
  else ctx.out(text);
}

const DEPLOY_SUMMARY = {
  systemd: 'Write systemd units that run nginx (podman) and the boot service on a server.',
  quadlet: 'Write podman quadlet units (nginx container + boot service) for a server.',
};

export const bootCommands: CliCommand[] = [
  {
    name: 'script',
    args: 'CLIENT',
    summary: 'Print the iPXE script a client gets now (secrets masked unless --reveal).',
    options: {
      reveal: { type: 'boolean', description: 'show secret values' },
      mac: { type: 'string', description: 'as if asked for /ipxe/MAC' },
    },
    async run(ctx, args, o) {
      const { explanation: e, script, note } = await clientScript(await ctx.farmRoot(), exactlyOne(args, 'script', 'client'), { reveal: o.reveal === true, mac: o.mac as string | undefined });
      if (note) ctx.info(`note: ${note}`);
      for (const w of e.warnings ?? []) ctx.info(`warning: ${w}`);
      if (ctx.json) ctx.outJson({ client: e.decision.client, profile: e.decision.ok ? e.decision.profile : undefined, preview: e.preview === true, script, secretFiles: e.secretFiles ?? [], warnings: e.warnings ?? [] });
      else ctx.out(script);
    },
  },
  {
    name: 'explain',
    args: 'CLIENT|FINGERPRINT',
    summary: 'Explain which profile a client or certificate gets, and why.',
    options: { mac: { type: 'string', description: 'as if asked for /ipxe/MAC' } },
    async run(ctx, args, o) {
      const e = await explainBoot(await ctx.farmRoot(), exactlyOne(args, 'explain', 'client or fingerprint'), { mac: o.mac as string | undefined });
      if (ctx.json) { ctx.outJson({ ok: e.decision.ok, steps: e.decision.steps, client: e.decision.client, profile: e.decision.ok ? e.decision.profile : undefined, error: e.error, secretFiles: e.secretFiles ?? [], warnings: e.warnings ?? [] }); return e.decision.ok && !e.error ? 0 : 1; }
      e.decision.steps.forEach((s, i) => ctx.out(`${i + 1}. ${s}`));
      for (const f of e.secretFiles ?? []) ctx.out(`secret file ${f.path} (mode ${f.mode}), one-time URL bound to this certificate: ${JSON.stringify(f.content)}`);
      for (const w of e.warnings ?? []) ctx.out(`warning: ${w}`);
      if (e.error) ctx.out(`but the script cannot be made: ${e.error}`);
      return e.decision.ok && !e.error ? 0 : 1;
    },
  },
  {
    name: 'check',
    summary: 'Check the farm file, its profiles, clients and secrets; print every error and warning with its line.',
    async run(ctx) {
      const root = await ctx.farmRoot();
      const issues = await checkFarmWithBoot(root);
      const errors = issues.filter((i) => i.severity === 'error').length;
      if (ctx.json) ctx.outJson({ ok: errors === 0, issues: issues.map((i) => ({ severity: i.severity, pointer: i.pointer, line: i.at.line + 1, column: i.at.column + 1, message: i.message })) });
      else {
        for (const i of issues) ctx.out(`ipxe-farm.json:${i.at.line + 1}:${i.at.column + 1}: ${i.severity}: ${i.message}`);
        ctx.out(issues.length ? `${errors} error(s), ${issues.length - errors} warning(s).` : 'The farm file is fine.');
      }
      return errors === 0 ? 0 : 1;
    },
  },
  {
    name: 'profile add',
    args: 'NAME',
    summary: 'Add a boot profile (kernel, initrds, command line); --allow-missing if its file comes later.',
    options: profileOptions,
    async run(ctx, args, o) {
      const name = exactlyOne(args, 'profile add', 'profile name');
      if (typeof o.kernel !== 'string') throw new UsageError('profile add needs --kernel URL|FILE.');
      await addProfile(await ctx.farmRoot(), name, profileFields(o), writeOptions(ctx, o));
      await printOk(ctx, `Added profile ${name}.`, { profile: name });
    },
  },
  {
    name: 'profile set',
    args: 'NAME',
    summary: 'Change a boot profile (only the options given).',
    options: { ...profileOptions, default: { type: 'boolean', description: 'make it the farm\'s default profile' } },
    async run(ctx, args, o) {
      const name = exactlyOne(args, 'profile set', 'profile name');
      await setProfile(await ctx.farmRoot(), name, profileFields(o), { makeDefault: o.default === true, ...writeOptions(ctx, o) });
      await printOk(ctx, `Updated profile ${name}.`, { profile: name });
    },
  },
  {
    name: 'profile rm',
    args: 'NAME',
    summary: 'Remove a boot profile no client uses.',
    async run(ctx, args) {
      const name = exactlyOne(args, 'profile rm', 'profile name');
      await removeProfile(await ctx.farmRoot(), name);
      await printOk(ctx, `Removed profile ${name}.`, { removed: name });
    },
  },
  {
    name: 'client set',
    args: 'NAME',
    summary: 'Map a client to a profile, with its MACs and variables.',
    options: {
      profile: { type: 'string', description: 'the profile this client boots' },
      arch: { type: 'string', description: `CPU and firmware: ${CLIENT_ARCHES.join(', ')} (default: x86_64 with the farm's qemu.firmware)` },
      mac: { type: 'string', multiple: true, description: 'a MAC of this machine (repeat for several; replaces the list)' },
      var: { type: 'string', multiple: true, description: 'KEY=VALUE for {{client.vars.KEY}} (repeat for several)' },
      description: { type: 'string', description: 'what this machine is' },
      'allow-missing': profileOptions['allow-missing'],
    },
    async run(ctx, args, o) {
      const name = exactlyOne(args, 'client set', 'client name');
      const vars = emptyTable<string>();
      for (const kv of (o.var as string[] | undefined) ?? []) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new UsageError(`--var "${kv}" is not KEY=VALUE.`);
        vars[kv.slice(0, i)] = kv.slice(i + 1);
      }
      await setClient(await ctx.farmRoot(), name, {
        profile: typeof o.profile === 'string' ? o.profile : undefined,
        arch: typeof o.arch === 'string' ? o.arch : undefined,
        macs: Array.isArray(o.mac) ? (o.mac as string[]) : undefined,
        vars,
        description: typeof o.description === 'string' ? o.description : undefined,
      }, writeOptions(ctx, o));
      await printOk(ctx, `Client ${name} updated.`, { client: name });
    },
  },
  {
    name: 'client rm',
    args: 'NAME',
    summary: 'Remove a client\'s boot mapping (its certificate stays; revoke it with the PKI commands).',
    async run(ctx, args) {
      const name = exactlyOne(args, 'client rm', 'client name');
      await removeClient(await ctx.farmRoot(), name);
      await printOk(ctx, `Removed client ${name}.`, { removed: name });
    },
  },
  {
    name: 'secret set',
    args: 'NAME',
    summary: 'Store a secret, its value read from stdin (never from an argument, so it stays out of shell history).',
    details: 'Example: printf %s "$TOKEN" | ipxe-farm secret set minio\nUse it in a profile as {{secret.minio}}.',
    async run(ctx, args) {
      const name = exactlyOne(args, 'secret set', 'secret name');
      if (process.stdin.isTTY) ctx.info(`Type the value for ${name}, then Enter and Ctrl-D:`);
      await setSecret(await ctx.farmRoot(), name, await ctx.readStdin());
      await printOk(ctx, `Stored secret ${name}.`, { secret: name });
    },
  },
  {
    name: 'secret rm',
    args: 'NAME',
    summary: 'Remove a secret (refused while a profile uses it, unless --allow-missing).',
    options: { 'allow-missing': { type: 'boolean', description: 'remove it although a profile uses it (its clients are refused until it is back)' } },
    async run(ctx, args, o) {
      const name = exactlyOne(args, 'secret rm', 'secret name');
      const root = await ctx.farmRoot();
      // Removing a secret a profile uses would leave its clients refused: say so instead, unless it comes back later.
      // A farm file that does not load cannot be checked (the boot service reports it anyway): the secret still goes.
      const opened = await openFarm(root).catch(() => undefined);
      const breaks = opened && await secretRemovalProblem(opened, name);
      if (breaks && o['allow-missing'] !== true) throw new FarmError(`Removing secret "${name}" would refuse clients at boot: ${breaks}.`, 'Nothing was removed; change those profiles first, or pass --allow-missing if the secret comes back later.', 'EMAPPING');
      if (breaks) ctx.info(`note: ${breaks} (accepted with --allow-missing: those clients are refused until it is back)`);
      if (!(await removeSecret(root, name))) throw new FarmError(`There is no secret "${name}".`, 'List them with `ipxe-farm secret list`.', 'ENOENT');
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
  ...(['systemd', 'quadlet'] as const).map((kind): CliCommand => ({
    name: `deploy ${kind}`,
    args: 'DIR',
    summary: DEPLOY_SUMMARY[kind],
    options: { bin: { type: 'string', description: 'path of the ipxe-farm program on the server (default: /usr/local/bin/ipxe-farm)' } },
    async run(ctx, args, o) {
      const dir = path.resolve(ctx.cwd, exactlyOne(args, `deploy ${kind}`, 'folder'));
      const files = await writeDeployUnits(await openFarm(await ctx.farmRoot()), dir, kind, { bin: o.bin as string | undefined });
      await printOk(ctx, files.map((f) => `Wrote ${f}`).join('\n'), { files });
    },
  })),
];
