export { freeLoopbackPort as freePort } from '../../src/core/net/freePort';
