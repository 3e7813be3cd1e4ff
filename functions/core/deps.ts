import type {
  BlobStore,
  Clock,
  EventPort,
  Index,
  MetricsPort,
  ProvenanceQueue,
  StoreKeys,
  WebhookStore,
} from '../ports.ts';
import type { CursorCodec } from './cursor.ts';
import type { Principal } from './model.ts';
import type { Scanner } from './scanners.ts';
import type { AdvisorySource } from './vulns/osv.ts';

export interface CoreConfig {
  /** Largest accepted file, bytes (default 5 TiB). */
  readonly maxFileSize: number;
  /**
   * Largest file a client that asks for a pack uploads inside it rather than with a PUT of its own,
   * bytes (default 64 KiB).
   */
  readonly packMaxFileSize: number;
  /** How long an upload session stays open (default 1 h). */
  readonly sessionTtlSeconds: number;
  /** Lifetime of a signed download URL (default 5 min). */
  readonly downloadTtlSeconds: number;
  /** How long a blob stays unreferenced before GC deletes its bytes (default 24 h). */
  readonly blobGraceHours: number;
  /**
   * Largest answer of a version listing or search, bytes of JSON (default 4 MiB): a page ends early
   * rather than grow past it (a Lambda answers at most 6 MB).
   */
  readonly maxPageBytes: number;
}

export const DEFAULT_CORE_CONFIG: CoreConfig = {
  maxFileSize: 5 * 1024 ** 4,
  packMaxFileSize: 64 * 1024,
  sessionTtlSeconds: 3600,
  downloadTtlSeconds: 300,
  blobGraceHours: 24,
  maxPageBytes: 4 * 1024 * 1024,
};

/** Everything a use case needs, injected by the host (local server, Lambda handler or test). */
export interface CoreDeps {
  readonly index: Index;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly cursors: CursorCodec;
  readonly scanners: readonly Scanner[];
  /** The advisory database SBOM components are matched against; absent: none configured. */
  readonly advisories?: AdvisorySource;
  readonly config: CoreConfig;
  /** The store's signing keys: the API lists and rotates them; only the scan worker signs. */
  readonly keys: StoreKeys;
  /** Where a version that turned `available` at commit goes to be signed. */
  readonly provenanceQueue: ProvenanceQueue;
  /** SLIs (core/metrics.ts); absent: nothing is recorded. */
  readonly metrics?: MetricsPort;
  /** State-change events (core/events.ts); absent: none are emitted. */
  readonly events?: EventPort;
  /** Namespaces' webhooks (local server); absent on AWS, where events go to EventBridge. */
  readonly webhooks?: WebhookStore;
}

/** Who asks, and under which request id: every mutation's audit event carries both. */
export interface Caller {
  readonly principal: Principal;
  readonly requestId: string;
}

/**
 * How long a finished (committed or aborted) session is kept past its expiry, for idempotent commit
 * retries and audits; then its row goes (DynamoDB: item TTL; SQLite: GC's first phase).
 */
export const SESSION_RETENTION_SECONDS = 30 * 86_400;
