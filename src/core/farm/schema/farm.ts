import * as z from 'zod';
import { CLIENT_ARCHES } from '../arch';
import { normaliseMac } from '../mac';
import { isHostName } from '../../net/light';
import { NAME_PATTERN, NAME_RULE } from '../names';
import { nameProblem } from '../names';
import { AT, flag, nonEmpty, NOTES, oneOf, say, sayMissing, table, text, whole } from './fields';
import { ConsoleSchema, PowerSchema } from './board';
import { ProfileSchema } from './profile';

/**
 * The farm file (`ipxe-farm.json`), defined once. Why zod 4 (over TypeBox): this one definition gives the parsed
 * TypeScript type (z.output: what every reader gets, defaults filled), the file's type (z.input), the defaults
 * (applied by parse), issues with paths that map onto the text's positions (jsonc-parser, in load.ts), and, through
 * z.toJSONSchema(..., { io: 'input' }), schemas/ipxe-farm.schema.json that VS Code completes from (`npm run schema`).
 *
 * Sections are lenient objects: a key this version does not know is ignored by the loader (notes, `$comment`, a
 * newer version's settings) but underlined by the editor, whose JSON Schema says additionalProperties: false.
 * Rules that relate two places in the file (references, unique MACs, kernels per client arch) are in crossChecks.ts.
 */

export const FARM_VERSION = 1;
const closed = { additionalProperties: false };

/** The farm's name (and, in the JSON Schema, the rule for profile and client names, which crossChecks.ts applies). */
export const NameSchema = z.string(sayMissing(`${AT} is missing: name the farm (${NAME_RULE}).`, `${AT} must be a non-empty string.`))
  .regex(NAME_PATTERN, { error: (iss) => nameProblem('farm', String(iss.input)) })
  .meta({ id: 'name', patternErrorMessage: `${NAME_RULE.charAt(0).toUpperCase()}${NAME_RULE.slice(1)}.` });

/** Goes into every script, the server certificate and nginx's listen line: only a plain address or name loads. */
const HostSchema = z.string(say(`${AT} must be a string.`))
  .refine(isHostName, { error: (iss) => `${AT} ${JSON.stringify(iss.input)} is not an IP address or a DNS name; write it plain, like 10.0.2.2 or boot.lab.example (no port, scheme, brackets, spaces or \${…}).` })
  .meta({
    id: 'host',
    description: 'An IP address or a DNS name.',
    anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }, { pattern: '^(?![0-9.]+$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$' }],
  });

/** Kept in iPXE's ${mac} form, so every reader compares like with like. */
const MacSchema = z.string(say(`${AT} must be a string.`))
  .meta({ id: 'mac', pattern: '^\\s*[0-9A-Fa-f]{2}([-:.]?[0-9A-Fa-f]{2}){5}\\s*$', patternErrorMessage: 'Write a MAC address as 52:54:00:12:34:56.' })
  .transform((m, ctx) => {
    const mac = normaliseMac(m);
    if (mac === undefined) ctx.issues.push({ code: 'custom', input: m, message: `${JSON.stringify(m)} is not a MAC address (write it as 52:54:00:12:34:56).` });
    return mac ?? m;
  });

const object = <S extends z.core.$ZodLooseShape>(shape: S) => z.object(shape, say(`${AT} must be an object.`));

const CaSchema = object({
  commonName: nonEmpty().optional().meta({ description: 'CN of the root certificate.' }),
  organization: text().optional().meta({ description: 'O= of every certificate.' }),
  country: text().optional().meta({ description: 'C= of every certificate (two letters).' }),
  keyBits: z.literal([2048, 3072, 4096], say(`${AT} must be 2048, 3072 or 4096.`)).default(2048)
    .meta({ description: 'RSA key size. iPXE handles 2048 best: small handshakes.' }),
  caDays: whole(1, 36500).default(3650).meta({ description: 'Validity of the root in days.' }),
  serverDays: whole(1, 3650).default(825).meta({ description: 'Validity of the server certificate in days.' }),
  clientDays: whole(1, 3650).default(365).meta({ description: 'Validity of client certificates in days.' }),
  codesignDays: whole(1, 3650).default(825).meta({ description: 'Validity of the code-signing certificate in days.' }),
}).meta({ ...closed, description: "The farm's private certificate authority." });

const ServerSchema = object({
  address: HostSchema.default('10.0.2.2').meta({ description: 'Address the clients use (QEMU user networking: 10.0.2.2): an IP address or a DNS name, nothing else (no port, scheme or brackets). Always in the server certificate.' }),
  names: z.array(HostSchema, say(`${AT} must be a list of strings.`)).default(['localhost', '127.0.0.1'])
    .meta({ description: 'Every DNS name or IP address the server certificate carries besides the address (plain names and addresses only).' }),
  httpsPort: whole(1, 65535).default(8443).meta({ description: 'Mutual-TLS port (scripts).' }),
  httpPort: whole(1, 65535).default(8080).meta({ description: 'Plain HTTP port (kernels and initrds).' }),
}).meta({ ...closed, description: 'Where iPXE clients reach the farm.' });

const NginxSchema = object({
  runtime: oneOf(['podman', 'local']).default('podman').meta({ description: 'Run nginx in a podman container, or the local nginx binary with a private prefix.' }),
  image: nonEmpty().default('docker.io/library/nginx:latest').meta({ description: 'Container image (podman runtime).' }),
  container: nonEmpty().optional().meta({ description: 'Container name (podman runtime).' }),
}).meta(closed);

const TARGETS = ['iso', 'usb', 'efi'] as const;
const IpxeSchema = object({
  source: text().optional().meta({ description: 'An iPXE source tree; empty: the per-user cache of `ref`.' }),
  ref: nonEmpty().default('v2.0.0').meta({ description: 'iPXE git ref to build.' }),
  targets: z.array(z.enum(TARGETS, { error: (iss) => `Unknown image target ${JSON.stringify(iss.input)}: use "iso", "usb" or "efi".` }), say(`${AT} must be a list of strings.`))
    .default(['iso']).meta({ uniqueItems: true, description: 'Images built per client.' }),
  debug: text().optional().meta({ description: 'iPXE DEBUG= value, e.g. "tls,x509:3".' }),
  ntp: text().optional().meta({ description: 'NTP server set before HTTPS: iPXE checks certificate validity against its clock.' }),
  proxyDhcp: flag().default(false).meta({ description: "true when this network has a PXE/ProxyDHCP server: built images keep iPXE's 2 s wait for its offer. false (a farm booting from its own media): no wait. Rebuild images after changing it." }),
  fastDhcpRetry: flag().default(true).meta({ description: "Resend the first DHCPDISCOVER within 1/4 s instead of 1 s, which also ends iPXE's DHCP discovery up to 1 s sooner. Set false on switch ports that spanning tree blocks at link-up. Rebuild images after changing it." }),
}).meta(closed);

const QemuSchema = object({
  accel: oneOf(['auto', 'kvm', 'tcg']).default('auto').meta({ description: 'QEMU accelerator; auto uses KVM when /dev/kvm works.' }),
  memoryMiB: whole(64, 65536).default(512),
  firmware: oneOf(['bios', 'efi']).default('bios'),
}).meta(closed);

const ClientSchema = object({
  description: text().optional(),
  arch: oneOf(CLIENT_ARCHES).optional().meta({ description: 'CPU and firmware of this machine: its image, QEMU machine and kernel follow from it. Default: x86_64 with /qemu/firmware.' }),
  profile: text().optional().meta({ description: 'A profile name under /profiles.' }),
  macs: z.array(MacSchema, say(`${AT} must be a list of strings.`)).default([]).meta({ uniqueItems: true }),
  vars: table(text()).default(() => ({})).meta({ description: "Per-client values for the profile's templates." }),
  power: PowerSchema.optional(),
  console: ConsoleSchema.optional(),
}).meta({
  ...closed,
  id: 'client',
  defaultSnippets: [{ label: 'New client', body: { profile: '${1:linux}', macs: ['${2:52:54:00:12:34:56}'], vars: {} } }],
});

const MetricsSchema = object({
  listen: z.string(say(`${AT} must be a non-empty string.`))
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { error: (iss) => `${AT} ${JSON.stringify(iss.input)} must be HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464.` })
    .default('127.0.0.1:9464').meta({ description: 'HOST:PORT; anything but loopback is reachable by others: name it here on purpose.' }),
}).meta({ ...closed, description: 'The Prometheus exporter (`ipxe-farm metrics`).' });

const TTL = `${AT} must be a whole number of seconds from 1 to 3600.`;
const BootSchema = object({
  secretTtl: z.int(say(TTL)).min(1, say(TTL)).max(3600, say(TTL)).optional().meta({ default: 60, description: "Seconds a secret file's one-time URL is honoured after the script carrying it was fetched." }),
}).meta({ ...closed, description: 'Boot service settings.' });

const FarmObject = object({
  $schema: z.string().optional(),
  version: z.literal(FARM_VERSION, { error: (iss) => `This farm file is version ${String(iss.input)}; this iPXE Farm reads version ${FARM_VERSION}.` })
    .default(FARM_VERSION).meta({ description: 'Farm file format version.' }),
  name: NameSchema.meta({ description: "The farm's name: used in certificate names and the nginx container name." }),
  ca: CaSchema.prefault({}),
  server: ServerSchema.prefault({}),
  nginx: NginxSchema.prefault({}),
  ipxe: IpxeSchema.prefault({}),
  qemu: QemuSchema.prefault({}),
  profiles: table(ProfileSchema, { $ref: '#/definitions/name' }).default(() => ({})).meta({ description: 'Boot profiles: what a client boots.' }),
  clients: table(ClientSchema, { $ref: '#/definitions/name' }).default(() => ({})).meta({ description: "The farm's machines, by name (the name is the client certificate's CN)." }),
  defaultProfile: text().optional().meta({ description: 'Profile for clients that name none.' }),
  metrics: MetricsSchema.optional(),
  boot: BootSchema.optional(),
}).meta({
  ...closed,
  title: 'iPXE Farm file (ipxe-farm.json)',
  description: "Everything the farm's owner decides: server names and ports, the nginx runtime, iPXE build settings, QEMU test settings, boot profiles and clients. What the CA did lives in pki/index.json; secrets live in secrets.json.",
  patternProperties: NOTES,
});

/** What the loader hands every reader: defaults filled, the ones that follow from the farm's name too. */
export const FarmSchema = FarmObject.transform((f) => ({
  ...f,
  ca: { commonName: f.ca.commonName ?? `${f.name} farm root CA`, organization: f.ca.organization ?? f.name, ...withoutUndefined(f.ca) },
  nginx: { ...f.nginx, container: f.nginx.container ?? `ipxe-farm-${f.name}` },
}));

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The file as a person writes it (every default optional). */
export type FarmFile = z.input<typeof FarmSchema>;
export type Farm = z.output<typeof FarmSchema>;
