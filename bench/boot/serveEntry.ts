// The boot service alone, in its own process, for the benchmark: the same startBootService `ipxe-farm serve` runs,
// without bundling every other CLI command. SIGUSR2 prints its counters, so the bench can see whether nginx's upstream
// keepalive really reuses connections (connections accepted vs requests answered).
//   serve.js FARM [--socket PATH]
import { parseArgs } from 'node:util';
import { startBootService } from '../../src/core/boot/service';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { socket: { type: 'string' } } });
const root = positionals[0];
if (!root) { process.stderr.write('usage: serve.js FARM [--socket PATH]\n'); process.exit(2); }
void startBootService({ root, socket: values.socket, log: (l) => process.stderr.write(`${l}\n`) }).then((svc) => {
  const stop = () => void svc.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('SIGUSR2', () => {
    const s = svc.stats();
    process.stderr.write(`stats connections=${s.connections} requests=${s.requests}\n`);
  });
}, (err: Error) => { process.stderr.write(`${err.message}\n`); process.exit(1); });
