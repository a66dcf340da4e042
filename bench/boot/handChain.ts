/**
 * The seed's chain built by hand, for the stages benchmark's baseline: a scratch COPY of the iPXE tree with its stock
 * configuration, the seed's embedded script, and the seed's one make line
 * (`make bin/ipxe.iso EMBED=… TRUST=… CERT=… PRIVKEY=…`). The copy keeps the product's named config and its
 * config/local/dhcp.h out of the baseline: config/local/ is emptied (make recreates the headers empty, as in a fresh
 * checkout) and bin/ removed, so the build is clean. The one edit the seed's documents require is kept: iPXE's
 * crypto page (seeds/001) says HTTPS needs DOWNLOAD_PROTO_HTTPS and imgverify needs IMAGE_TRUST_CMD, and a v2.0.0
 * BIOS build has neither by default, so config/local/general.h defines those two and nothing else.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HandChain {
  iso: string;
  /** The scratch tree; removed by dispose(). */
  dir: string;
  buildSeconds: number;
  dispose(): void;
}

/** The seed's embedded script: bring the network up, chain the per-client script over HTTPS. */
export function seedScript(url: string): string {
  return `#!ipxe\ndhcp\nchain ${url}\n`;
}

export async function buildHandChain(tree: string, files: { ca: string; cert: string; key: string }, url: string): Promise<HandChain> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-bench-handtree-'));
  const copy = path.join(dir, 'ipxe');
  fs.cpSync(tree, copy, { recursive: true, preserveTimestamps: true });
  const src = path.join(copy, 'src');
  for (const name of fs.readdirSync(src)) if (/^bin(-|$)/.test(name)) fs.rmSync(path.join(src, name), { recursive: true, force: true });
  const local = path.join(src, 'config', 'local');
  fs.rmSync(local, { recursive: true, force: true });
  fs.mkdirSync(local);
  fs.writeFileSync(path.join(local, 'general.h'), '#define DOWNLOAD_PROTO_HTTPS\n#define IMAGE_TRUST_CMD\n');
  const script = path.join(dir, 'ipxescript');
  fs.writeFileSync(script, seedScript(url));
  const t0 = Date.now();
  const args = ['-C', src, '-j2', 'bin/ipxe.iso', `EMBED=${script}`, `TRUST=${files.ca}`, `CERT=${files.ca},${files.cert}`, `PRIVKEY=${files.key}`];
  let tail = '';
  const code = await new Promise<number>((resolve) => {
    const make = spawn('make', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => { tail = (tail + d.toString()).slice(-3000); };
    make.stdout.on('data', keep);
    make.stderr.on('data', keep);
    make.on('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`the hand-made build failed (make ${args.join(' ')}):\n${tail}`);
  return { iso: path.join(src, 'bin', 'ipxe.iso'), dir, buildSeconds: (Date.now() - t0) / 1000, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
