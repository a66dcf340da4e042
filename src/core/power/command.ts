import { FarmError } from '../errors';
import { parseTemplate } from '../farm/light';
import { run } from '../process';
import { ClientValues, cycleByOffOn, PowerControl, PowerState } from './driver';

/**
 * The user's own programs (a relay board, a smart plug): argv lists run without a shell, with the client's name, MAC
 * and variables filled into the arguments (the validator refuses secrets there: arguments show in ps).
 */
export interface CommandPower { on: string[]; off: string[]; cycle?: string[]; status?: string[]; timeoutSeconds: number }

export function fillArgs(argv: string[], v: ClientValues): string[] {
  return argv.map((a) => parseTemplate(a).map((p) => {
    if ('text' in p) return p.text;
    if (p.ref.kind === 'client.name') return v.name;
    if (p.ref.kind === 'client.mac') return v.client.macs[0] ?? '';
    if (p.ref.kind === 'client.vars') {
      const val = v.client.vars[p.ref.name];
      if (val === undefined) throw new FarmError(`The power command of ${v.name} uses {{client.vars.${p.ref.name}}}, which ${v.name} does not define.`, `Add "${p.ref.name}" under /clients/${v.name}/vars.`, 'EPOWER');
      return val;
    }
    throw new FarmError(`{{${p.source}}} cannot be used in a power command.`, undefined, 'EPOWER');
  }).join(''));
}

export function commandControl(v: ClientValues, spec: CommandPower): PowerControl {
  const exec = async (what: string, argv: string[], signal?: AbortSignal) => {
    const [program, ...args] = fillArgs(argv, v);
    let r;
    try {
      r = await run(program!, args, { signal, timeout: spec.timeoutSeconds * 1000, group: true });
    } catch (err) {
      const e = err as FarmError;
      if (e.code === 'ETIMEDOUT') throw new FarmError(`The ${what} command of ${v.name} (${program}) did not finish within ${spec.timeoutSeconds} s and was stopped; ${v.name}'s power state is unknown.`, `Check the program, or raise /clients/${v.name}/power/timeoutSeconds.`, 'EPOWER');
      throw e;
    }
    return r;
  };
  const must = async (what: string, argv: string[], signal?: AbortSignal) => {
    const r = await exec(what, argv, signal);
    if (r.exitCode !== 0) {
      const tail = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? '';
      throw new FarmError(`The ${what} command of ${v.name} failed (${argv[0]} exit ${r.exitCode}${tail ? `: ${tail}` : ''}).`, `Run it by hand to see why (/clients/${v.name}/power/${what}).`, 'EPOWER');
    }
  };
  const ctl: PowerControl = {
    describe: `command ${spec.on[0]}`,
    on: (s) => must('on', spec.on, s),
    off: (s) => must('off', spec.off, s),
    cycle: (s) => (spec.cycle ? must('cycle', spec.cycle, s) : cycleByOffOn(ctl, v.name, s)),
    status: async (s): Promise<PowerState> => {
      if (!spec.status) return 'unknown';
      const r = await exec('status', spec.status, s);
      const out = r.stdout.trim().toLowerCase();
      if (/\b(on|1|true)\b/.test(out)) return 'on';
      if (/\b(off|0|false)\b/.test(out)) return 'off';
      return r.exitCode === 0 ? 'on' : r.exitCode === 1 ? 'off' : 'unknown';
    },
  };
  return ctl;
}
