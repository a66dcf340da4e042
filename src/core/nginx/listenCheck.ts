import * as path from 'node:path';
import { FarmError } from '../errors';
import type { Farm } from '../farm/light';

/** Ports named by `listen` lines in the config files (comments ignored), with where each is. */
export function listenPorts(sources: Record<string, string>): Array<{ port: number; file: string; line: number }> {
  const out: Array<{ port: number; file: string; line: number }> = [];
  for (const [file, text] of Object.entries(sources)) {
    text.split('\n').forEach((raw, i) => {
      const m = /^\s*listen\s+([^\s;]+)/.exec(raw.replace(/#.*$/, ''));
      const port = m && /(?:^|:)(\d+)$/.exec(m[1]!)?.[1];
      if (port) out.push({ port: Number(port), file, line: i + 1 });
    });
  }
  return out;
}

/**
 * The farm's ports are what iPXE images, URLs and podman's -p use; a config edited (or generated before the ports
 * changed) to listen elsewhere would start fine and never answer there. Say so before starting.
 */
export function assertListensOnFarmPorts(farm: Farm, sources: Record<string, string>, root: string): void {
  const found = listenPorts(sources);
  for (const [port, key] of [[farm.server.httpsPort, 'httpsPort'], [farm.server.httpPort, 'httpPort']] as const) {
    if (found.some((f) => f.port === port)) continue;
    const where = found.map((f) => `${f.port} (${path.relative(root, f.file)}:${f.line})`).join(', ') || 'no port at all';
    throw new FarmError(
      `The nginx config does not listen on port ${port} (server.${key} in ipxe-farm.json); it listens on ${where}.`,
      `Make a listen line use ${port}, or set server.${key} to match; \`ipxe-farm nginx init --force\` regenerates the config.`,
      'EPORTMISMATCH',
    );
  }
}
