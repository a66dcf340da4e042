// The boot service alone, in its own process, for the benchmark: the same startBootService `ipxe-farm serve` runs,
// without bundling every other CLI command. SIGUSR2 prints its counters, so the bench can see whether nginx's upstream
// keepalive really reuses connections (connections accepted vs requests answered).
import { startBootService } from '../../src/core/boot/service';

const root = process.argv[2];
if (!root) { process.stderr.write('usage: serve.js FARM\n'); process.exit(2); }
void startBootService({ root, log: (l) => process.stderr.write(`${l}\n`) }).then((svc) => {
  const stop = () => void svc.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('SIGUSR2', () => {
    const s = svc.stats();
    process.stderr.write(`stats connections=${s.connections} requests=${s.requests}\n`);
  });
}, (err: Error) => { process.stderr.write(`${err.message}\n`); process.exit(1); });
