// The floor under the boot service's per-request cost: look the fingerprint up in a Map and answer the client's
// script, with no checks and no log, either through the service's own wire reader or through node:http. Run by
// `npm run bench -- boot --only alone --floors`, so the service can be compared with what its transport costs alone.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { serveWireConnection } from '../../src/core/boot/httpWire';

const [kind, socket, mappingFile] = process.argv.slice(2);
if ((kind !== 'wire' && kind !== 'http') || !socket || !mappingFile) {
  process.stderr.write('usage: floor.js wire|http SOCKET MAPPING.json\n');
  process.exit(2);
}
const mapping = JSON.parse(fs.readFileSync(mappingFile, 'utf8')) as Record<string, { script: string }>;
const scripts = new Map(Object.entries(mapping).map(([fp, m]) => [fp, m.script]));
fs.rmSync(socket, { force: true });
const server = kind === 'wire'
  ? net.createServer((s) => serveWireConnection(s, {
    idleMs: 45_000, headMs: 50_000,
    handle: (req) => ({ status: 200, body: scripts.get(req.headersDistinct['x-ssl-client-fingerprint']?.[0] ?? '') ?? '' }),
  }))
  : http.createServer((req, res) => {
    const body = scripts.get(String(req.headers['x-ssl-client-fingerprint'])) ?? '';
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
server.listen(socket, () => process.stderr.write('listening\n'));
process.once('SIGTERM', () => process.exit(0));
