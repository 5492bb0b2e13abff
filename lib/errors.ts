/**
 * The error registry: every `extensions.code`, failure reason, fallback source and masked message this
 * platform sets is defined in `errors/errorCodes.ts`, and every error is built by one of the factories in
 * `errors/requestErrors.ts` and `errors/upstreamErrors.ts`. Import them all from here.
 */
export * from './errors/errorCodes.ts';
export * from './errors/requestErrors.ts';
export * from './errors/upstreamErrors.ts';
