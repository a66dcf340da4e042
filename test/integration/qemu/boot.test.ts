import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { bootHeadless, launchQemu } from '../../../src/core/qemu/launch';
import { probeAccel } from '../../../src/core/qemu/accel';
import { ensureStockIpxe, stockUnavailable, StockIpxe } from '../../../src/core/stock/debianPackage';
import { ensureTestKernel, LINUX_MARKER_RE, TestKernel, testKernelUnavailable } from '../../support/kernel';
import { which } from '../../support/farm';

// Real QEMU (TCG on this kind of machine), the real Debian kernel with the busybox initramfs, and Debian's stock
// iPXE fetching over plain HTTP from a Node server on 127.0.0.1 through restricted user networking.

const missing = !which('qemu-system-x86_64') ? 'SKIPPED: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)'
  : !which('socat') ? 'SKIPPED: socat is not installed (apt-get install socat)' : testKernelUnavailable();
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-qemu-'));
const SECRET = 'tok-5f1e9c-secret';
let kernel: TestKernel | undefined;
let stock: StockIpxe | undefined;
let stockSkip: string | undefined;
let server: http.Server | undefined;
let port = 0;

before(async () => {
  if (missing) return;
  kernel = await ensureTestKernel();
  stockSkip = stockUnavailable();
  if (!stockSkip) stock = await ensureStockIpxe().catch((e: Error) => { stockSkip = `SKIPPED: stock iPXE could not be fetched: ${e.message}`; return undefined; });
  server = http.createServer((req, res) => {
    const files: Record<string, string> = { '/vmlinuz': kernel!.kernel, '/initrd': kernel!.initrd };
    if (req.url === '/boot.ipxe') {
      res.end(`#!ipxe\nkernel http://10.0.2.100:${port}/vmlinuz console=ttyS0 quiet secret=${SECRET}\ninitrd http://10.0.2.100:${port}/initrd\nboot\n`);
    } else if (files[req.url ?? '']) {
      fs.createReadStream(files[req.url!]!).pipe(res);
    } else {
      res.statusCode = 404;
      res.end('not here\n');
    }
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

after(() => {
  server?.close();
  fs.rmSync(logDir, { recursive: true, force: true });
});

test('the accelerator probe gives an answer with a reason, and a second call is cached', async (t) => {
  if (missing) return t.skip(missing);
  const a = await probeAccel();
  assert.ok(a.accel === 'kvm' || a.accel === 'tcg');
  if (a.accel === 'tcg') assert.ok(a.reason.length > 10, 'TCG is chosen with a reason a person can read');
  assert.equal(await probeAccel(), a);
});

test('the test kernel boots under QEMU and prints its command line; the serial log keeps it 0600 with the secret redacted', async (t) => {
  if (missing) return t.skip(missing);
  const seen: string[] = [];
  const h = await launchQemu({
    logDir, name: 'kernel', redact: [SECRET],
    spec: { firmware: 'bios', accel: 'auto', memoryMiB: 256, network: { kind: 'none' },
      medium: { kind: 'kernel', kernel: kernel!.kernel, initrd: kernel!.initrd, append: `console=ttyS0 quiet secret=${SECRET}` } },
    headless: { timeoutMs: 120_000, marker: LINUX_MARKER_RE },
  });
  h.onData((d) => seen.push(d));
  try {
    const r = await h.done;
    assert.equal(r.reason, 'marker', r.output.slice(-2000));
    assert.equal(r.marker?.[1], `console=ttyS0 quiet secret=${SECRET}`);
    assert.ok(r.stages.linuxMarker! > 0);
    assert.match(seen.join(''), /secret=«redacted»/, 'the live console shows the mask where the machine printed a secret');
    assert.doesNotMatch(seen.join(''), new RegExp(SECRET));
    const log = fs.readFileSync(r.logFile, 'utf8');
    assert.match(log, /IPXE-FARM-LINUX-UP cmdline: console=ttyS0 quiet secret=«redacted»/);
    assert.doesNotMatch(log, new RegExp(SECRET));
    assert.equal(fs.statSync(r.logFile).mode & 0o777, 0o600);
  } finally {
    h.kill();
  }
});

function stockBoot(script: string, name: string, headless: Parameters<typeof bootHeadless>[0]['headless']) {
  const scriptFile = path.join(logDir, `${name}.ipxe`);
  fs.writeFileSync(scriptFile, script);
  return bootHeadless({
    logDir, name,
    spec: { firmware: 'bios', accel: 'auto', memoryMiB: 512, medium: { kind: 'kernel', kernel: stock!.lkrn, initrd: scriptFile },
      network: { kind: 'restricted', address: '10.0.2.100', forwards: [{ guestPort: port, hostPort: port }] } },
    headless,
  });
}

test('stock iPXE gets DHCP in restricted networking, chains a script from 127.0.0.1 and boots the kernel: every stage is timed', async (t) => {
  if (missing) return t.skip(missing);
  if (!stock) return t.skip(stockSkip ?? 'SKIPPED: no stock iPXE');
  const r = await stockBoot(`#!ipxe\ndhcp\nchain http://10.0.2.100:${port}/boot.ipxe\n`, 'stock-http', { timeoutMs: 150_000, marker: LINUX_MARKER_RE });
  assert.equal(r.reason, 'marker', r.output.slice(-2000));
  assert.equal(r.marker?.[1], `console=ttyS0 quiet secret=${SECRET}`);
  const s = r.stages;
  assert.ok(s.ipxeUp! < s.dhcpOk! && s.dhcpOk! <= s.scriptFetched! && s.scriptFetched! <= s.imagesLoaded! && s.imagesLoaded! < s.linuxMarker!, JSON.stringify(s));
  assert.deepEqual(r.downloads.map((d) => new URL(d.url).pathname), ['/boot.ipxe', '/vmlinuz', '/initrd']);
  assert.deepEqual(r.errors, []);
});

test('a failing chain is recognised by its iPXE error code and a headless run stops on it', async (t) => {
  if (missing) return t.skip(missing);
  if (!stock) return t.skip(stockSkip ?? 'SKIPPED: no stock iPXE');
  const r = await stockBoot(`#!ipxe\ndhcp\nchain http://10.0.2.100:${port}/missing.ipxe || goto wait\n:wait\nsleep 600\n`, 'stock-404',
    { timeoutMs: 150_000, marker: LINUX_MARKER_RE, stopOnIpxeErrorAfterMs: 500 });
  assert.equal(r.reason, 'ipxe-error', r.output.slice(-2000));
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!.line, /missing\.ipxe/);
  assert.match(r.errors[0]!.code, /^[0-9a-f]{8}$/);
  assert.equal(r.stages.scriptFetched, undefined);
});
