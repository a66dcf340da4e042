import type { CpuArch } from './arch';
import type { ArchKernel, Profile } from './model';

/**
 * What a profile boots on one CPU: the top-level kernel, initrds and command line are the x86_64 ones (as before
 * architectures existed); `arches.arm64` names another kernel, its initrds and, if its console differs, its own
 * command line. Undefined when the profile has nothing for that CPU.
 */
export function profileKernel(profile: Profile, cpu: CpuArch): Required<ArchKernel> | undefined {
  if (cpu === 'x86_64') return profile.kernel ? { kernel: profile.kernel, initrds: profile.initrds, cmdline: profile.cmdline } : undefined;
  const k = profile.arches?.[cpu];
  return k ? { kernel: k.kernel, initrds: k.initrds, cmdline: k.cmdline ?? profile.cmdline } : undefined;
}
