import { ArchKernel, Farm, FARM_VERSION, NAME_PATTERN, NAME_RULE, Profile, starterFarm } from './model';
import { archFacts, CLIENT_ARCHES, clientArch, CPU_ARCHES, CpuArch } from './arch';
import { profileKernel } from './profileKernel';
import { validateSecretFiles, validateSecretTtl } from './secretFiles';
import { checkConsole, checkPower } from './validateBoard';
import { emptyTable, hasOwnName } from './table';
import { isHostName } from '../net/hostName';
import type { FarmIssue } from './issue';

export type { FarmIssue };

export type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Checker {
  issues: FarmIssue[] = [];
  error(pointer: string, message: string): void { this.issues.push({ pointer, message, severity: 'error' }); }
  warn(pointer: string, message: string): void { this.issues.push({ pointer, message, severity: 'warning' }); }

  obj(v: unknown, p: string): Obj {
    if (isObj(v)) return v;
    this.error(p, `${p || 'the farm file'} must be an object.`);
    return {};
  }
  str(o: Obj, key: string, p: string, fallback?: string): string {
    const v = o[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === 'string' && v.length > 0) return v;
    this.error(`${p}/${key}`, `${p}/${key} must be a non-empty string.`);
    return fallback ?? '';
  }
  optStr(o: Obj, key: string, p: string): string | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    this.error(`${p}/${key}`, `${p}/${key} must be a string.`);
    return undefined;
  }
  int(o: Obj, key: string, p: string, min: number, max: number, fallback: number): number {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    this.error(`${p}/${key}`, `${p}/${key} must be a whole number from ${min} to ${max}.`);
    return fallback;
  }
  bool(o: Obj, key: string, p: string, fallback: boolean): boolean {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v === 'boolean') return v;
    this.error(`${p}/${key}`, `${p}/${key} must be true or false.`);
    return fallback;
  }
  strs(o: Obj, key: string, p: string): string[] {
    const v = o[key];
    if (v === undefined) return [];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    this.error(`${p}/${key}`, `${p}/${key} must be a list of strings.`);
    return [];
  }
  oneOf<T extends string>(o: Obj, key: string, p: string, allowed: readonly T[], fallback: T): T {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    this.error(`${p}/${key}`, `${p}/${key} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}.`);
    return fallback;
  }
  name(n: string, p: string, what: string): void {
    if (!NAME_PATTERN.test(n)) this.error(p, `The ${what} name "${n}" is not allowed: ${NAME_RULE}.`);
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Normalise a MAC to iPXE's `${mac}` form (lowercase, colons); undefined when it is not a MAC. */
export function normaliseMac(mac: string): string | undefined {
  const hex = mac.trim().toLowerCase().replace(/[-:.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/**
 * Check the farm file in full and collect every problem at once (the editor shows them all, the CLI prints them all).
 * Missing optional sections take the starter's defaults, so a hand-written minimal file works.
 */
export function validateFarm(raw: unknown): { farm: Farm; issues: FarmIssue[] } {
  const c = new Checker();
  const root = c.obj(raw, '');
  const name = c.str(root, 'name', '', 'farm');
  const d = starterFarm(name);
  if (root.version !== undefined && root.version !== FARM_VERSION) {
    c.error('/version', `This farm file is version ${String(root.version)}; this iPXE Farm reads version ${FARM_VERSION}.`);
  }

  const ca = c.obj(root.ca ?? {}, '/ca');
  const keyBits = c.int(ca, 'keyBits', '/ca', 2048, 4096, d.ca.keyBits);
  if (![2048, 3072, 4096].includes(keyBits)) c.error('/ca/keyBits', '/ca/keyBits must be 2048, 3072 or 4096.');
  const server = c.obj(root.server ?? {}, '/server');
  const nginx = c.obj(root.nginx ?? {}, '/nginx');
  const ipxe = c.obj(root.ipxe ?? {}, '/ipxe');
  const qemu = c.obj(root.qemu ?? {}, '/qemu');

  const farm: Farm = {
    version: FARM_VERSION,
    name,
    ca: {
      commonName: c.str(ca, 'commonName', '/ca', d.ca.commonName),
      organization: c.optStr(ca, 'organization', '/ca') ?? d.ca.organization,
      country: c.optStr(ca, 'country', '/ca'),
      keyBits: keyBits as 2048 | 3072 | 4096,
      caDays: c.int(ca, 'caDays', '/ca', 1, 36500, d.ca.caDays),
      serverDays: c.int(ca, 'serverDays', '/ca', 1, 3650, d.ca.serverDays),
      clientDays: c.int(ca, 'clientDays', '/ca', 1, 3650, d.ca.clientDays),
      codesignDays: c.int(ca, 'codesignDays', '/ca', 1, 3650, d.ca.codesignDays),
    },
    server: {
      address: c.str(server, 'address', '/server', d.server.address),
      names: server.names === undefined ? d.server.names : c.strs(server, 'names', '/server'),
      httpsPort: c.int(server, 'httpsPort', '/server', 1, 65535, d.server.httpsPort),
      httpPort: c.int(server, 'httpPort', '/server', 1, 65535, d.server.httpPort),
    },
    nginx: {
      runtime: c.oneOf(nginx, 'runtime', '/nginx', ['podman', 'local'] as const, d.nginx.runtime),
      image: c.str(nginx, 'image', '/nginx', d.nginx.image),
      container: c.str(nginx, 'container', '/nginx', d.nginx.container),
    },
    ipxe: {
      source: c.optStr(ipxe, 'source', '/ipxe'),
      ref: c.str(ipxe, 'ref', '/ipxe', d.ipxe.ref),
      targets: ipxe.targets === undefined ? d.ipxe.targets : (c.strs(ipxe, 'targets', '/ipxe') as Farm['ipxe']['targets']),
      debug: c.optStr(ipxe, 'debug', '/ipxe'),
      ntp: c.optStr(ipxe, 'ntp', '/ipxe'),
      proxyDhcp: c.bool(ipxe, 'proxyDhcp', '/ipxe', false),
      fastDhcpRetry: c.bool(ipxe, 'fastDhcpRetry', '/ipxe', true),
    },
    qemu: {
      accel: c.oneOf(qemu, 'accel', '/qemu', ['auto', 'kvm', 'tcg'] as const, d.qemu.accel),
      memoryMiB: c.int(qemu, 'memoryMiB', '/qemu', 64, 65536, d.qemu.memoryMiB),
      firmware: c.oneOf(qemu, 'firmware', '/qemu', ['bios', 'efi'] as const, d.qemu.firmware),
    },
    profiles: emptyTable(),
    clients: emptyTable(),
    defaultProfile: c.optStr(root, 'defaultProfile', ''),
  };
  // Both go into every script, the server certificate and nginx's listen line: only a plain address or name loads.
  const host = (v: string, p: string) => {
    if (!isHostName(v)) c.error(p, `${p} ${JSON.stringify(v)} is not an IP address or a DNS name; write it plain, like 10.0.2.2 or boot.lab.example (no port, scheme, brackets, spaces or \${…}).`);
  };
  host(farm.server.address, '/server/address');
  farm.server.names.forEach((n, i) => host(n, `/server/names/${i}`));
  if (farm.server.httpPort === farm.server.httpsPort) {
    c.error('/server/httpPort', `/server/httpPort and /server/httpsPort are both ${farm.server.httpPort}; give them different ports.`);
  }
  farm.ipxe.targets.forEach((t, i) => {
    if (!['iso', 'usb', 'efi'].includes(t)) c.error(`/ipxe/targets/${i}`, `Unknown image target "${t}": use "iso", "usb" or "efi".`);
  });

  const profiles = c.obj(root.profiles ?? {}, '/profiles');
  for (const [pname, praw] of Object.entries(profiles)) {
    const p = `/profiles/${pname}`;
    c.name(pname, p, 'profile');
    const po = c.obj(praw, p);
    const arches = archKernels(c, po, p);
    farm.profiles[pname] = {
      description: c.optStr(po, 'description', p),
      // A profile for other architectures only may leave out the top-level (x86_64) kernel.
      kernel: po.kernel === undefined && Object.keys(arches).length ? '' : c.str(po, 'kernel', p),
      initrds: c.strs(po, 'initrds', p),
      arches,
      cmdline: c.optStr(po, 'cmdline', p) ?? '',
      verify: c.bool(po, 'verify', p, false),
      extra: c.strs(po, 'extra', p),
    };
    if (po.secretFiles !== undefined) {
      const sf = validateSecretFiles(po.secretFiles, `${p}/secretFiles`);
      c.issues.push(...sf.issues);
      farm.profiles[pname]!.secretFiles = sf.files;
    }
  }
  if (root.boot !== undefined) {
    const boot = c.obj(root.boot, '/boot');
    const ttl = validateSecretTtl(boot.secretTtl, '/boot/secretTtl');
    c.issues.push(...ttl.issues);
    farm.boot = boot.secretTtl === undefined ? {} : { secretTtl: ttl.ttl };
  }

  const clients = c.obj(root.clients ?? {}, '/clients');
  const macOwner = new Map<string, string>();
  for (const [cname, craw] of Object.entries(clients)) {
    const p = `/clients/${cname}`;
    c.name(cname, p, 'client');
    const co = c.obj(craw, p);
    const macs: string[] = [];
    c.strs(co, 'macs', p).forEach((m, i) => {
      const norm = normaliseMac(m);
      if (!norm || !MAC.test(norm)) { c.error(`${p}/macs/${i}`, `"${m}" is not a MAC address (write it as 52:54:00:12:34:56).`); return; }
      const other = macOwner.get(norm);
      if (other) c.error(`${p}/macs/${i}`, `MAC ${norm} is already given to client "${other}"; a MAC belongs to one client.`);
      macOwner.set(norm, cname);
      macs.push(norm);
    });
    const varsObj = c.obj(co.vars ?? {}, `${p}/vars`);
    const vars = emptyTable<string>();
    for (const [k, v] of Object.entries(varsObj)) {
      if (typeof v === 'string') vars[k] = v;
      else c.error(`${p}/vars/${k}`, `${p}/vars/${k} must be a string.`);
    }
    const profile = c.optStr(co, 'profile', p);
    if (profile !== undefined && !hasOwnName(farm.profiles, profile)) {
      c.error(`${p}/profile`, `Client "${cname}" uses profile "${profile}", which is not defined under /profiles.`);
    }
    const arch = co.arch === undefined ? undefined : c.oneOf(co, 'arch', p, CLIENT_ARCHES, 'x86_64-bios');
    farm.clients[cname] = { description: c.optStr(co, 'description', p), ...(arch ? { arch } : {}), profile, macs, vars };
    const power = checkPower(c, co.power, `${p}/power`);
    const console = checkConsole(c, co.console, `${p}/console`);
    if (power) farm.clients[cname]!.power = power;
    if (console) farm.clients[cname]!.console = console;
  }
  if (root.metrics !== undefined) {
    const m = c.obj(root.metrics, '/metrics');
    const listen = c.str(m, 'listen', '/metrics', '127.0.0.1:9464');
    if (!/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(listen)) c.error('/metrics/listen', `/metrics/listen "${listen}" must be HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464.`);
    farm.metrics = { listen };
  }
  if (farm.defaultProfile !== undefined && !hasOwnName(farm.profiles, farm.defaultProfile)) {
    c.error('/defaultProfile', `The default profile "${farm.defaultProfile}" is not defined under /profiles.`);
  }
  checkClientKernels(c, farm);
  return { farm, issues: c.issues };
}

/** `/profiles/P/arches`: a kernel per CPU architecture other than the top-level (x86_64) one. */
function archKernels(c: Checker, po: Obj, p: string): NonNullable<Profile['arches']> {
  const out: NonNullable<Profile['arches']> = {};
  if (po.arches === undefined) return out;
  const ao = c.obj(po.arches, `${p}/arches`);
  for (const [cpu, kraw] of Object.entries(ao)) {
    const ap = `${p}/arches/${cpu}`;
    if (!(CPU_ARCHES as readonly string[]).includes(cpu) || cpu === 'x86_64') {
      const others = CPU_ARCHES.filter((a) => a !== 'x86_64').map((a) => `"${a}"`).join(', ');
      c.error(ap, cpu === 'x86_64'
        ? `${ap}: the x86_64 kernel is the profile's own "kernel" and "initrds"; move it there.`
        : `${ap}: unknown architecture "${cpu}"; use ${others}.`);
      continue;
    }
    const ko = c.obj(kraw, ap);
    const k: ArchKernel = { kernel: c.str(ko, 'kernel', ap), initrds: c.strs(ko, 'initrds', ap) };
    const cmdline = c.optStr(ko, 'cmdline', ap);
    if (cmdline !== undefined) k.cmdline = cmdline;
    for (const key of Object.keys(ko)) if (!['kernel', 'initrds', 'cmdline'].includes(key)) c.error(`${ap}/${key}`, `${ap}/${key} is not a setting: an architecture's entry has kernel, initrds and cmdline.`);
    out[cpu as CpuArch] = k;
  }
  return out;
}

/** Every client's profile must have a kernel for the client's CPU: found at load time, not when the board boots. */
function checkClientKernels(c: Checker, farm: Farm): void {
  for (const [cname, client] of Object.entries(farm.clients)) {
    const pname = client.profile ?? farm.defaultProfile;
    const profile = pname === undefined ? undefined : farm.profiles[pname];
    if (!profile) continue;
    const cpu = archFacts(clientArch(farm, cname)).cpu;
    if (profileKernel(profile, cpu)) continue;
    const pointer = client.arch ? `/clients/${cname}/arch` : client.profile ? `/clients/${cname}/profile` : `/clients/${cname}`;
    const fix = cpu === 'x86_64'
      ? `give /profiles/${pname} a "kernel"`
      : `add /profiles/${pname}/arches/${cpu} with its kernel`;
    c.error(pointer, `Client "${cname}" is ${clientArch(farm, cname)}, but profile "${pname}" has no ${cpu} kernel: ${fix}, or give the client another profile.`);
  }
}
