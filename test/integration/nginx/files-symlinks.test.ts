import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { which } from '../../../src/core/process/light';
import { LocalNginxRuntime } from '../../../src/core/nginx/localRuntime';
import { pkiPaths } from '../../../src/core/pki/paths';
import { setSecret } from '../../../src/core/secrets/store';
import { httpGet, nginxTestFarm, NginxTestFarm } from '../../support/nginx';

// Finding 7 of issue 13: nginx followed symlinks under files/, so `files/x -> ../pki/private/ca.key` served the CA key
// whenever nginx's workers could read it. The real nginx, with the generated config, must refuse every link.

const skip = which('nginx') ? undefined : 'SKIPPED LOUDLY: nginx is not installed (apt-get install nginx): symlinks under files/ were NOT checked';
let f: NginxTestFarm;
let rt: LocalNginxRuntime;

before(async () => {
  if (skip) return;
  f = await nginxTestFarm('local');
  rt = new LocalNginxRuntime(f.farm, f.layout);
  await setSecret(f.root, 's3key', 'symlink-test-secret-8c1f');
  await rt.up();
});

after(async () => { await rt?.down().catch(() => undefined); });

test('files/: a plain file is served, and a symlink to a key, to secrets.json, to /etc/passwd or up a folder is refused', async (t) => {
  if (skip) return t.skip(skip);
  const files = f.layout.files;
  fs.writeFileSync(path.join(files, 'vmlinuz'), 'kernel-bytes');
  const port = f.farm.server.httpPort;
  assert.equal((await httpGet(port, '/vmlinuz')).body, 'kernel-bytes');
  const pki = pkiPaths(f.layout);
  const links: Array<[string, string, string]> = [
    ['ca.key', pki.caKey, fs.readFileSync(pki.caKey, 'utf8')],
    ['dut1.key', pki.clientKey('dut1'), fs.readFileSync(pki.clientKey('dut1'), 'utf8')],
    ['secrets.json', f.layout.secrets, 'symlink-test-secret-8c1f'],
    ['passwd', '/etc/passwd', fs.readFileSync('/etc/passwd', 'utf8')],
  ];
  for (const [name, target] of links) fs.symlinkSync(target, path.join(files, name));
  fs.symlinkSync('..', path.join(files, 'up'));
  for (const [name, , content] of links) {
    for (const url of [`/${name}`, `/files/${name}`]) {
      const a = await httpGet(port, url);
      assert.notEqual(a.status, 200, `${url} (-> ${name}) must be refused`);
      assert.ok(!a.body.includes(content.trim().split('\n')[1] ?? content), `${url} must not carry the target's bytes`);
    }
  }
  const up = await httpGet(port, '/up/secrets.json');
  assert.notEqual(up.status, 200);
  assert.ok(!up.body.includes('symlink-test-secret-8c1f'));
});
