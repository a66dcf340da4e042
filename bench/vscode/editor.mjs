#!/usr/bin/env node
// The editor benchmark (issue 7): extension activation time and the Clients tree with 1,000 clients, both measured
// inside the real VS Code (code-server + headless chromium here), and the size of the .vsix.
//   node bench/vscode/editor.mjs [--clients N] [--screenshots DIR]
// Targets: activation ≤ 150 ms, tree ≤ 300 ms, .vsix ≤ 1.5 MB.
// The workspace is a farm file with N clients, a PKI index with a certificate record per client and a boot event per
// client: the index records are synthetic (the bench measures the editor, not the CA; real issuance is in bench/pki).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseMetrics, runInVsCode } from './harness.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, screenshots: { type: 'string' } } });
const n = Number(values.clients);

function workspace() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-bench-editor-'));
  const root = path.join(dir, 'farm');
  for (const d of ['pki', 'nginx', 'files', 'ipxe', '.ipxe-farm']) mkdirSync(path.join(root, d), { recursive: true });
  const clients = {};
  const records = [];
  const events = [];
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const rec = (kind, name, serial) => {
    const der = randomBytes(800);
    return { serial, kind, name, subject: `CN=${name},O=bench`, sha1: createHash('sha1').update(der).digest('hex'), sha256: createHash('sha256').update(der).digest('hex'),
      notBefore: iso(now - 86_400_000), notAfter: iso(now + 365 * 86_400_000), status: 'valid', certFile: `issued/clients/${name}.crt`, issuedAt: iso(now - 86_400_000) };
  };
  records.push(rec('root', 'root', '01'));
  for (let i = 0; i < n; i++) {
    const name = `dut${i}`;
    const h = i.toString(16).padStart(6, '0');
    clients[name] = { profile: i % 3 ? 'linux' : 'rescue', macs: [`52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4)}`], vars: {} };
    records.push(rec('client', name, (i + 2).toString(16).toUpperCase()));
    if (i % 2 === 0) events.push(JSON.stringify({ time: iso(now - i * 1000), status: 200, path: '/ipxe', client: name, profile: clients[name].profile }));
  }
  const farm = {
    version: 1, name: 'bench',
    profiles: {
      linux: { kernel: 'vmlinuz', initrds: ['initrd.img'], cmdline: 'console=ttyS0 token={{secret.token}}', verify: false, extra: [] },
      rescue: { kernel: 'rescue', initrds: [], cmdline: 'console=ttyS0', verify: false, extra: [] },
    },
    clients,
  };
  writeFileSync(path.join(root, 'ipxe-farm.json'), `${JSON.stringify(farm, null, 2)}\n`);
  writeFileSync(path.join(root, 'pki', 'index.json'), JSON.stringify({ version: 1, nextSerial: (n + 2).toString(16), records }));
  writeFileSync(path.join(root, '.ipxe-farm', 'boot-events.jsonl'), `${events.join('\n')}\n`);
  return { dir, root };
}

function vsixSize() {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-vsix-')), 'ipxe-farm.vsix');
  execFileSync(process.execPath, [path.join(repo, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--out', out], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  const bytes = statSync(out).size;
  rmSync(path.dirname(out), { recursive: true, force: true });
  return bytes;
}

const ws = workspace();
try {
  const r = await runInVsCode({ entry: 'bench/vscode/editor-entry.ts', workspace: ws.root, screenshotDir: values.screenshots, onLine: (l) => console.log(l) });
  const m = parseMetrics(r.lines);
  const vsix = vsixSize();
  const row = (name, value, unit, target) => console.log(`${name.padEnd(34)} ${value === undefined ? '         -' : String(value.toFixed(1)).padStart(10)} ${unit.padEnd(3)} ${target ? `(target ≤ ${target} ${unit}${value !== undefined && value > target ? ': MISSED' : ''})` : ''}`);
  console.log(`\n# iPXE Farm editor benchmark, ${n} clients, ${r.runner}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} CPUs`);
  row('activation_ms', m.activation_ms?.value, 'ms', 150);
  if (m.activation_wall_ms) row('activation_wall_ms', m.activation_wall_ms.value, 'ms');
  row('first_farm_read_ms', m.first_farm_read_ms?.value, 'ms');
  row('farm_read_ms', m.farm_read_ms?.value, 'ms');
  row('farm_reread_ms', m.farm_reread_ms?.value, 'ms');
  row('clients_tree_provider_ms', m.clients_tree_provider_ms?.value, 'ms');
  row('clients_tree_first_render_host_ms', m.clients_tree_first_render_host_ms?.value, 'ms', 300);
  row('clients_tree_first_render_dom_ms', m.clients_tree_first_render_dom_ms?.value, 'ms', 300);
  row('dom_query_overhead_ms', m.dom_query_overhead_ms?.value, 'ms');
  row('clients_tree_refresh_host_ms', m.clients_tree_render_host_ms?.value, 'ms', 300);
  row('clients_tree_refresh_dom_ms', m.clients_tree_render_dom_ms?.value, 'ms', 300);
  row('clients_tree_after_save_ms', m.clients_tree_after_save_ms?.value, 'ms');
  row('vsix_size', vsix / 1024, 'KiB', 1536);
  if (r.problem) console.log(`# the run broke: ${r.problem}`);
  process.exitCode = !r.problem && r.counts?.failed === 0 ? 0 : 1;
} finally {
  rmSync(ws.dir, { recursive: true, force: true });
}
