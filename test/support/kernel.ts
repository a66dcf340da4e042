// The test kernel + busybox initramfs fixture lives in the product (the demo boots it too); tests import it from here.
export {
  ensureTestKernel, testKernelUnavailable, buildInitramfs, cpioNewc, INIT_SCRIPT, LINUX_MARKER, LINUX_MARKER_RE, SECRET_FILE_RE, type TestKernel,
} from '../../src/core/qemu/testKernel';
