import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { tempFarm } from '../../support/farm';
import { updateFarm } from '../../../src/core/farm/load';
import { validateFarm } from '../../../src/core/farm/validate';
import { loadBootState } from '../../../src/core/boot/state';
import { checkFarmWithBoot } from '../../../src/core/boot/check';
import { explainBoot } from '../../../src/core/boot/explain';
import { answer } from '../../../src/core/boot/handler';
import { parseSecretFileArg } from '../../../src/core/boot/mappings';
import { SecretFileService } from '../../../src/core/boot/secretFiles';
import { TOKEN_PATTERN } from '../../../src/core/boot/tokens';
import { bootFarm, FP1, FP2 } from './fixtures';
import { parseIpxeScript } from './ipxeParse';

const MINIO = 'bbz,,0028ce,K002rf/Phk1mb+q1s';

function req(url: string, fp?: string, method = 'GET'): IncomingMessage {
  const h: Record<string, string[]> = { 'x-ssl-client-verify': ['SUCCESS'] };
  if (fp) h['x-ssl-client-fingerprint'] = [fp];
  return { url, method, headersDistinct: h } as unknown as IncomingMessage;
}

async function secretFarm(): Promise<string> {
  const root = await tempFarm();
  await bootFarm(root);
  await updateFarm(root, (raw) => {
    const p = raw.profiles as Record<string, Record<string, unknown>>;
    p.linux!.secretFiles = [
      { path: '/run/secrets/minio.env', content: 'MINIO_SECRET={{secret.minio}}\nHOST={{client.name}} DISK={{client.vars.disk}}\n' },
      { path: '/etc/farm/token', content: '{{secret.token}}', mode: '0640' },
    ];
  });
  return root;
}

test('validator: secret file paths must be absolute plain paths, modes octal, each path once; problems at their JSON pointer', () => {
  const farm = (files: unknown, boot?: unknown) => validateFarm({ name: 'f', profiles: { p: { kernel: 'k', secretFiles: files } }, ...(boot === undefined ? {} : { boot }) });
  const ok = farm([{ path: '/run/secrets/a.env', content: 'x' }, { path: '/run/secrets/b', content: '', mode: '0640' }]);
  assert.deepEqual(ok.issues, []);
  assert.deepEqual(ok.farm.profiles.p!.secretFiles, [{ path: '/run/secrets/a.env', content: 'x' }, { path: '/run/secrets/b', content: '', mode: '0640' }]);
  const bad = farm([
    { path: 'run/x', content: '' }, { path: '/run/../etc/shadow', content: '' }, { path: '/run//x', content: '' },
    { path: '/run/a b', content: '' }, { path: '/run/${x}', content: '' }, { path: '/run/x/', content: '' },
    { path: '/run/ok', content: '', mode: '999' }, { path: '/run/ok', content: 3 }, 'nope', { path: '/run/y', content: '', extra: 1 },
  ]);
  const at = (i: number) => bad.issues.filter((x) => x.pointer.startsWith(`/profiles/p/secretFiles/${i}`)).map((x) => x.message).join(' | ');
  assert.match(at(0), /not absolute/);
  assert.match(at(1), /"\.\." part/);
  assert.match(at(2), /"\/\/"/);
  assert.match(at(3), /character other than/);
  assert.match(at(4), /character other than/);
  assert.match(at(5), /ends with \//);
  assert.match(at(6), /three octal digits/);
  assert.match(at(7), /already used by \/profiles\/p\/secretFiles\/6|content must be a string/);
  assert.match(at(8), /must be an object/);
  assert.match(at(9), /unknown key "extra"/);
  assert.equal(bad.issues.find((x) => x.pointer === '/profiles/p/secretFiles/1/path')?.severity, 'error');
  const world = farm([{ path: '/run/s', content: '', mode: '0644' }]);
  assert.deepEqual(world.issues.map((x) => [x.pointer, x.severity]), [['/profiles/p/secretFiles/0/mode', 'warning']]);
  assert.equal(farm('x').issues[0]!.pointer, '/profiles/p/secretFiles');
  assert.equal(farm([], { secretTtl: 0 }).issues[0]!.pointer, '/boot/secretTtl');
  assert.equal(farm([], { secretTtl: 90 }).farm.boot?.secretTtl, 90);
});

test('the CLI\'s PATH[:MODE]=TEMPLATE splits at the first "="', () => {
  assert.deepEqual(parseSecretFileArg('/run/secrets/m.env=A={{secret.m}}\nB=2'), { path: '/run/secrets/m.env', content: 'A={{secret.m}}\nB=2' });
  assert.deepEqual(parseSecretFileArg('/run/k:0640={{secret.k}}'), { path: '/run/k', content: '{{secret.k}}', mode: '0640' });
  assert.throws(() => parseSecretFileArg('/run/k'), /not PATH=TEMPLATE/);
});

test('script: one initrd line per file with the path, mode and mkdir=-1 as iPXE reads them; no secret value in the script', async () => {
  const root = await secretFarm();
  const s = await loadBootState(root);
  const svc = new SecretFileService();
  const a = svc.withTokens(s, answer(s, req('/boot.ipxe', FP1)), req('/boot.ipxe', FP1), new Date());
  assert.equal(a.status, 200);
  const cmds = parseIpxeScript(a.body).commands.filter((c) => c.argv[0] === 'initrd' && c.argv[2] === 'farm-secret0' || c.argv[2] === 'farm-secret1');
  assert.equal(cmds.length, 2);
  const m = /^https:\/\/127\.0\.0\.1:\d+\/secret\/(.+)$/.exec(cmds[0]!.argv[3]!);
  assert.ok(m && TOKEN_PATTERN.test(m[1]!), cmds[0]!.argv[3]);
  assert.deepEqual(cmds[0]!.argv.slice(4), ['/run/secrets/minio.env', 'mode=600', 'mkdir=-1']);
  assert.deepEqual(cmds[1]!.argv.slice(4), ['/etc/farm/token', 'mode=640', 'mkdir=-1']);
  assert.ok(!a.body.includes(MINIO) && !a.body.includes('\u0000'));
  // The kernel command line still carries the fixture's {{secret.token}}: that is the warned-about case.
  const b = svc.withTokens(s, answer(s, req('/boot.ipxe', FP1)), req('/boot.ipxe', FP1), new Date());
  assert.notEqual(a.body, b.body, 'every fetch of the script gets fresh tokens');
});

test('a token is honoured once, only for the certificate that fetched the script, only within the TTL; /why.ipxe says why', async () => {
  const root = await secretFarm();
  await updateFarm(root, (raw) => { raw.boot = { secretTtl: 5 }; });
  const s = await loadBootState(root);
  const svc = new SecretFileService();
  const t0 = new Date('2030-01-01T00:00:00Z');
  const tokensOf = (body: string) => [...body.matchAll(/\/secret\/([A-Za-z0-9_-]{43})/g)].map((m) => m[1]!);
  const [t1, t2] = tokensOf(svc.withTokens(s, answer(s, req('/boot.ipxe', FP1), t0), req('/boot.ipxe', FP1), t0).body);
  // Another client's certificate: refused, and the token still works for its owner.
  const other = svc.answer(s, req(`/secret/${t1}`, FP2), t0)!;
  assert.equal(other.status, 403);
  assert.match(other.event.reason!, /another client certificate/);
  const why = svc.answer(s, req('/why.ipxe', FP2), t0)!;
  assert.equal(why.status, 200);
  assert.match(why.body, /refused a secret file.*\n.*another client certificate/);
  assert.equal(svc.answer(s, req('/why.ipxe', FP2), t0), undefined, 'said once, then /why.ipxe answers as usual');
  const got = svc.answer(s, req(`/secret/${t1}`, FP1), t0)!;
  assert.equal(got.status, 200);
  assert.equal(got.body, `MINIO_SECRET=${MINIO}\nHOST=dut1 DISK=/dev/vda\n`);
  assert.equal(got.event.secretFile, '/run/secrets/minio.env');
  assert.equal(got.event.path, '/secret/…');
  assert.ok(!JSON.stringify(got.event).includes(t1!) && !JSON.stringify(got.event).includes(MINIO));
  const replay = svc.answer(s, req(`/secret/${t1}`, FP1), t0)!;
  assert.equal(replay.status, 410);
  assert.match(replay.event.reason!, /already used/);
  const late = svc.answer(s, req(`/secret/${t2}`, FP1), new Date(t0.getTime() + 6000))!;
  assert.equal(late.status, 410);
  assert.match(late.event.reason!, /expired/);
  assert.equal(svc.answer(s, req(`/secret/${'A'.repeat(43)}`, FP1), t0)!.status, 404);
  assert.equal(svc.answer(s, req('/secret/short', FP1), t0)!.status, 404);
  assert.equal(svc.tokens.served, 1);
});

test('a certificate revoked after the script was fetched gets no secret file', async () => {
  const root = await secretFarm();
  let s = await loadBootState(root);
  const svc = new SecretFileService();
  const body = svc.withTokens(s, answer(s, req('/boot.ipxe', FP1)), req('/boot.ipxe', FP1), new Date()).body;
  const token = /\/secret\/([A-Za-z0-9_-]{43})/.exec(body)![1]!;
  const { writeIndex, record } = await import('./fixtures');
  writeIndex(root, [record('dut1', '1A', FP1, { status: 'revoked', revokedAt: '2026-01-02T00:00:00Z' }), record('dut2', '1B', FP2)]);
  s = await loadBootState(root);
  const r = svc.answer(s, req(`/secret/${token}`, FP1), new Date())!;
  assert.equal(r.status, 403);
  assert.match(r.event.reason!, /revoked/);
});

test('check warns on a secret on the command line, at the cmdline; explain and script mask secret files', async () => {
  const root = await secretFarm();
  const issues = await checkFarmWithBoot(root);
  const warn = issues.filter((i) => i.severity === 'warning');
  assert.ok(warn.some((w) => w.pointer === '/profiles/linux/cmdline' && /\{\{secret\.token\}\}.*\/proc\/cmdline/.test(w.message)), JSON.stringify(warn));
  assert.ok(warn.some((w) => w.pointer === '/profiles/rescue/cmdline'));
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  await updateFarm(root, (raw) => { ((raw.profiles as Record<string, Record<string, unknown>>).linux!.secretFiles as Array<Record<string, unknown>>)[0]!.content = '{{secret.nope}}'; });
  const missing = (await checkFarmWithBoot(root)).filter((i) => i.severity === 'error');
  assert.equal(missing[0]?.pointer, '/profiles/linux/secretFiles/0/content');
  assert.match(missing[0]!.message, /no secret "nope"/);
  await updateFarm(root, (raw) => { ((raw.profiles as Record<string, Record<string, unknown>>).linux!.secretFiles as Array<Record<string, unknown>>)[0]!.content = 'K={{secret.minio}}'; });
  const e = await explainBoot(root, 'dut1');
  assert.ok(!e.script!.includes(MINIO) && !e.script!.includes('\u0000'));
  assert.match(e.script!, /\/secret\/<one-time-token> \/run\/secrets\/minio\.env mode=600/);
  assert.deepEqual(e.secretFiles![0], { path: '/run/secrets/minio.env', mode: '0600', content: 'K=••••••' });
  assert.ok(e.warnings!.some((w) => /\/proc\/cmdline/.test(w)));
  assert.equal((await explainBoot(root, 'dut1', { reveal: true })).secretFiles![0]!.content, `K=${MINIO}`);
});
