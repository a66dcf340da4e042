import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { describeError, FarmError, UsageError } from '../../core/errors';
import { openFarm, type FarmHandle } from '../../core/farm';
import { farmLayout } from '../../core/farm';
import {
  crlStatus, crossSign, expiryReport, fillKeyPool, initCa, keyPoolSettled, isEncryptedKeyPem, issueClients, issueCodesign, issueServer, keyPoolStatus, pkiPaths,
  readPkiIndex, renew, revoke, REVOCATION_REASONS, signCsrFile, signFile, SPARE_TARGET, writeCrl, type CertRecord, type PkiPaths,
} from '../../core/pki';
import { reloadNginxForCrl } from '../../core/nginx';
import type { CliCommand, CliContext, OptionSpec } from '../framework';

const PASS: Record<string, OptionSpec> = {
  'passphrase-stdin': { type: 'boolean', description: 'read the CA key passphrase from the first line of stdin' },
};

/** Read a passphrase from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err); else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new FarmError('Cancelled.', undefined, 'ECANCELED'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function stdinPassphrase(ctx: CliContext): Promise<string> {
  const first = (await ctx.readStdin()).split(/\r?\n/)[0] ?? '';
  if (!first) throw new UsageError('--passphrase-stdin was given but stdin is empty.', 'Pipe the passphrase in, e.g. `pass show farm-ca | ipxe-farm …`.');
  return first;
}

/** The CA passphrase when the CA key is encrypted: from stdin if asked, else from the terminal; never from argv. */
async function caPassphrase(ctx: CliContext, p: PkiPaths, o: Record<string, unknown>): Promise<string | undefined> {
  if (o['passphrase-stdin']) return stdinPassphrase(ctx);
  const pem = await fsp.readFile(p.caKey, 'utf8').catch(() => '');
  if (!isEncryptedKeyPem(pem)) return undefined;
  if (!process.stdin.isTTY) return undefined; // the core then says: encrypted, pass --passphrase-stdin
  return promptHidden('CA key passphrase: ');
}

function daysLeft(r: CertRecord, now = Date.now()): number {
  return Math.floor((Date.parse(r.notAfter) - now) / 86_400_000);
}

function describe(r: CertRecord): string {
  return `${r.kind} "${r.name}" serial ${r.serial}, valid until ${r.notAfter.slice(0, 10)}, SHA-1 ${r.sha1}`;
}

/** Where the current copy of a record's certificate and key live (what nginx and image builds use). */
function currentFiles(p: PkiPaths, r: CertRecord): string[] {
  switch (r.kind) {
    case 'root': return [p.caCert, `${p.caKey} (0600)`];
    case 'server': return [p.serverCert, p.serverChain, `${p.serverKey} (0600)`];
    case 'client': return [p.clientCert(r.name), `${p.clientKey(r.name)} (0600)`];
    case 'codesign': return [p.codesignCert, `${p.codesignKey} (0600)`];
    case 'csr': return [p.csrCert(r.name)];
    case 'cross': return [p.crossCert(r.name)];
  }
}

function report(ctx: CliContext, p: PkiPaths, verb: string, recs: CertRecord[]): void {
  if (ctx.json) { ctx.outJson(recs.length === 1 ? recs[0] : recs); return; }
  for (const r of recs) ctx.out(`${verb} ${describe(r)}\n${currentFiles(p, r).map((f) => `  ${f}`).join('\n')}`);
}

function positiveInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new UsageError(`${flag} must be a whole number of days, not "${String(v)}".`, `For example ${flag} 30.`);
  return n;
}

/** Best effort: the pool only saves time, so a failure to fill it must not turn a done issuance into an error. */
async function topUpPool(ctx: CliContext, h: FarmHandle): Promise<void> {
  // A race's losing key lands in the pool just after issuance returns: count it before making more.
  try { await keyPoolSettled(); await fillKeyPool(h); } catch (err) {
    ctx.info(`No spare keys were made (${describeError(err)}); issuance makes its keys as it goes.`);
  }
}

function one(args: string[], what: string, cmd: string): string {
  if (args.length !== 1) throw new UsageError(`Give exactly one ${what}.`, `Usage: ipxe-farm ${cmd} ${what}`);
  return args[0]!;
}

export const pkiCommands: CliCommand[] = [
  {
    name: 'ca init',
    summary: 'Create the farm\'s root CA (pki/ca.crt, pki/private/ca.key 0600, index, empty CRL).',
    options: {
      ...PASS,
      encrypt: { type: 'boolean', description: 'encrypt the CA key with a passphrase asked on the terminal' },
      'key-bits': { type: 'string', description: 'RSA key size: 2048 (default, best for iPXE), 3072 or 4096' },
    },
    details: 'With --passphrase-stdin or --encrypt the CA key is written as encrypted PKCS#8; every signing command then needs the passphrase.',
    async run(ctx, args, o) {
      if (args.length) throw new UsageError(`ca init takes no arguments (got "${args.join(' ')}").`, 'Run `ipxe-farm ca init`.');
      const h = await openFarm(await ctx.farmRoot());
      let passphrase: string | undefined;
      if (o['passphrase-stdin']) passphrase = await stdinPassphrase(ctx);
      else if (o.encrypt) {
        if (!process.stdin.isTTY) throw new UsageError('--encrypt needs a terminal to ask for the passphrase.', 'Use --passphrase-stdin instead.');
        passphrase = await promptHidden('New CA key passphrase: ');
        if ((await promptHidden('Repeat it: ')) !== passphrase) throw new UsageError('The two passphrases differ.', 'Run the command again.');
      }
      const bits = o['key-bits'] === undefined ? undefined : Number(o['key-bits']);
      if (bits !== undefined && ![2048, 3072, 4096].includes(bits)) throw new UsageError(`--key-bits must be 2048, 3072 or 4096, not "${String(o['key-bits'])}".`);
      const rec = await initCa(h, { passphrase, keyBits: bits as 2048 | 3072 | 4096 | undefined });
      report(ctx, h.pki, 'Created root CA', [rec]);
      if (!ctx.json) ctx.out(`Next: \`ipxe-farm issue server\`, \`ipxe-farm issue client NAME\`. iPXE TRUST= fingerprint (SHA-256): ${rec.sha256}`);
      // After the answer is printed: spare keys, so that the first issuances do not wait for key generation.
      await topUpPool(ctx, h);
    },
  },
  {
    name: 'issue server',
    summary: 'Issue the server certificate (SANs from server.address and server.names) and its chain for nginx.',
    options: { ...PASS },
    async run(ctx, args, o) {
      if (args.length) throw new UsageError('issue server takes no arguments: its names come from server.address and server.names in ipxe-farm.json.');
      const h = await openFarm(await ctx.farmRoot());
      report(ctx, h.pki, 'Issued', [await issueServer(h, { passphrase: await caPassphrase(ctx, h.pki, o) })]);
    },
  },
  {
    name: 'issue client',
    args: 'NAME...',
    summary: 'Issue a client certificate (CN=NAME, clientAuth) and key for each machine named.',
    options: { ...PASS },
    async run(ctx, args, o) {
      if (!args.length) throw new UsageError('Name the client(s) to issue.', 'Usage: ipxe-farm issue client NAME...');
      const h = await openFarm(await ctx.farmRoot());
      report(ctx, h.pki, 'Issued', await issueClients(h, args, { passphrase: await caPassphrase(ctx, h.pki, o) }));
      // The answer is already printed: the key made now is the one the next issuance will not wait for.
      await topUpPool(ctx, h);
    },
  },
  {
    name: 'ca pool',
    summary: `Show the spare-key pool (pki/private/spare): pre-generated client keys that make issuance fast; --fill N tops it up.`,
    options: { fill: { type: 'string', description: `fill the pool up to N usable keys (default target ${SPARE_TARGET}; 0 to 64)` } },
    details: 'Spare keys are protected like issued client keys (0600 in the 0700 pki/private tree) and each is used once. Spares that are not RSA 2048 keys of this farm\'s form are deleted by --fill and never used.',
    async run(ctx, args, o) {
      if (args.length) throw new UsageError(`ca pool takes no arguments (got "${args.join(' ')}").`, 'Run `ipxe-farm ca pool` or `ipxe-farm ca pool --fill N`.');
      let target: number | undefined;
      if (o.fill !== undefined) {
        target = Number(o.fill);
        if (!/^\d+$/.test(String(o.fill)) || target > 64) throw new UsageError(`--fill must be a whole number of keys from 0 to 64, not "${String(o.fill)}".`, `For example --fill ${SPARE_TARGET}.`);
      }
      const h = await openFarm(await ctx.farmRoot());
      const st = target === undefined ? await keyPoolStatus(h) : await fillKeyPool(h, { target });
      if (ctx.json) { ctx.outJson(st); return; }
      const keys = (n: number) => `${n} spare key${n === 1 ? '' : 's'}`;
      if (target !== undefined) ctx.out(`Key pool ${st.dir}: ${keys(st.count)} (added ${st.added}${st.discarded ? `, deleted ${st.discarded} unusable` : ''}).`);
      else ctx.out(`Key pool ${st.dir}: ${keys(st.count)}${st.discarded ? ` and ${st.discarded} unusable (\`ipxe-farm ca pool --fill N\` deletes them)` : ''}; \`ipxe-farm ca pool --fill ${SPARE_TARGET}\` tops it up.`);
    },
  },
  {
    name: 'issue codesign',
    summary: 'Issue the code-signing certificate (digitalSignature + codeSigning) used by `ipxe-farm sign`.',
    options: { ...PASS },
    async run(ctx, args, o) {
      if (args.length) throw new UsageError('issue codesign takes no arguments.');
      const h = await openFarm(await ctx.farmRoot());
      report(ctx, h.pki, 'Issued', [await issueCodesign(h, { passphrase: await caPassphrase(ctx, h.pki, o) })]);
    },
  },
  {
    name: 'sign',
    args: 'FILE...',
    summary: 'Sign files for iPXE imgverify: detached CMS, no signed attributes, DER, written as FILE.sig.',
    options: { out: { type: 'string', description: 'signature path (one FILE only; default FILE.sig)' } },
    async run(ctx, args, o) {
      if (!args.length) throw new UsageError('Name the file(s) to sign.', 'Usage: ipxe-farm sign FILE...');
      if (o.out !== undefined && args.length > 1) throw new UsageError('--out works with one FILE only.');
      const h = await openFarm(await ctx.farmRoot());
      const outs: string[] = [];
      for (const f of args) outs.push(await signFile(h, path.resolve(ctx.cwd, f), { out: o.out ? path.resolve(ctx.cwd, String(o.out)) : undefined }));
      if (ctx.json) ctx.outJson({ signatures: outs });
      else for (const s of outs) ctx.out(`Signed: ${s}`);
    },
  },
  {
    name: 'sign-csr',
    args: 'FILE',
    summary: 'Sign an external certificate request (the key stays with its owner); --profile server --allow-names N,… for SANs beyond the farm\'s names.',
    options: {
      ...PASS,
      name: { type: 'string', description: 'record name (default: from the CSR\'s CN)' },
      profile: { type: 'string', description: 'client (default) or server' },
      days: { type: 'string', description: 'validity in days (default: the farm\'s client/server days)' },
      'allow-names': { type: 'string', description: 'server: also sign these SANs (comma-separated) besides the farm\'s own names' },
    },
    details: `
The record takes the CSR's CN as its name (or --name); a name already used by another certificate (a client, the
server, code signing, another CSR) or by a client in ipxe-farm.json is refused, so revoke and renew never guess.
With --profile server, only the farm's names (server.address and server.names) are signed unless --allow-names
lists the others; the names signed are printed.`,
    async run(ctx, args, o) {
      const file = path.resolve(ctx.cwd, one(args, 'FILE', 'sign-csr'));
      const profile = o.profile ?? 'client';
      if (profile !== 'client' && profile !== 'server') throw new UsageError(`--profile must be client or server, not "${String(profile)}".`);
      const allowNames = typeof o['allow-names'] === 'string' ? o['allow-names'].split(',').map((n) => n.trim()).filter(Boolean) : undefined;
      if (allowNames && profile !== 'server') throw new UsageError('--allow-names only applies to --profile server.', 'Add --profile server, or drop --allow-names.');
      const h = await openFarm(await ctx.farmRoot());
      const rec = await signCsrFile(h, file, {
        name: o.name as string | undefined, profile, days: positiveInt(o.days, '--days'), passphrase: await caPassphrase(ctx, h.pki, o), allowNames,
      });
      report(ctx, h.pki, 'Signed', [rec]);
      if (!ctx.json && rec.altNames) {
        const extra = allowNames?.length ? ` (allowed by --allow-names: ${allowNames.join(', ')})` : '';
        ctx.out(`  names: ${rec.altNames.join(', ')}${extra}`);
      }
    },
  },
  {
    name: 'cross-sign',
    args: 'ROOT.crt',
    summary: 'Cross-sign another root CA so chains ending in it are trusted through the farm CA.',
    options: { ...PASS, name: { type: 'string', description: 'record name (default: from the root\'s CN)' }, days: { type: 'string', description: 'validity in days' } },
    async run(ctx, args, o) {
      const file = path.resolve(ctx.cwd, one(args, 'ROOT.crt', 'cross-sign'));
      const data = await fsp.readFile(file).catch((e: NodeJS.ErrnoException) => { throw new FarmError(`Cannot read ${file}: ${e.code}.`, 'Check the path.', 'ENOENT'); });
      const h = await openFarm(await ctx.farmRoot());
      report(ctx, h.pki, 'Cross-signed', [await crossSign(h, data, { name: o.name as string | undefined, days: positiveInt(o.days, '--days'), passphrase: await caPassphrase(ctx, h.pki, o) })]);
    },
  },
  {
    name: 'revoke',
    args: 'NAME|SERIAL',
    summary: 'Revoke a certificate, republish the CRL (pki/crl.pem, pki/crl.der) and reload the farm\'s running nginx.',
    options: { ...PASS, reason: { type: 'string', description: `one of ${Object.keys(REVOCATION_REASONS).join(', ')}` } },
    async run(ctx, args, o) {
      const target = one(args, 'NAME|SERIAL', 'revoke');
      // A folder, not an opened farm: revocation works whatever mistake the farm file holds (see pkiIndexTransaction).
      const root = await ctx.farmRoot();
      const rec = await revoke(root, target, { reason: o.reason as string | undefined, passphrase: await caPassphrase(ctx, pkiPaths(farmLayout(root)), o) });
      const nginx = await reloadNginxForCrl(root, ctx.signal);
      if (ctx.json) ctx.outJson({ ...rec, nginx });
      else ctx.out(`Revoked ${describe(rec)}; CRL updated; the boot service refuses it at its next request. ${nginx.ok ? nginx.message : ''}`.trim());
      // The revocation is recorded either way; exit 1 says that a running nginx still has the old CRL.
      if (!nginx.ok) { ctx.info(nginx.message); return 1; }
      return 0;
    },
  },
  {
    name: 'renew',
    args: 'NAME|SERIAL',
    summary: 'Re-issue a server, client or code-signing certificate with a new key; the old one is revoked (superseded).',
    options: { ...PASS },
    async run(ctx, args, o) {
      const target = one(args, 'NAME|SERIAL', 'renew');
      const h = await openFarm(await ctx.farmRoot());
      report(ctx, h.pki, 'Renewed:', [await renew(h, target, { passphrase: await caPassphrase(ctx, h.pki, o) })]);
      // The old certificate is revoked (superseded): nginx reads the new CRL now, not at its next restart.
      const nginx = await reloadNginxForCrl(h.root, ctx.signal);
      if (!nginx.ok) { ctx.info(nginx.message); return 1; }
      if (!ctx.json) ctx.info(nginx.message);
      return 0;
    },
  },
  {
    name: 'crl',
    summary: 'Republish the CRL (do it before the current one reaches its next-update date).',
    options: { ...PASS },
    async run(ctx, args, o) {
      if (args.length) throw new UsageError('crl takes no arguments.');
      const root = await ctx.farmRoot();
      const p = pkiPaths(farmLayout(root));
      await writeCrl(root, { passphrase: await caPassphrase(ctx, p, o) });
      if (ctx.json) ctx.outJson({ crlPem: p.crlPem, crlDer: p.crlDer });
      else ctx.out(`Wrote ${p.crlPem} and ${p.crlDer}`);
    },
  },
  {
    name: 'certs',
    summary: 'List the certificates in the PKI index; --expiring DAYS shows only expired or expiring ones.',
    options: {
      expiring: { type: 'string', description: 'only certificates expired or expiring within DAYS' },
      all: { type: 'boolean', description: 'include revoked certificates' },
    },
    async run(ctx, args, o) {
      if (args.length) throw new UsageError('certs takes no arguments.');
      const root = await ctx.farmRoot();
      const index = await readPkiIndex(root);
      const days = positiveInt(o.expiring, '--expiring');
      const now = Date.now();
      let rows: CertRecord[];
      if (days !== undefined) {
        const rep = expiryReport(index, days, new Date(now));
        rows = [...rep.expired, ...rep.expiring].map((e) => e.record);
      } else rows = index.records.filter((r) => o.all || r.status === 'valid');
      const crl = await crlStatus(root);
      const crlSoon = crl && days !== undefined && crl.nextUpdate.getTime() <= now + days * 86_400_000;
      if (ctx.json) {
        ctx.outJson(rows.map((r) => ({ ...r, daysLeft: daysLeft(r, now), expired: Date.parse(r.notAfter) <= now })));
        if (crlSoon) ctx.info(`The CRL's next update is ${crl.nextUpdate.toISOString().slice(0, 10)}: run \`ipxe-farm crl\` before then, or nginx refuses every client.`);
        return;
      }
      if (crlSoon) ctx.out(`CRL: next update ${crl.nextUpdate.toISOString().slice(0, 10)}; run \`ipxe-farm crl\` before then, or nginx refuses every client.`);
      if (!rows.length) {
        ctx.out(days !== undefined ? `Nothing expires within ${days} days.` : 'No certificates yet: run `ipxe-farm ca init`.');
        return;
      }
      const table = rows.map((r) => {
        const left = daysLeft(r, now);
        const state = r.status === 'revoked' ? `revoked (${r.revocationReason ?? 'unspecified'})` : left < 0 ? `EXPIRED ${-left} d ago` : `${left} d left`;
        return [r.serial, r.kind, r.name, r.notAfter.slice(0, 10), state, r.sha1];
      });
      const head = ['SERIAL', 'KIND', 'NAME', 'NOT AFTER', 'STATE', 'SHA-1'];
      const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
      for (const row of [head, ...table]) ctx.out(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
    },
  },
];
