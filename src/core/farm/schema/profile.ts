import * as z from 'zod';
import type { CpuArch } from '../arch';
import { SECRET_PATH_MAX, secretPathProblem } from '../secretFiles';
import { AT, flag, KEY, nonEmpty, strs, table, text } from './fields';

/** `/profiles/P/secretFiles/N`: a file iPXE places in the initramfs (see secretFiles.ts for why paths are plain). */
export const SecretFileSchema = z.strictObject({
  path: nonEmpty(`${AT} must be a non-empty string (an absolute path such as /run/secrets/minio.env).`)
    .superRefine((p, ctx) => {
      const problem = secretPathProblem(p);
      if (problem) ctx.addIssue({ code: 'custom', message: `The secret file path "${p}" ${problem}.` });
    })
    .meta({
      maxLength: SECRET_PATH_MAX,
      pattern: '^(/[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*)+$',
      patternErrorMessage: 'An absolute path of plain parts (letters, digits, . _ - + @), no . or .. parts, e.g. /run/secrets/minio.env.',
      description: 'Absolute path inside the initramfs; missing parent folders are created (mode 0755).',
      default: '/run/secrets/',
    }),
  content: z.string({ error: () => `${AT} must be a string (the file's contents; {{secret.NAME}} places a secret).` })
    .meta({ description: "The file's contents: {{secret.NAME}}, {{client.name}}, {{client.mac}}, {{client.vars.NAME}}, {{server.http}}." }),
  mode: z.string({ error: () => MODE_SENTENCE }).regex(/^0?[0-7]{3}$/, { error: () => MODE_SENTENCE }).optional()
    .meta({ default: '0600', description: 'Octal permissions of the file (default 0600: root only).' }),
}, {
  error: (iss) => iss.code === 'unrecognized_keys' ? `${AT} has an unknown key "${KEY}": use "path", "content" and "mode".`
    : iss.code === 'invalid_type' ? `${AT} must be an object with "path" and "content".` : undefined,
}).meta({
  id: 'secretFile',
  patternProperties: { '^(//|_)': { description: 'A note, ignored.' } },
  defaultSnippets: [{ label: 'New secret file', body: { path: '/run/secrets/${1:minio.env}', content: '${2:KEY}={{secret.${3:minio}}}', mode: '0600' } }],
});
const MODE_SENTENCE = `${AT} must be three octal digits as a string, such as "0600" or "0640".`;

/** `/profiles/P/arches/CPU`: the kernel a profile boots on another CPU (the top-level kernel is x86_64's). */
export const ArchKernelSchema = z.strictObject({
  kernel: nonEmpty().meta({ description: "This architecture's kernel: URL, or a path under files/." }),
  initrds: strs().default([]),
  cmdline: text().optional().meta({ description: "This architecture's command line (default: the profile's); arm64's serial console is ttyAMA0." }),
}, {
  error: (iss) => iss.code === 'unrecognized_keys' ? `${AT}/${KEY} is not a setting: an architecture's entry has kernel, initrds and cmdline.`
    : iss.code === 'invalid_type' ? `${AT} must be an object.` : undefined,
}).meta({ id: 'archKernel' });

const OTHER_CPUS = ['arm64'] as const satisfies readonly Exclude<CpuArch, 'x86_64'>[];
function cpuProblem(cpu: string): string | undefined {
  if ((OTHER_CPUS as readonly string[]).includes(cpu)) return undefined;
  return cpu === 'x86_64'
    ? `${AT}: the x86_64 kernel is the profile's own "kernel" and "initrds"; move it there.`
    : `${AT}: unknown architecture "${cpu}"; use ${OTHER_CPUS.map((a) => `"${a}"`).join(', ')}.`;
}

const ProfileObject = z.object({
  description: text().optional(),
  kernel: nonEmpty().optional().meta({ description: 'The x86_64 kernel: URL, or a path under files/ served over plain HTTP.' }),
  initrds: strs().default([]).meta({ description: "The x86_64 kernel's initrds." }),
  arches: table(ArchKernelSchema, { enum: [...OTHER_CPUS] }, cpuProblem).optional()
    .meta({ description: "Kernels for other CPU architectures; every client's architecture needs a kernel in its profile." }),
  cmdline: text().default('').meta({ description: 'Kernel command line: {{client.name}}, {{client.mac}}, {{secret.NAME}}, {{server.http}}, ${ipxe settings}.' }),
  verify: flag().default(false).meta({ description: "Check kernel and initrds with imgverify against the farm's code-signing certificate." }),
  extra: strs().default([]).meta({ description: 'Extra iPXE lines before `boot` (templated like cmdline).' }),
  secretFiles: z.array(SecretFileSchema, { error: () => `${AT} must be a list of {"path", "content", "mode"} objects.` }).optional().meta({
    description: "Files iPXE places in the initramfs, each fetched once over mutual TLS with a one-time URL bound to the client's certificate: secrets here never reach the kernel command line (/proc/cmdline).",
    default: [],
  }),
}, { error: () => `${AT} must be an object.` })
  // A profile for other architectures only may leave out the top-level (x86_64) kernel.
  .refine((p) => p.kernel !== undefined || Object.keys(p.arches ?? {}).length > 0, { path: ['kernel'], error: () => `${AT} must be a non-empty string.` })
  .meta({
    id: 'profile',
    additionalProperties: false,
    anyOf: [{ required: ['kernel'] }, { required: ['arches'] }],
    defaultSnippets: [
      { label: 'New profile', body: { kernel: '${1:vmlinuz}', initrds: ['${2:initrd.img}'], cmdline: '${3:console=ttyS0}', verify: false } },
      { label: 'New profile for x86_64 and arm64', body: { kernel: '${1:vmlinuz}', initrds: ['${2:initrd.img}'], cmdline: '${3:console=ttyS0}', arches: { arm64: { kernel: '${4:arm64/vmlinuz}', initrds: ['${5:arm64/initrd.img}'], cmdline: '${6:console=ttyAMA0}' } }, verify: false } },
    ],
  });

export type ArchKernel = z.output<typeof ArchKernelSchema>;
export type SecretFile = z.output<typeof SecretFileSchema>;

/** The output keeps `kernel` a string ('' for a profile with other architectures only), as every reader expects. */
export const ProfileSchema = ProfileObject.transform(({ arches, ...p }) => ({
  ...p,
  kernel: p.kernel ?? '',
  ...(arches ? { arches: arches as Partial<Record<CpuArch, ArchKernel>> } : {}),
}));
export type Profile = z.output<typeof ProfileSchema>;
