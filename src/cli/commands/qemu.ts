import { UsageError } from '../../core/errors';
import { describeIpxeError } from '../../core/ipxe';
import { clientLaunchOptions } from '../../core/qemu';
import { launchQemu, QemuResult } from '../../core/qemu';
import { formatStages } from '../../core/qemu';
import { buildStockImage } from '../../core/stock';
import { lastMadeImage } from '../../core/qemu';
import type { CliCommand, CliContext } from '../framework';
import { exactlyOne, patternOption, qemuImageOptions, secondsOption } from '../args';
import { openFarm } from '../../core/farm';

function report(ctx: CliContext, r: QemuResult): number {
  const ok = (r.reason === 'marker' || r.reason === 'exited') && r.errors.length === 0;
  if (ctx.json) {
    ctx.outJson({
      ok, reason: r.reason, elapsedMs: r.elapsedMs, stages: r.stages, downloads: r.downloads, logFile: r.logFile,
      errors: r.errors, marker: r.marker?.[0],
    });
    return ok ? 0 : 1;
  }
  ctx.info('');
  ctx.info(`QEMU ${r.reason === 'marker' ? 'reached the marker' : r.reason === 'exited' ? 'exited' : r.reason === 'timeout' ? 'timed out' : r.reason === 'ipxe-error' ? 'stopped on an iPXE error' : 'was stopped'} after ${(r.elapsedMs / 1000).toFixed(1)} s.`);
  const stages = formatStages(r.stages);
  if (stages) ctx.info(`Boot stages: ${stages}`);
  for (const e of r.errors) {
    ctx.info(`\n${e.line}`);
    ctx.info(describeIpxeError(e.decoded));
  }
  ctx.info(`Serial log: ${r.logFile}`);
  return ok ? 0 : 1;
}

export const qemuCommands: CliCommand[] = [
  {
    name: 'qemu',
    args: 'CLIENT',
    summary: 'Boot a client\'s image in QEMU with its serial console here (machine and firmware from the client\'s arch).',
    options: {
      efi: { type: 'boolean', description: 'boot with OVMF (the client\'s ipxe-efi.img, or --image)' },
      headless: { type: 'boolean', description: 'no console input; stop at the timeout, on --until, or when the guest powers off' },
      timeout: { type: 'string', description: 'seconds before a headless run is stopped (default 120)' },
      until: { type: 'string', description: 'headless: stop when the console shows this regular expression' },
      image: { type: 'string', description: 'boot this image instead of ipxe/CLIENT/out (an ISO, a USB image, an EFI stick)' },
      vars: { type: 'string', description: 'EFI: start from this variable store (e.g. one with the farm CA enrolled by stock-image)' },
    },
    details: `
The farm is reached at its server address: 10.0.2.2 is this machine (QEMU user networking); any other 10.0.2.x
address is forwarded to 127.0.0.1 with the VM restricted to the farm's two ports. KVM is used when it really works
here, TCG emulation otherwise. The serial log is kept (0600) under .ipxe-farm/qemu/. iPXE error codes in the
output are decoded. Interactive: Ctrl-A x quits QEMU.

Examples:
  ipxe-farm qemu dut1
  ipxe-farm qemu dut1 --headless --timeout 120 --until 'login:'
  ipxe-farm stock-image dut1 && ipxe-farm qemu dut1 --efi --image ipxe/dut1/out/stock-efi.img --vars ipxe/dut1/out/stock-vars.fd
Without --efi/--image/--vars it boots what was made for CLIENT last (build or stock-image), like the editor's ▶.`,
    async run(ctx, args, o) {
      const client = exactlyOne(args, 'qemu', 'CLIENT', 'ipxe-farm qemu dut1');
      const headless = o.headless === true;
      if (!headless && (o.timeout !== undefined || o.until !== undefined)) throw new UsageError('--timeout and --until need --headless.', 'Add --headless.');
      const stop = headless ? { timeoutMs: (secondsOption(o.timeout, '--timeout') ?? 120) * 1000, marker: patternOption(o.until, '--until') } : undefined;
      const opened = await openFarm(await ctx.farmRoot());
      const { root } = opened;
      // Nothing named: what was made for the client last (built image or stock stick), as the editor's ▶ does.
      const choice = qemuImageOptions(o) ?? await lastMadeImage(root, client);
      const opts = await clientLaunchOptions(opened, client, choice);
      const h = await launchQemu({ ...opts, signal: ctx.signal, headless: stop });
      ctx.info(`$ ${h.command}`);
      if (!ctx.json) h.onData((d) => process.stdout.write(d));
      const stdin = process.stdin;
      const interactive = !headless && stdin.isTTY;
      const forward = (d: Buffer) => h.write(d.toString('utf8'));
      if (!headless) {
        if (interactive) stdin.setRawMode(true);
        stdin.on('data', forward);
        stdin.resume();
      }
      try {
        return report(ctx, await h.done);
      } finally {
        h.kill();
        if (!headless) {
          stdin.off('data', forward);
          if (interactive) stdin.setRawMode(false);
          stdin.pause();
        }
      }
    },
  },
  {
    name: 'stock-image',
    args: 'CLIENT',
    summary: 'EFI stick from Debian\'s prebuilt iPXE (no compiler): BOOTX64.EFI or BOOTAA64.EFI + autoexec.ipxe with the client\'s certificate and key, and an OVMF/AAVMF variable store trusting the farm CA.',
    details: `
Downloads Debian's ipxe package once into the user cache (a private apt list; the machine's apt setup is not changed),
then writes into ipxe/CLIENT/out/ (0700; the files are 0600 because they hold the client's private key):
  stock-efi.img   FAT image: EFI/BOOT/BOOTX64.EFI (BOOTAA64.EFI for an arm64-efi client; stock iPXE)
                  + EFI/BOOT/autoexec.ipxe (set cert/privkey, dhcp, chain https)
  stock-vars.fd   OVMF (AAVMF for arm64) variable store with the farm CA enrolled as TlsCaCertificate (how a stock
                  iPXE learns to trust it)
\`ipxe-farm qemu CLIENT\` boots this stick when the client has no built image.
Limits of a stock binary: no imgverify, so pin kernel/initrd hashes in the served script (sha256sum + iseq).`,
    async run(ctx, args) {
      const client = exactlyOne(args, 'stock-image', 'CLIENT', 'ipxe-farm stock-image dut1');
      const r = await buildStockImage(await openFarm(await ctx.farmRoot()), client, { signal: ctx.signal, onProgress: (l) => ctx.info(l) });
      if (ctx.json) ctx.outJson(r);
      else {
        ctx.out(`Wrote ${r.image} and ${r.vars} (0600: they hold ${client}'s private key / are its firmware state).`);
        ctx.out(`Stock iPXE ${r.ipxeVersion}; boot it with: ipxe-farm qemu ${client} --efi --image ${r.image} --vars ${r.vars}`);
      }
    },
  },
];
