import { FarmError } from '../errors';

/**
 * Writes EFI variables into an OVMF variable store file (OVMF_VARS*.fd), so a stock iPXE trusts the farm CA: iPXE
 * reads the `TlsCaCertificate` variable at start-up and trusts the X.509 certificates in it (DESIGN.md §6).
 *
 * The file is a firmware volume (EFI_FIRMWARE_VOLUME_HEADER, signature "_FVH") whose first region is a variable store
 * (VARIABLE_STORE_HEADER, authenticated-variable format) followed by fault-tolerant-write space we do not touch.
 * Variables follow the store header, each 4-byte aligned; unused space is 0xFF. A variable is added by writing it
 * where the free space begins; an older copy of the same variable is marked deleted, as the firmware itself does.
 */

/** GUIDs in the mixed-endian byte order EFI stores them. */
export function guidBytes(guid: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid);
  if (!m) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.alloc(16);
  b.writeUInt32LE(parseInt(m[1]!, 16), 0);
  b.writeUInt16LE(parseInt(m[2]!, 16), 4);
  b.writeUInt16LE(parseInt(m[3]!, 16), 6);
  Buffer.from(m[4]! + m[5]!, 'hex').copy(b, 8);
  return b;
}

export const GUIDS = {
  systemNvDataFv: 'fff12b8d-7696-4c8b-a985-2747075b4f50',
  authenticatedVariable: 'aaf32c78-947b-439a-a180-2e144ec37792',
  variable: 'ddcf3616-3275-4164-98b6-fe85707ffe7d',
  tlsCaCertificate: 'fd2340d0-3dab-4349-a6c7-3b4f12b48eae',
  certX509: 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072',
} as const;

export const EFI_VARIABLE_NON_VOLATILE = 0x1;
export const EFI_VARIABLE_BOOTSERVICE_ACCESS = 0x2;
export const EFI_VARIABLE_RUNTIME_ACCESS = 0x4;

const VARIABLE_DATA = 0x55aa;
const VAR_ADDED = 0x3f;
const VAR_DELETED = 0xfd; // state &= VAR_DELETED
const VAR_IN_DELETED_TRANSITION = 0xfe;
const STORE_FORMATTED = 0x5a;
const STORE_HEALTHY = 0xfe;
const STORE_HEADER_SIZE = 28;
const AUTH_HEADER_SIZE = 60;
const PLAIN_HEADER_SIZE = 32;

const align4 = (n: number) => (n + 3) & ~3;

/** An EFI_SIGNATURE_LIST of X.509 certificates (one list per certificate, as firmware setup screens write them). */
export function x509SignatureLists(dersOfCerts: Buffer[], owner = '00000000-0000-0000-0000-000000000000'): Buffer {
  return Buffer.concat(dersOfCerts.map((der) => {
    const head = Buffer.alloc(28);
    guidBytes(GUIDS.certX509).copy(head, 0);
    const sigSize = 16 + der.length;
    head.writeUInt32LE(28 + sigSize, 16); // SignatureListSize
    head.writeUInt32LE(0, 20); // SignatureHeaderSize
    head.writeUInt32LE(sigSize, 24); // SignatureSize
    return Buffer.concat([head, guidBytes(owner), der]);
  }));
}

export interface VariableStore {
  /** Offset of the first variable header. */
  start: number;
  /** Offset just past the variable store region. */
  end: number;
  authenticated: boolean;
}

function invalid(what: string, why: string): FarmError {
  return new FarmError(`${what} is not an OVMF variable store: ${why}.`, 'Use OVMF_VARS.fd or OVMF_VARS_4M.fd from Debian\'s ovmf package, or AAVMF_VARS.fd from qemu-efi-aarch64.', 'EBADVARS');
}

export function locateStore(fd: Buffer, what = 'The variable file'): VariableStore {
  if (fd.length < 0x100) throw invalid(what, 'it is too small');
  if (fd.toString('latin1', 0x28, 0x2c) !== '_FVH') throw invalid(what, 'no firmware volume signature');
  if (!fd.subarray(0x10, 0x20).equals(guidBytes(GUIDS.systemNvDataFv))) throw invalid(what, 'the firmware volume is not an NV data volume');
  const headerLength = fd.readUInt16LE(0x30);
  const storeGuid = fd.subarray(headerLength, headerLength + 16);
  const authenticated = storeGuid.equals(guidBytes(GUIDS.authenticatedVariable));
  if (!authenticated && !storeGuid.equals(guidBytes(GUIDS.variable))) throw invalid(what, 'unknown variable store format');
  const size = fd.readUInt32LE(headerLength + 16);
  if (fd[headerLength + 20] !== STORE_FORMATTED || fd[headerLength + 21] !== STORE_HEALTHY) throw invalid(what, 'the store is not formatted and healthy');
  const end = headerLength + size;
  if (end > fd.length) throw invalid(what, 'the store is larger than the file');
  return { start: align4(headerLength + STORE_HEADER_SIZE), end, authenticated };
}

export interface StoredVariable {
  offset: number;
  state: number;
  attributes: number;
  name: string;
  guid: Buffer;
  data: Buffer;
  /** Offset of the next header. */
  next: number;
}

export function listVariables(fd: Buffer, store = locateStore(fd)): StoredVariable[] {
  const out: StoredVariable[] = [];
  const hs = store.authenticated ? AUTH_HEADER_SIZE : PLAIN_HEADER_SIZE;
  let off = store.start;
  while (off + hs <= store.end && fd.readUInt16LE(off) === VARIABLE_DATA) {
    const state = fd[off + 2]!;
    const attributes = fd.readUInt32LE(off + 4);
    const [nameSize, dataSize, guidAt] = store.authenticated
      ? [fd.readUInt32LE(off + 36), fd.readUInt32LE(off + 40), off + 44]
      : [fd.readUInt32LE(off + 8), fd.readUInt32LE(off + 12), off + 16];
    const nameAt = off + hs;
    const dataAt = nameAt + nameSize;
    const next = align4(dataAt + dataSize);
    if (next > store.end) throw invalid('The variable file', `a variable at ${off} runs past the store`);
    out.push({
      offset: off, state, attributes,
      name: fd.toString('utf16le', nameAt, nameAt + nameSize).replace(/\0+$/, ''),
      guid: Buffer.from(fd.subarray(guidAt, guidAt + 16)),
      data: Buffer.from(fd.subarray(dataAt, dataAt + dataSize)),
      next,
    });
    off = next;
  }
  return out;
}

/** Live variables (added and not deleted), by name and GUID. */
export function readVariable(fd: Buffer, name: string, guid: string): StoredVariable | undefined {
  const g = guidBytes(guid);
  return listVariables(fd).filter((v) => (v.state === VAR_ADDED || v.state === (VAR_ADDED & VAR_IN_DELETED_TRANSITION)) && v.name === name && v.guid.equals(g)).pop();
}

/** A copy of the store with `name` set to `data` (any older copy marked deleted). */
export function setVariable(fd: Buffer, name: string, guid: string, attributes: number, data: Buffer): Buffer {
  const out = Buffer.from(fd);
  const store = locateStore(out);
  const vars = listVariables(out, store);
  const g = guidBytes(guid);
  for (const v of vars) if (v.name === name && v.guid.equals(g)) out[v.offset + 2] = v.state & VAR_DELETED;
  const at = vars.length ? vars[vars.length - 1]!.next : store.start;
  const nameBuf = Buffer.from(`${name}\0`, 'utf16le');
  const hs = store.authenticated ? AUTH_HEADER_SIZE : PLAIN_HEADER_SIZE;
  const total = hs + nameBuf.length + data.length;
  if (at + total > store.end) {
    throw new FarmError(`The OVMF variable store has no room for ${name} (${data.length} bytes).`, 'Start from a pristine OVMF_VARS file.', 'ENOSPC');
  }
  if (!out.subarray(at, at + total).every((b) => b === 0xff)) {
    throw new FarmError('The OVMF variable store\'s free space is not blank; it was written by something this tool does not understand.', 'Start from a pristine OVMF_VARS file.', 'EBADVARS');
  }
  const h = Buffer.alloc(hs);
  h.writeUInt16LE(VARIABLE_DATA, 0);
  h[2] = VAR_ADDED;
  h[3] = 0;
  h.writeUInt32LE(attributes, 4);
  if (store.authenticated) {
    // MonotonicCount (8), TimeStamp (16), PubKeyIndex (4): zero for a variable without time-based authentication.
    h.writeUInt32LE(nameBuf.length, 36);
    h.writeUInt32LE(data.length, 40);
    g.copy(h, 44);
  } else {
    h.writeUInt32LE(nameBuf.length, 8);
    h.writeUInt32LE(data.length, 12);
    g.copy(h, 16);
  }
  Buffer.concat([h, nameBuf, data]).copy(out, at);
  return out;
}

/**
 * Debian's AAVMF_VARS.fd (arm64) ships as 64 MiB of zeros: the firmware formats it on its first boot. This writes
 * what that first boot writes, so the CA can be enrolled without booting: a firmware volume over the first 768 KiB
 * (variable store 256 KiB, fault-tolerant-write working block 256 KiB, spare 256 KiB, as ArmVirtQemu lays them out)
 * with an empty authenticated variable store. The bytes match a store AAVMF formatted itself (DESIGN.md §9).
 * A file that is not all zeros is returned as it is.
 */
export const AAVMF_STORE = { fvLength: 0xc0000, storeSize: 0x40000, blockSize: 0x40000 } as const;
const FTW_WORKING_SIGNATURE = '9e58292b-7c68-497d-a0ce-6500fd9f1b95';

export function isBlankStore(fd: Buffer): boolean {
  // A formatted store has its "_FVH" near the start; a blank one is zeros through the whole variable region.
  return fd.length >= AAVMF_STORE.fvLength && fd.subarray(0, AAVMF_STORE.fvLength).every((b) => b === 0);
}

export function formatBlankStore(fd: Buffer): Buffer {
  if (!isBlankStore(fd)) return fd;
  const out = Buffer.from(fd);
  const { fvLength, storeSize, blockSize } = AAVMF_STORE;
  out.fill(0xff, 0, fvLength);
  const fv = Buffer.alloc(0x48);
  guidBytes(GUIDS.systemNvDataFv).copy(fv, 0x10);
  fv.writeBigUInt64LE(BigInt(fvLength), 0x20);
  fv.write('_FVH', 0x28, 'latin1');
  fv.writeUInt32LE(0xe36, 0x2c); // read/write enabled and status, memory-mapped, erase polarity 1, alignment
  fv.writeUInt16LE(0x48, 0x30);
  fv[0x37] = 2; // revision
  fv.writeUInt32LE(fd.length / blockSize, 0x38); // the block map covers the whole flash, as AAVMF writes it
  fv.writeUInt32LE(blockSize, 0x3c);
  let sum = 0;
  for (let i = 0; i < fv.length; i += 2) sum = (sum + fv.readUInt16LE(i)) & 0xffff;
  fv.writeUInt16LE((0x10000 - sum) & 0xffff, 0x32);
  fv.copy(out, 0);
  const store = Buffer.alloc(STORE_HEADER_SIZE);
  guidBytes(GUIDS.authenticatedVariable).copy(store, 0);
  store.writeUInt32LE(storeSize - 0x48, 16);
  store[20] = STORE_FORMATTED;
  store[21] = STORE_HEALTHY;
  store.copy(out, 0x48);
  // The fault-tolerant-write working block: its CRC is taken with the CRC field and the state byte erased (0xFF).
  const ftw = Buffer.alloc(0x20, 0xff);
  guidBytes(FTW_WORKING_SIGNATURE).copy(ftw, 0);
  ftw.writeBigUInt64LE(BigInt(blockSize - 0x20), 0x18);
  ftw.writeUInt32LE(crc32(ftw), 0x10);
  ftw[0x14] = 0xfe; // WorkingBlockValid
  ftw.copy(out, storeSize);
  return out;
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** The store with the given CA certificates (DER) as TlsCaCertificate, non-volatile and boot-service readable. */
export function enrollTlsCaCertificates(fd: Buffer, caDers: Buffer[]): Buffer {
  if (!caDers.length) throw new FarmError('No CA certificate to enroll.', undefined, 'EINVAL');
  return setVariable(formatBlankStore(fd), 'TlsCaCertificate', GUIDS.tlsCaCertificate, EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS, x509SignatureLists(caDers));
}
