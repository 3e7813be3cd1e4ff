/** Arca's CDK constructs, for embedding the store in another CDK app. */

export { type ArcaApp, type ArcaContext, createArcaApp } from './arcaApp.ts';
export { StoreAlarms, type StoreAlarmsProps } from './constructs/alarms.ts';
export { ArtifactApi, type ArtifactApiProps, SLI_ROUTES } from './constructs/api.ts';
export {
  ArtifactStore,
  type ArtifactStoreProps,
  type ArtifactStoreReplicationProps,
} from './constructs/artifactStore.ts';
export { BlobCdn, type BlobCdnProps, CDN_ENV } from './constructs/cdn.ts';
export { CdnKeyPair, type CdnKeyPairProps } from './constructs/cdnKeyPair.ts';
export { GitHubCiRole, type GitHubCiRoleProps } from './constructs/ciRole.ts';
export { ConsoleSite, type ConsoleSiteProps } from './constructs/consoleSite.ts';
export { type DashboardSources, StoreDashboards } from './constructs/dashboards.ts';
export { StoreEventBus } from './constructs/eventBus.ts';
export { ArcaFunction, type ArcaFunctionProps, handlerEntry, POWERTOOLS } from './constructs/functions.ts';
export {
  GarbageCollector,
  type GarbageCollectorProps,
  GC_METRIC_NAMES,
  GC_METRICS_SERVICE,
  type GcMetricName,
} from './constructs/garbageCollector.ts';
export { IndexTable, type IndexTableLayout, type IndexTableProps } from './constructs/indexTable.ts';
export {
  type BlobLifecycleOptions,
  type BlobTier,
  DEFAULT_TIERS,
  validateLifecycle,
} from './constructs/lifecycle.ts';
export { StoreObservability, type StoreObservabilityProps } from './constructs/observability.ts';
export { BlobReplica, type BlobReplicaProps } from './constructs/replication.ts';
export {
  ArcaImageFunction,
  ClamavEngine,
  type ClamavEngineProps,
  OsvRematch,
  type OsvRematchProps,
} from './constructs/scanEngines.ts';
export { ScanPipeline, type ScanPipelineProps } from './constructs/scanPipeline.ts';
export { maxScannableFileSize, SCAN_SIZING } from './constructs/scanSizing.ts';
export {
  BlobEncryption,
  type BlobReplicationOptions,
  BlobStorage,
  type BlobStorageProps,
} from './constructs/storage.ts';
export { ArcaPrimaryStack, type ArcaPrimaryStackProps } from './stacks/primaryStack.ts';
export { ArcaReplicaStack, type ArcaReplicaStackProps } from './stacks/replicaStack.ts';
