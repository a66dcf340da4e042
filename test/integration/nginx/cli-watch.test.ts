import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../../src/core/fs/atomic';
import { which } from '../../../src/core/process/light';
import { LocalNginxRuntime } from '../../../src/core/nginx/localRuntime';
import { clientIdentity, eventually, httpsGet, nginxTestFarm } from '../../support/nginx';

const repo = path.resolve(__dirname, '..', '..', '..', '..');
const cli = path.join(repo, 'out', 'cli.js');

test('CLI: `nginx watch --up` tests each save (fs.watch), prints FILE:LINE for a broken one without reloading, reloads the fix', async (t) => {
  const skip = !which('nginx') ? 'SKIPPED: nginx is not installed (apt-get install nginx)' : existsSync(cli) ? undefined : 'SKIPPED: out/cli.js is missing (npm run build)';
  if (skip) return t.skip(skip);
  const f = await nginxTestFarm('local');
  const rt = new LocalNginxRuntime(f.farm, f.layout);
  const conf = path.join(f.layout.nginx, 'conf.d', 'ipxe-https.conf');
  const original = readFileSync(conf, 'utf8');
  const withGen = (gen: string, extra = '') => original.replace('    location / {\n', `    location = /gen {\n        return 200 "${gen}";\n    }\n${extra}    location / {\n`);
  const child = spawn(process.execPath, [cli, 'nginx', 'watch', '--up', '--runtime', 'local', '--farm', f.root], { cwd: f.root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    assert.ok(await eventually(async () => err.includes('watching'), 20_000), `watch did not start: ${err}`);
    assert.match(err, /running \(pid \d+\)/);

    const broken = withGen('gen1', '    bogus_directive on;\n');
    const line = broken.split('\n').findIndex((l) => l.includes('bogus_directive')) + 1;
    await writeFileAtomic(conf, broken);
    assert.ok(await eventually(async () => /FAILED, not reloaded/.test(err), 10_000), `no failure reported: ${err}`);
    assert.match(err, new RegExp(`nginx/conf\\.d/ipxe-https\\.conf:${line}: error: unknown directive "bogus_directive"`));
    assert.notEqual((await httpsGet(f.layout, f.farm.server.httpsPort, '/gen', clientIdentity(f.layout, 'dut1'))).body, 'gen1');

    await writeFileAtomic(conf, withGen('gen1'));
    assert.ok(await eventually(async () => /reloaded in \d+ ms/.test(out), 10_000), `no reload reported: ${out}`);
    assert.ok(await eventually(async () => (await httpsGet(f.layout, f.farm.server.httpsPort, '/gen', clientIdentity(f.layout, 'dut1'))).body === 'gen1'));

    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    const status = spawnSync(process.execPath, [cli, 'nginx', 'status', '--runtime', 'local', '--json', '--farm', f.root], { encoding: 'utf8' });
    assert.equal(JSON.parse(status.stdout).state, 'running', 'nginx keeps running after watch stops');

    await writeFileAtomic(conf, broken);
    const test = spawnSync(process.execPath, [cli, 'nginx', 'test', '--runtime', 'local', '--farm', f.root], { encoding: 'utf8', cwd: f.root });
    assert.equal(test.status, 1);
    assert.match(test.stdout, new RegExp(`^nginx/conf\\.d/ipxe-https\\.conf:${line}: error: unknown directive`, 'm'));
    const reload = spawnSync(process.execPath, [cli, 'nginx', 'reload', '--runtime', 'local', '--farm', f.root], { encoding: 'utf8', cwd: f.root });
    assert.equal(reload.status, 1);
    assert.match(reload.stderr, /not reloaded, the running config keeps serving/);
    const down = spawnSync(process.execPath, [cli, 'nginx', 'down', '--runtime', 'local', '--farm', f.root], { encoding: 'utf8' });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /stopped/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rt.down();
  }
});
