import * as path from 'node:path';
import { FarmError } from '../errors';
import { type FarmLayout, type Client, type Farm, type Profile, archFacts, clientArch, type CpuArch, profileKernel, own, fillTemplate, parseTemplate, Placeholder, TemplateError } from '../farm/light';
import type { Secrets } from '../secrets/light';
import { Piece, safeLine, UnsafeValueError } from '../ipxe/light';
import { secretFileLines } from './secretLines';

export interface RenderInput {
  farm: Farm;
  layout: FarmLayout;
  secrets: Secrets;
  clientName: string;
  /** Absent when a certificate's owner has no entry under /clients (it boots the default profile). */
  client?: Client;
  profileName: string;
  /** The MAC from `/ipxe/<mac>`, when the request named one. */
  mac?: string;
}

export interface RenderedScript {
  script: string;
  /** Names of the secrets placed in the script, so callers can mask them. */
  secretsUsed: string[];
}

/** http://address:port of the farm's plain-HTTP file server (kernels, initrds, signatures). */
export function serverHttp(farm: Farm): string {
  const host = farm.server.address.includes(':') ? `[${farm.server.address}]` : farm.server.address;
  return `http://${host}:${farm.server.httpPort}`;
}

/** A kernel/initrd reference that is neither a URL nor a template is a file under files/. */
export function isFileReference(ref: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(ref) && !ref.includes('{{') && !ref.includes('${');
}

/** files/ is served at the root of the plain-HTTP server; "files/x" and "x" both mean files/x. */
export function fileRelative(ref: string): string {
  return ref.replace(/^\.?\/+/, '').replace(/^files\//, '');
}

export function fileOnDisk(layout: FarmLayout, ref: string): string {
  return path.join(layout.files, fileRelative(ref));
}

/** Is `rel` a plain relative path inside files/ (no "..", no absolute path)? */
export function fileReferenceProblem(ref: string): string | undefined {
  const rel = fileRelative(ref);
  if (rel.length === 0) return 'is empty';
  if (rel.split('/').some((s) => s === '..' || s === '.')) return 'leaves the files/ folder';
  if (/[\s\u0000-\u001f\u007f#?%]/.test(rel)) return 'holds a space, "#", "?", "%" or a control character';
  return undefined;
}

export class RenderError extends FarmError {
  constructor(message: string, fix: string, readonly pointer: string) {
    super(message, fix, 'ERENDER');
  }
}

/** How each placeholder is filled for this client (secret files reuse it for their contents). */
export function resolver(input: RenderInput, used: Set<string>) {
  return (p: Placeholder): { text: string; trusted?: boolean } => {
    switch (p.kind) {
      case 'client.name':
        return { text: input.clientName };
      case 'client.mac': {
        const mac = input.mac ?? input.client?.macs[0];
        // No MAC on file: let iPXE fill in the MAC of the interface it is booting from.
        return mac ? { text: mac } : { text: '${mac}', trusted: true };
      }
      case 'server.http':
        return { text: serverHttp(input.farm), trusted: true };
      case 'client.vars': {
        const v = own(input.client?.vars, p.name);
        if (v === undefined) {
          throw new RenderError(
            `Profile "${input.profileName}" uses {{client.vars.${p.name}}}, but client "${input.clientName}" has no variable "${p.name}".`,
            `Add "${p.name}" under /clients/${input.clientName}/vars.`,
            `/clients/${input.clientName}`,
          );
        }
        return { text: v };
      }
      case 'secret': {
        const v = own(input.secrets, p.name);
        if (v === undefined) {
          throw new RenderError(
            `Profile "${input.profileName}" uses {{secret.${p.name}}}, but secrets.json has no secret "${p.name}".`,
            `Run \`ipxe-farm secret set ${p.name}\` (the value is read from stdin).`,
            `/profiles/${input.profileName}`,
          );
        }
        used.add(p.name);
        return { text: v };
      }
    }
  };
}

function pointerOfSource(input: RenderInput, source: string | undefined, fallback: string): string {
  if (source?.startsWith('client.vars.')) return `/clients/${input.clientName}/vars/${source.slice('client.vars.'.length)}`;
  return fallback;
}

function line(input: RenderInput, used: Set<string>, prefix: Piece[], template: string, context: 'cmdline' | 'words', pointer: string): string {
  try {
    const pieces = fillTemplate(parseTemplate(template), resolver(input, used));
    return safeLine([...prefix, ...pieces], context);
  } catch (err) {
    if (err instanceof UnsafeValueError) {
      const fix = err.source?.startsWith('secret.')
        ? `Store secret "${err.source.slice(7)}" again without it (\`ipxe-farm secret set ${err.source.slice(7)}\`).`
        : 'Change that value in the farm file.';
      throw new RenderError(`Profile "${input.profileName}" for client "${input.clientName}" (${pointer}): ${err.message}`, fix, pointerOfSource(input, err.source, pointer));
    }
    if (err instanceof TemplateError) throw new RenderError(`Profile "${input.profileName}" (${pointer}): ${err.message}`, 'Fix the template in the farm file.', pointer);
    throw err;
  }
}

function imageUrl(input: RenderInput, ref: string): string {
  return isFileReference(ref) ? `${serverHttp(input.farm)}/${fileRelative(ref)}` : ref;
}

/**
 * The per-client script. Every line is checked against iPXE's parser (see ipxe/scriptLine.ts); images are named so that
 * `imgverify` can refer to them, and a failed `imgverify` stops the script before `boot`.
 */
export function renderScript(input: RenderInput): RenderedScript {
  const profile: Profile | undefined = own(input.farm.profiles, input.profileName);
  if (!profile) {
    throw new RenderError(`Profile "${input.profileName}" is not defined under /profiles.`, 'Add it with `ipxe-farm profile add`.', '/profiles');
  }
  const used = new Set<string>();
  // The kernel for this client's CPU (load-time validation made sure the profile has one).
  // A certificate without a /clients entry: the profile's x86_64 kernel, or its only other one.
  const cpu: CpuArch = input.client
    ? archFacts(clientArch(input.farm, input.clientName)).cpu
    : profile.kernel ? 'x86_64' : (Object.keys(profile.arches ?? {})[0] as CpuArch | undefined) ?? 'x86_64';
  const k = profileKernel(profile, cpu);
  if (!k) throw new RenderError(`Profile "${input.profileName}" has no ${cpu} kernel for client "${input.clientName}".`, `Add /profiles/${input.profileName}/arches/${cpu}.`, `/profiles/${input.profileName}`);
  const p = `/profiles/${input.profileName}`;
  const kp = cpu === 'x86_64' ? p : `${p}/arches/${cpu}`;
  const cmdlinePointer = cpu !== 'x86_64' && profile.arches?.[cpu]?.cmdline !== undefined ? `${kp}/cmdline` : `${p}/cmdline`;
  const kernelUrl = imageUrl(input, k.kernel);
  const kernelHead = line(input, used, [{ text: 'kernel --name kernel ' }], kernelUrl, 'words', `${kp}/kernel`);
  const out = ['#!ipxe', `# iPXE Farm: client ${input.clientName}, profile ${input.profileName}${cpu === 'x86_64' ? '' : `, ${cpu}`}`];
  out.push(k.cmdline.trim() ? line(input, used, [{ text: `${kernelHead} ` }], k.cmdline.trim(), 'cmdline', cmdlinePointer) : kernelHead);
  if (profile.verify) out.push(line(input, used, [{ text: 'imgverify kernel ' }], `${kernelUrl}.sig`, 'words', `${kp}/kernel`));
  k.initrds.forEach((ref, i) => {
    const url = imageUrl(input, ref);
    out.push(line(input, used, [{ text: `initrd --name initrd${i} ` }], url, 'words', `${kp}/initrds/${i}`));
    if (profile.verify) out.push(line(input, used, [{ text: `imgverify initrd${i} ` }], `${url}.sig`, 'words', `${kp}/initrds/${i}`));
  });
  out.push(...secretFileLines(input.farm, profile));
  profile.extra.forEach((extra, i) => out.push(line(input, used, [], extra.trim(), 'words', `${p}/extra/${i}`)));
  out.push('boot', '');
  return { script: out.join('\n'), secretsUsed: [...used].sort() };
}
