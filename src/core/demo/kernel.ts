// The demo kernel fixture; moves here from test/support/kernel.ts once its author is done with it.
export { ensureTestKernel as demoKernel, LINUX_MARKER_RE as DEMO_MARKER } from '../../../test/support/kernel';
