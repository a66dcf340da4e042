#!/usr/bin/env node
// The editor benchmark (issue 7): extension activation time and the Clients tree with 1,000 clients, both measured
// inside the real VS Code (code-server + headless chromium here), and the size of the .vsix.
//   node bench/vscode/editor.mjs [--clients N] [--windows N (default 5)] [--screenshots DIR]
// (--clients 1 gives the workbench's own cost of opening the view container, to set the 1,000-row figure against)
// Targets: activation ≤ 150 ms, tree ≤ 300 ms, .vsix ≤ 1.5 MB.
// The workspace is a farm file with N clients, a PKI index with a certificate record per client and a boot event per
// client: the index records are synthetic (the bench measures the editor, not the CA; real issuance is in bench/pki).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseMetrics, runInVsCode } from './harness.mjs';
import { buildExtension, removeBundles } from '../../scripts/lib/vscode-build.mjs';
import { manifest, packageVsix } from '../../scripts/lib/vscode-package.mjs';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, windows: { type: 'string', default: '5' }, screenshots: { type: 'string' } } });
const n = Number(values.clients);
const windows = Math.max(1, Number(values.windows));

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

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : undefined; };

const ws = workspace();
try {
  buildExtension();
  const perWindow = [];
  let runner = '?';
  for (let w = 0; w < windows; w++) {
    // A fresh code-server + browser each time: a fresh window, the extension's bundle loaded anew.
    const r = await runInVsCode({ entry: 'bench/vscode/editor-entry.ts', workspace: ws.root, build: false, env: { IPXE_FARM_BENCH_CLIENTS: String(n) }, screenshotDir: w === windows - 1 ? values.screenshots : undefined, onLine: (l) => console.log(`  [window ${w + 1}] ${l}`) });
    runner = r.runner;
    const m = parseMetrics(r.lines);
    if (r.problem || r.counts?.failed !== 0) {
      console.log(`# window ${w + 1} broke: ${r.problem ?? 'the entry failed (see above)'}`);
      process.exitCode = 1;
      continue;
    }
    perWindow.push(m);
    console.log(`window ${w + 1}: ${Object.entries(m).map(([k, v]) => `${k}=${v.value}`).join(' ')}  (load ${os.loadavg()[0].toFixed(2)})`);
  }
  const { name, version } = manifest();
  const vsix = packageVsix(path.join(mkdtempSync(path.join(os.tmpdir(), 'ipxe-farm-vsix-')), `${name}-${version}.vsix`));
  rmSync(path.dirname(vsix.file), { recursive: true, force: true });
  const pick = (k) => median(perWindow.map((m) => m[k]?.value).filter((v) => v !== undefined));
  const row = (label, value, unit, target) => console.log(`${label.padEnd(36)} ${value === undefined ? '         -' : String(value.toFixed(1)).padStart(10)} ${unit.padEnd(3)} ${target ? `(target ≤ ${target} ${unit}${value === undefined ? ': not measured' : value > target ? ': MISSED' : ': met'})` : ''}`);
  console.log(`\n# iPXE Farm editor benchmark: ${n} clients, ${runner}, median of ${perWindow.length} fresh windows; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} CPUs`);
  console.log('# activation: VS Code\'s own figure in Running Extensions (loading the bundle + the activate() call), in a fresh window');
  console.log('# first on-page render: pointerdown of a real click on the iPXE Farm activity-bar icon → first animation frame after the');
  console.log('#   Clients row "dut0" is in the DOM (page clock; extension active and farm read, window idle)');
  row('activation_ms (VS Code, with load)', pick('activation_vscode_ms'), 'ms', 150);
  row('activate_call_ms (activate() only)', pick('activate_call_ms'), 'ms');
  row('first_farm_read_ms', pick('first_farm_read_ms'), 'ms');
  row('clients_tree_first_render_ms (page)', pick('clients_tree_first_render_page_ms'), 'ms', 300);
  row('clients_tree_first_dom_ms (page)', pick('clients_tree_first_dom_page_ms'), 'ms');
  row('clients_tree_provider_ms', pick('clients_tree_provider_ms'), 'ms');
  row('clients_tree_refresh_host_ms', pick('clients_tree_refresh_host_ms'), 'ms');
  row('clients_tree_after_save_ms', pick('clients_tree_after_save_ms'), 'ms');
  row('farm_read_ms', pick('farm_read_ms'), 'ms');
  row('vsix_size', vsix.bytes / 1024, 'KiB', 1536);
  if (perWindow.length < windows) process.exitCode = 1;
} finally {
  removeBundles();
  rmSync(ws.dir, { recursive: true, force: true });
}
