export { freePort } from '../../scripts/freePort.ts';
