export { ensureTestKernel as demoKernel, LINUX_MARKER_RE as DEMO_MARKER } from '../qemu';
