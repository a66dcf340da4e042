import * as fs from 'node:fs';
import * as path from 'node:path';
import { farmLayout } from '../../../src/core/farm/layout';
import { updateFarm } from '../../../src/core/farm/load';
import { pkiPaths } from '../../../src/core/pki/paths';
import type { CertRecord, PkiIndex } from '../../../src/core/pki/types';

/** A PKI index record for pure-logic tests (the real CA writes these in integration tests). */
export function record(name: string, serial: string, sha1: string, extra: Partial<CertRecord> = {}): CertRecord {
  return {
    serial, kind: 'client', name, subject: `CN=${name}`, sha1, sha256: sha1.padEnd(64, '0'),
    notBefore: '2020-01-01T00:00:00Z', notAfter: '2099-01-01T00:00:00Z', status: 'valid',
    certFile: `issued/clients/${name}.crt`, issuedAt: '2020-01-01T00:00:00Z', ...extra,
  };
}

export function writeIndex(root: string, records: CertRecord[]): void {
  const p = pkiPaths(farmLayout(root));
  fs.mkdirSync(path.dirname(p.index), { recursive: true });
  const idx: PkiIndex = { version: 1, nextSerial: '99', records };
  fs.writeFileSync(p.index, JSON.stringify(idx));
}

export const FP1 = 'aa'.repeat(20);
export const FP2 = 'bb'.repeat(20);
export const FP3 = 'cc'.repeat(20);

/** Two clients with their own profile, one revoked certificate, a default profile, files on disk. */
export async function bootFarm(root: string): Promise<void> {
  const layout = farmLayout(root);
  fs.writeFileSync(path.join(layout.files, 'vmlinuz'), 'kernel');
  fs.writeFileSync(path.join(layout.files, 'initrd.img'), 'initrd');
  fs.writeFileSync(layout.secrets, JSON.stringify({ version: 1, secrets: { token: 'S3cr3t-T0ken/+=', minio: 'bbz,,0028ce,K002rf/Phk1mb+q1s' } }), { mode: 0o600 });
  await updateFarm(root, (raw) => {
    raw.profiles = {
      linux: { kernel: 'vmlinuz', initrds: ['initrd.img'], cmdline: 'console=ttyS0 host={{client.name}} mac={{client.mac}} token={{secret.token}} disk={{client.vars.disk}}', verify: false, extra: ['echo booting {{client.name}}'] },
      rescue: { kernel: 'http://mirror.example/rescue/vmlinuz', initrds: [], cmdline: 'rescue b2c.minio={{secret.minio}} ip=${ip}', verify: false, extra: [] },
    };
    raw.clients = {
      dut1: { profile: 'linux', macs: ['52:54:00:12:34:56'], vars: { disk: '/dev/vda' } },
      dut2: { profile: 'rescue', macs: ['52:54:00:12:34:57'], vars: {} },
    };
    raw.defaultProfile = 'rescue';
  });
  writeIndex(root, [record('dut1', '1A', FP1), record('dut2', '1B', FP2), record('old', '1C', FP3, { status: 'revoked', revokedAt: '2026-01-02T00:00:00Z' })]);
}
