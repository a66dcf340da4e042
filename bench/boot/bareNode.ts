// The floor under the boot service: a node:http server that does nothing but look the fingerprint nginx sends up in a
// Map and answer the script, on a unix socket behind the same nginx upstream settings (keepalive 256). What it costs per
// request at the benchmark's rates is what any node:http service costs there, before its own work.
//   bareNode.js MAPPING_JSON SOCKET
import * as fs from 'node:fs';
import * as http from 'node:http';

const [mappingFile, socket] = process.argv.slice(2);
if (!mappingFile || !socket) { process.stderr.write('usage: bareNode.js MAPPING_JSON SOCKET\n'); process.exit(2); }
const mapping = new Map(Object.entries(JSON.parse(fs.readFileSync(mappingFile, 'utf8')) as Record<string, { script: string }>).map(([fp, v]) => [fp, v.script]));
fs.rmSync(socket, { force: true });
const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const script = mapping.get(String(req.headers['x-ssl-client-fingerprint'] ?? ''));
  const body = script ?? 'unknown\n';
  res.writeHead(script === undefined ? 403 : 200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(socket, () => {
  fs.chmodSync(socket, 0o666);
  process.stderr.write('listening\n');
});
process.once('SIGTERM', () => process.exit(0));
