import { type CoreConfig, DEFAULT_CORE_CONFIG } from '../core/deps.ts';
import { ENV, intEnv } from './env.ts';

/** The domain's limits from the environment, each defaulting to DEFAULT_CORE_CONFIG; shared by every host. */
export function coreConfigFromEnv(env: NodeJS.ProcessEnv = process.env): CoreConfig {
  return {
    maxFileSize: intEnv(ENV.maxFileSize, DEFAULT_CORE_CONFIG.maxFileSize, env),
    packMaxFileSize: intEnv(ENV.packMaxFileSize, DEFAULT_CORE_CONFIG.packMaxFileSize, env),
    sessionTtlSeconds: intEnv(ENV.sessionTtlSeconds, DEFAULT_CORE_CONFIG.sessionTtlSeconds, env),
    downloadTtlSeconds: intEnv(ENV.downloadTtlSeconds, DEFAULT_CORE_CONFIG.downloadTtlSeconds, env),
    blobGraceHours: intEnv(ENV.blobGraceHours, DEFAULT_CORE_CONFIG.blobGraceHours, env),
    maxPageBytes: intEnv(ENV.maxPageBytes, DEFAULT_CORE_CONFIG.maxPageBytes, env),
  };
}
