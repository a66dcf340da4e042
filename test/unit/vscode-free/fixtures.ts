import { starterFarm, Farm } from '../../../src/core/farm/model';
import type { CertRecord, PkiIndex } from '../../../src/core/pki/types';

export const NOW = Date.parse('2026-06-01T12:00:00Z');
const day = 86_400_000;

export function cert(kind: CertRecord['kind'], name: string, serial: string, daysFromNow: number, extra: Partial<CertRecord> = {}): CertRecord {
  return {
    serial, kind, name, subject: `CN=${name},O=lab`,
    sha1: 'ab'.repeat(20), sha256: 'cd'.repeat(32),
    notBefore: new Date(NOW - 10 * day).toISOString(), notAfter: new Date(NOW + daysFromNow * day + 3_600_000).toISOString(),
    status: 'valid', certFile: kind === 'client' ? `issued/clients/${name}.crt` : `issued/${name}.crt`,
    issuedAt: new Date(NOW - 10 * day).toISOString(), ...extra,
  };
}

export function farmWith(clients: number): Farm {
  const f = starterFarm('lab');
  f.profiles.linux = { kernel: 'vmlinuz', initrds: ['initrd.img'], cmdline: 'console=ttyS0 token={{secret.token}} pw=hunter22', verify: true, extra: [] };
  f.profiles.rescue = { kernel: 'rescue', initrds: [], cmdline: '', verify: false, extra: [] };
  for (let i = 0; i < clients; i++) {
    const hex = i.toString(16).padStart(4, '0');
    f.clients[`dut${i}`] = { profile: i % 10 === 0 ? 'rescue' : 'linux', macs: [`52:54:00:00:${hex.slice(0, 2)}:${hex.slice(2)}`], vars: {} };
  }
  return f;
}

export function indexWith(records: CertRecord[]): PkiIndex {
  return { version: 1, nextSerial: '99', records };
}
