import * as vscode from 'vscode';
import * as path from 'node:path';
import { FarmError, UsageError } from '../../core/errors';
import { setClient } from '../../core/boot';
import {
  crossSign, initCa, isEncryptedKeyPem, issueClients, issueCodesign, issueServer, readPkiIndex, renew, revoke,
  REVOCATION_REASONS, signCsrFile, signFile,
} from '../../core/pki';
import { pkiPaths } from '../../core/pki';
import { farmLayout } from '../../core/farm';
import { setSecret } from '../../core/secrets';
import { colonHex, expiringCerts } from '../model/certItems';
import { checkMacs, checkName, checkSecretValue, parseMacs } from '../model/validation';
import { withFarmProgress } from '../cancel';
import { reloadNginxForCrl } from '../../core/nginx';
import { ask, command, CommandContext, pickClient, refName, refSerial, requireFarm, requireRoot } from './context';
import * as fsp from 'node:fs/promises';
import { CLIENT_ARCHES } from '../../core/farm';

const passKey = (root: string) => `ipxeFarm.caPassphrase:${root}`;

/** The CA key's passphrase from SecretStorage (asked once per farm when the key is encrypted, never logged). */
async function passphrase(c: CommandContext, root: string, caKey: string): Promise<string | undefined> {
  const stored = await c.ext.secrets.get(passKey(root));
  if (stored) return stored;
  const key = await fsp.readFile(caKey, 'utf8').catch(() => '');
  if (!isEncryptedKeyPem(key)) return undefined;
  const typed = await vscode.window.showInputBox({ prompt: 'Passphrase of the farm CA key (kept in VS Code\'s secret storage)', password: true, ignoreFocusOut: true });
  if (typed === undefined) throw new FarmError('The CA key is encrypted and no passphrase was given.', 'Run the command again and type the passphrase.', 'ECANCELED');
  await c.ext.secrets.store(passKey(root), typed);
  return typed;
}

function selection(arg: unknown, all: unknown): unknown[] {
  return Array.isArray(all) && all.length > 0 ? all : [arg];
}

export function pkiCommands(c: CommandContext): vscode.Disposable[] {
  const refresh = () => c.state.refresh();
  return [
    command(c, 'ipxeFarm.createCa', async (opts?: unknown) => {
      requireRoot(c);
      const o = (opts ?? {}) as { passphrase?: string; protect?: boolean };
      let pass = o.passphrase;
      if (pass === undefined && o.protect !== false) {
        const choice = await vscode.window.showQuickPick(['No passphrase (key file 0600)', 'Protect the CA key with a passphrase'], { placeHolder: 'The CA private key' });
        if (choice === undefined) return undefined;
        if (choice.startsWith('Protect')) {
          pass = await vscode.window.showInputBox({ prompt: 'New CA key passphrase (at least 8 characters; kept in VS Code\'s secret storage)', password: true, ignoreFocusOut: true, validateInput: (v) => (v.length >= 8 ? undefined : 'Use at least 8 characters.') });
          if (pass === undefined) return undefined;
        }
      }
      // Opened after the questions, so the CA is made from the farm file as it is now.
      const h = await requireFarm(c);
      const rec = await withFarmProgress('Creating the farm CA', () => initCa(h, { passphrase: pass }));
      if (pass) await c.ext.secrets.store(passKey(h.root), pass);
      c.out.farm.info(`CA created: ${rec.subject}, serial ${rec.serial}`);
      await refresh();
      void vscode.window.showInformationMessage(`Farm CA created: ${rec.subject}. Next: Issue Server Certificate.`);
      return rec;
    }),
    command(c, 'ipxeFarm.issueServer', async () => {
      const h = await requireFarm(c);
      const rec = await withFarmProgress('Issuing the server certificate', async () => issueServer(h, { passphrase: await passphrase(c, h.root, h.pki.caKey) }));
      c.out.farm.info(`Server certificate issued: serial ${rec.serial}`);
      await refresh();
      return rec;
    }),
    command(c, 'ipxeFarm.issueCodesign', async () => {
      const h = await requireFarm(c);
      const rec = await withFarmProgress('Issuing the code-signing certificate', async () => issueCodesign(h, { passphrase: await passphrase(c, h.root, h.pki.caKey) }));
      c.out.farm.info(`Code-signing certificate issued: serial ${rec.serial}`);
      await refresh();
      return rec;
    }),
    command(c, 'ipxeFarm.addClient', async (opts?: unknown) => {
      const loaded = await requireFarm(c);
      const o = (opts ?? {}) as { name?: string; macs?: string[]; profile?: string; arch?: string };
      const taken = Object.keys(loaded.farm.clients);
      const name = o.name ?? await ask('Client name (its certificate CN and file names)', checkName('client', taken), { placeHolder: 'dut1' });
      if (!name) return undefined;
      const err = checkName('client', taken)(name);
      if (err) throw new UsageError(err);
      const macText = o.macs ? o.macs.join(' ') : await ask('MAC addresses (optional, space or comma separated)', checkMacs, { placeHolder: '52:54:00:12:34:56' });
      if (macText === undefined) return undefined;
      // The architecture decides the image, the QEMU machine and the kernel the profile serves.
      let arch = o.arch;
      if (arch === undefined && !o.name) {
        const fallback = `x86_64-${loaded.farm.qemu.firmware}`;
        const pick = await vscode.window.showQuickPick([fallback, ...CLIENT_ARCHES.filter((a) => a !== fallback)].map((a) => ({ label: a, description: a === fallback ? 'farm default' : undefined })), { placeHolder: 'Architecture (CPU and firmware)' });
        if (!pick) return undefined;
        arch = pick.label === fallback ? undefined : pick.label;
      }
      const profiles = Object.keys(loaded.farm.profiles);
      const profile = o.profile ?? (profiles.length && !o.name ? await vscode.window.showQuickPick(['(farm default)', ...profiles], { placeHolder: 'Boot profile' }) : undefined);
      // As `client set --allow-missing`: a profile's kernel or secret may come later (the Problems panel lists it);
      // anything else the boot service could not serve is refused.
      const missing: string[] = [];
      await setClient(loaded.layout.root, name, { profile: profile && profile !== '(farm default)' ? profile : undefined, arch, macs: parseMacs(macText) }, { create: true, allowMissing: true, onMissing: (s) => missing.push(s) });
      for (const s of missing) c.out.farm.warn(s);
      if (missing.length) void vscode.window.showWarningMessage(`Client ${name} added, but it is refused at boot until this is fixed: ${missing[0]}`);
      c.out.farm.info(`Client ${name} added to the farm file`);
      await refresh();
      return name;
    }),
    command(c, 'ipxeFarm.issueClient', async (arg?: unknown, all?: unknown) => {
      const loaded = await requireFarm(c);
      let names = selection(arg, all).map((a) => refName(a)).filter((n): n is string => !!n);
      if (Array.isArray(arg)) names = arg.map((a) => refName(a)).filter((n): n is string => !!n);
      if (names.length === 0) {
        const picked = await pickClient(loaded, 'Issue a client certificate for…');
        if (!picked) return undefined;
        names = [picked];
      }
      const pass = await passphrase(c, loaded.root, loaded.pki.caKey);
      const recs = await withFarmProgress(names.length > 1 ? `Issuing ${names.length} client certificates` : `Issuing the certificate of ${names[0]}`, async (signal, report) => {
        // In batches, so a bulk issue shows progress and can be cancelled between batches.
        const out = [];
        for (let i = 0; i < names.length; i += 25) {
          if (signal.aborted) throw new FarmError(`Cancelled after ${out.length} of ${names.length} certificates.`, undefined, 'ECANCELED');
          out.push(...await issueClients(loaded, names.slice(i, i + 25), { passphrase: pass }));
          report(`${out.length} / ${names.length}`, (100 * Math.min(25, names.length - i)) / names.length);
        }
        return out;
      });
      c.out.farm.info(`Client certificates issued: ${recs.map((r) => `${r.name} #${r.serial}`).join(', ')}`);
      await refresh();
      return recs.length === 1 ? recs[0] : recs;
    }),
    command(c, 'ipxeFarm.revoke', async (arg?: unknown, opts?: unknown) => {
      const root = requireRoot(c);
      let target = refSerial(arg) ?? refName(arg);
      if (!target) {
        const idx = await readPkiIndex(root);
        const pick = await vscode.window.showQuickPick(idx.records.filter((r) => r.status === 'valid' && r.kind !== 'root').map((r) => ({ label: r.name, description: `#${r.serial} ${r.kind}`, serial: r.serial })), { placeHolder: 'Revoke which certificate?' });
        if (!pick) return undefined;
        target = pick.serial;
      }
      const o = (opts ?? {}) as { reason?: string; confirmed?: boolean };
      let reason = o.reason;
      if (!o.confirmed) {
        const r = await vscode.window.showQuickPick(Object.keys(REVOCATION_REASONS), { placeHolder: `Revoke ${target}: reason (nginx is reloaded and refuses it at once)` });
        if (!r) return undefined;
        reason = r;
      }
      // A folder, not an opened farm: revocation works whatever mistake the farm file holds (see pkiIndexTransaction).
      const rec = await revoke(root, target, { reason, passphrase: await passphrase(c, root, pkiPaths(farmLayout(root)).caKey) });
      const nginx = await reloadNginxForCrl(root);
      c.out.farm.info(`Revoked ${rec.name} #${rec.serial} (${reason ?? 'unspecified'}); CRL republished; ${nginx.message}`);
      if (!nginx.ok) void vscode.window.showWarningMessage(`Revoked ${rec.name}, but ${nginx.message}`);
      await refresh();
      return rec;
    }),
    command(c, 'ipxeFarm.renew', async (arg?: unknown) => {
      const h = await requireFarm(c);
      const target = refSerial(arg) ?? refName(arg) ?? await ask('Renew which certificate (name or serial)?', (v) => (v ? undefined : 'Type a name or serial.'));
      if (!target) return undefined;
      const rec = await withFarmProgress(`Renewing ${target}`, async () => renew(h, target, { passphrase: await passphrase(c, h.root, h.pki.caKey) }));
      c.out.farm.info(`Renewed ${rec.name}: new serial ${rec.serial}`);
      await refresh();
      return rec;
    }),
    command(c, 'ipxeFarm.signFile', async (arg?: unknown) => {
      const h = await requireFarm(c);
      const file = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg
        : (await vscode.window.showOpenDialog({ defaultUri: vscode.Uri.file(h.layout.files), openLabel: 'Sign', canSelectMany: false }))?.[0]?.fsPath;
      if (!file) return undefined;
      const sig = await withFarmProgress(`Signing ${path.basename(file)}`, () => signFile(h, file));
      c.out.farm.info(`Signed ${file} → ${sig}`);
      void vscode.window.showInformationMessage(`Signature written: ${path.relative(h.root, sig)} (for imgverify).`);
      return sig;
    }),
    command(c, 'ipxeFarm.signCsr', async (arg?: unknown) => {
      requireRoot(c);
      const file = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg
        : (await vscode.window.showOpenDialog({ openLabel: 'Sign request', filters: { 'Certificate requests': ['csr', 'pem', 'req'] } }))?.[0]?.fsPath;
      if (!file) return undefined;
      const h = await requireFarm(c);
      const rec = await signCsrFile(h, file, { passphrase: await passphrase(c, h.root, h.pki.caKey) });
      c.out.farm.info(`Signed CSR ${file}: ${rec.subject} #${rec.serial}`);
      await refresh();
      return rec;
    }),
    command(c, 'ipxeFarm.crossSign', async (arg?: unknown) => {
      requireRoot(c);
      const file = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg
        : (await vscode.window.showOpenDialog({ openLabel: 'Cross-sign root', filters: { Certificates: ['crt', 'pem', 'cer'] } }))?.[0]?.fsPath;
      if (!file) return undefined;
      const h = await requireFarm(c);
      const rec = await crossSign(h, await fsp.readFile(file), { passphrase: await passphrase(c, h.root, h.pki.caKey) });
      c.out.farm.info(`Cross-signed ${rec.subject} #${rec.serial}`);
      await refresh();
      return rec;
    }),
    command(c, 'ipxeFarm.showExpiring', async () => {
      const root = requireRoot(c);
      const list = expiringCerts(await readPkiIndex(root), Date.now());
      if (list.length === 0) { void vscode.window.showInformationMessage('No certificate ends within 30 days.'); return list; }
      void vscode.window.showQuickPick(list.map((r) => ({ label: r.name, description: `${r.kind} #${r.serial}`, detail: `ends ${r.notAfter}` })), { placeHolder: `${list.length} certificate(s) end within 30 days: renew them from the CA tree` });
      return list;
    }),
    command(c, 'ipxeFarm.copyFingerprint', async (arg?: unknown) => {
      const root = requireRoot(c);
      const serial = refSerial(arg);
      const idx = await readPkiIndex(root);
      const rec = idx.records.find((r) => r.serial === serial) ?? idx.records.find((r) => r.kind === 'root');
      if (!rec) throw new FarmError('There is no certificate to copy a fingerprint from.', 'Create the CA first.', 'ENOCA');
      const text = `SHA-256 ${colonHex(rec.sha256)}`;
      await vscode.env.clipboard.writeText(text);
      void vscode.window.showInformationMessage(`Copied the SHA-256 fingerprint of ${rec.name} #${rec.serial}.`);
      return text;
    }),
    command(c, 'ipxeFarm.setSecret', async (opts?: unknown) => {
      const root = requireRoot(c);
      const o = (opts ?? {}) as { name?: string; value?: string };
      const name = o.name ?? await ask('Secret name (profiles use it as {{secret.NAME}})', checkName('secret'));
      if (!name) return undefined;
      const value = o.value ?? await vscode.window.showInputBox({ prompt: `Value of secret "${name}" (not shown, not logged)`, password: true, ignoreFocusOut: true, validateInput: checkSecretValue });
      if (value === undefined) return undefined;
      await setSecret(root, name, value);
      c.out.farm.info(`Secret ${name} set`); // the name only, never the value
      await refresh();
      return name;
    }),
  ];
}

