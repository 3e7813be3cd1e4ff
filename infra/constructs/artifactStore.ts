import { Annotations, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ADMIN_PRINCIPALS_ENV, parseAdminPrincipals } from '../../functions/adapters/aws/lambdaPrincipal.ts';
import { checkIssuerUrl } from '../../functions/adapters/oidc/issuers.ts';
import { ENV } from '../../functions/config/env.ts';
import { StoreAlarms } from './alarms.ts';
import { ArtifactApi } from './api.ts';
import type { ArtifactStoreProps } from './artifactStoreProps.ts';
import { BlobCdn } from './cdn.ts';
import { GitHubCiRole } from './ciRole.ts';
import { ConsoleSite } from './consoleSite.ts';
import { StoreEventBus } from './eventBus.ts';
import { StoreEventRelay } from './eventRelay.ts';
import { ArcaFunction, handlerEntry } from './functions.ts';
import { GarbageCollector } from './garbageCollector.ts';
import { IndexTable } from './indexTable.ts';
import { StoreObservability } from './observability.ts';
import { BLOB_REPLICATION_RULE_ID } from './replicationRule.ts';
import { ClamavEngine, OsvRematch } from './scanEngines.ts';
import { ScanPipeline } from './scanPipeline.ts';
import { SigningKeys } from './signingKeys.ts';
import { BlobStorage } from './storage.ts';

export type { ArtifactStoreProps, ArtifactStoreReplicationProps } from './artifactStoreProps.ts';

/** Props that bound callers inside Arca from the stack, before bindings moved into the index. */
const RETIRED_PROPS = {
  iamRoles: "bind IAM principals in the namespace policies' `members` (PUT /v1/namespaces/{ns}/policy)",
  githubNamespaces:
    "bind the CI role's ARN (output CiRoleArn) in the namespace policies' `members` (PUT /v1/namespaces/{ns}/policy)",
} as const;

/**
 * Arca: a serverless artifact store. A blob bucket with tiers and replication, a DynamoDB index,
 * the `api` function behind a SigV4 and a bearer-token HTTP API, the `scan` pipeline, scheduled
 * `gc`, CloudFront signed downloads, alarms and a dashboard.
 */
export class ArtifactStore extends Construct {
  public readonly storage: BlobStorage;
  public readonly index: IndexTable;
  public readonly apiFunction: lambda.Function;
  public readonly api: ArtifactApi;
  public readonly scan: ScanPipeline;
  /** ClamAV's definitions bucket and refresh (with `clamav: true`). */
  public readonly clamav?: ClamavEngine;
  /** The scheduled OSV re-match (with `osvDatabase`). */
  public readonly osvRematch?: OsvRematch;
  public readonly signingKeys: SigningKeys;
  public readonly gc: GarbageCollector;
  /** CloudFront signed downloads; absent only with `cdn: false`. */
  public readonly cdn?: BlobCdn;
  public readonly observability: StoreObservability;
  /** Throttle, backlog, DynamoDB, replication and CloudFront alarms, all on `alarmTopic`. */
  public readonly alarms: StoreAlarms;
  /** Where every alarm notifies: the one given, or one created here. */
  public readonly alarmTopic: sns.ITopic;
  /** The bus every state change is put on (docs/events.md). */
  public readonly events: StoreEventBus;
  /** Puts the events of audited changes from the table's stream (absent for a table without one). */
  public readonly eventRelay?: StoreEventRelay;
  /** The web console and the bearer API on one CloudFront distribution. */
  public readonly console: ConsoleSite;
  public readonly ciRole?: GitHubCiRole;
  public readonly cursorSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    // JavaScript callers and old cdk.json files reach here unchecked by the type: refuse, never ignore.
    for (const [prop, instead] of Object.entries(RETIRED_PROPS))
      if ((props as Record<string, unknown>)[prop] !== undefined)
        throw new Error(`ArtifactStore prop '${prop}' was removed: ${instead}; see docs/deploy.md § 6`);
    const stack = Stack.of(this);
    const replication = props.replication;
    if (replication && replication.region === stack.region)
      throw new Error(`replication.region must differ from the store's region (${stack.region})`);

    this.storage = new BlobStorage(this, 'Storage', {
      bucket: props.bucket,
      encryptionKey: props.encryptionKey,
      encryption: props.encryption,
      lifecycle: props.lifecycle,
      removalPolicy: props.removalPolicy,
      replication: replication && {
        bucketName: replication.bucketName,
        region: replication.region,
        replicationTimeControl: replication.replicationTimeControl,
        kmsKeyArn: replication.kmsKeyArn,
        storageClass: replication.storageClass,
      },
    });
    this.index = new IndexTable(this, 'Index', {
      table: props.table,
      replicaRegion: replication?.replicateIndex ? replication.region : undefined,
      removalPolicy: props.removalPolicy,
      indexLayout: props.indexLayout,
    });

    this.apiFunction = new ArcaFunction(this, 'ApiFunction', {
      entry: handlerEntry('api'),
      description: 'Arca API: uploads, versions, stages, downloads, leases',
      reservedConcurrentExecutions: props.apiReservedConcurrency,
      logRetention: props.logRetention,
    });
    this.storage.grantPublish(this.apiFunction);
    this.index.grantIndexReadWrite(this.apiFunction);
    this.cursorSecret = this.createCursorSecret(props.removalPolicy);
    this.grantCursorSecret(this.apiFunction);

    const clamav = props.clamav
      ? new ClamavEngine(this, 'Clamav', {
          logRetention: props.logRetention,
          removalPolicy: props.removalPolicy,
        })
      : undefined;
    this.clamav = clamav;
    this.scan = new ScanPipeline(this, 'Scan', {
      storage: this.storage,
      index: this.index,
      reservedConcurrentExecutions: props.scanReservedConcurrency,
      // clamd holds ClamAV's official database in memory (~1 GiB).
      memorySize: props.scanMemorySize ?? (clamav ? 3008 : undefined),
      ...(clamav ? { image: clamav.scanImage } : {}),
      batchSize: props.scanBatchSize,
      maxConcurrency: props.scanMaxConcurrency,
      logRetention: props.logRetention,
    });
    clamav?.grantScan(this.scan.function);
    if (props.osvDatabase !== undefined) {
      const osv = new OsvRematch(this, 'OsvRematch', {
        database: props.osvDatabase,
        index: this.index,
        blobBucketName: this.storage.bucket.bucketName,
        logRetention: props.logRetention,
      });
      this.osvRematch = osv;
      osv.grantRead(this.scan.function);
      osv.grantRead(this.apiFunction); // attested SBOMs are matched at attach; the gate needs it too
    }
    // The API refuses, at upload creation (413 TooLarge), files the scan could not finish in time.
    this.apiFunction.addEnvironment(ENV.maxFileSize, String(this.scan.maxFileSize));

    // Provenance: only the scan role signs; the API lists public keys and hands versions available at
    // commit to the scan queue (adapters/aws/sqsProvenanceQueue.ts).
    this.signingKeys = new SigningKeys(this, 'SigningKeys', {
      signer: this.scan.function.role!,
      generations: props.signingKeyGenerations,
    });
    this.signingKeys.wireSigner(this.scan.function);
    this.signingKeys.grantReadPublicKeys(this.apiFunction);
    this.scan.queue.grantSendMessages(this.apiFunction);
    this.apiFunction.addEnvironment(ENV.scanQueueUrl, this.scan.queue.queueUrl);

    this.gc = new GarbageCollector(this, 'Gc', {
      storage: this.storage,
      index: this.index,
      schedule: props.gcSchedule,
      blobGraceHours: props.blobGraceHours,
      reservedConcurrentExecutions: props.gcReservedConcurrency,
      memorySize: props.gcMemorySize,
      logRetention: props.logRetention,
    });
    // GC signs the cursor it follows from one bounded slice to the next.
    this.grantCursorSecret(this.gc.function);

    this.api = new ArtifactApi(this, 'Api', {
      handler: this.apiFunction,
      throttlingRateLimit: props.throttlingRateLimit,
      throttlingBurstLimit: props.throttlingBurstLimit,
      logRetention: props.logRetention,
    });

    if (props.cdn ?? true) {
      this.cdn = new BlobCdn(this, 'Cdn', {
        storage: this.storage,
        publicKeyPem: props.signingPublicKeyPem,
        privateKeySecret: props.signingPrivateKeySecret,
        keyGeneration: props.cdnKeyGeneration,
        priceClass: props.priceClass,
        domainNames: props.domainNames,
        certificate: props.certificate,
        removalPolicy: props.removalPolicy,
        failoverBucket: replication
          ? s3.Bucket.fromBucketAttributes(this, 'ReplicaBucket', {
              bucketName: replication.bucketName,
              region: replication.region,
            })
          : undefined,
      });
      this.cdn.grantSign(this.apiFunction);
    } else if (props.signingPublicKeyPem !== undefined || props.cdnKeyGeneration !== undefined)
      throw new Error(
        'signingPublicKeyPem and cdnKeyGeneration configure the CDN, which cdn: false turns off',
      );

    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic();

    this.events = new StoreEventBus(this, 'Events');
    for (const fn of [this.scan.function, this.gc.function]) this.events.grantEmit(fn);
    const streamArn = this.index.table.tableStreamArn;
    if (streamArn !== undefined)
      this.eventRelay = new StoreEventRelay(this, 'EventRelay', {
        index: this.index,
        streamArn,
        bus: this.events,
        bucketName: this.storage.bucket.bucketName,
      });
    else {
      // A table brought without a stream: the API emits in the request, as before the relay.
      this.events.grantEmit(this.apiFunction);
      Annotations.of(this).addWarningV2(
        'arca:tableWithoutStream',
        'The index table has no stream: the API puts events itself, and a refused put fails a request whose change is stored. Enable a NEW_IMAGE stream on the table and pass its ARN (docs/deploy.md).',
      );
    }
    this.console = new ConsoleSite(this, 'Console', {
      api: this.api.bearerApi,
      logBucket: this.storage.logBucket,
    });

    this.observability = new StoreObservability(this, 'Observability', {
      api: this.api,
      scan: this.scan,
      gc: this.gc,
      storage: this.storage,
      alarmTopic: this.alarmTopic,
    });
    this.alarms = new StoreAlarms(this, 'Alarms', {
      topic: this.alarmTopic,
      functions: {
        Api: this.apiFunction,
        Scan: this.scan.function,
        Gc: this.gc.function,
        ...(this.eventRelay ? { Events: this.eventRelay.function } : {}),
      },
      ...(this.eventRelay ? { eventRelay: this.eventRelay } : {}),
      scanQueue: this.scan.queue,
      tableName: this.index.table.tableName,
      replication: replication && {
        sourceBucket: this.storage.bucket,
        destinationBucketName: replication.bucketName,
        ruleId: BLOB_REPLICATION_RULE_ID,
      },
      distributionId: this.cdn?.distribution.distributionId,
    });
    if (props.githubRepository !== undefined)
      this.ciRole = new GitHubCiRole(this, 'GitHubCi', {
        api: this.api,
        repository: props.githubRepository,
        subjects: props.githubSubjects,
        provider: props.githubOidcProvider,
      });
    else if (props.githubSubjects !== undefined || props.githubOidcProvider !== undefined)
      throw new Error('githubSubjects and githubOidcProvider need githubRepository: there is no CI role');
    this.configureAccess(props);
  }

  /**
   * Lets `grantee` call every route of the SigV4 API (publish, promote, fetch…). IAM only opens the
   * door: what the caller may do in each namespace is what the namespace policies bind to its ARN.
   */
  public grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, '*');
  }

  /** Lets `grantee` call the SigV4 API's GET routes only (list, resolve, download); policies still decide. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, 'GET');
  }

  private grantInvoke(grantee: iam.IGrantable, method: string): iam.Grant {
    const { partition, region, account } = Stack.of(this);
    const routes = `arn:${partition}:execute-api:${region}:${account}:${this.api.httpApi.apiId}/*/${method}/v1/*`;
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: [routes] });
  }

  /**
   * The deploy-time half of access, as the `api` function's environment: the store-wide admins and
   * the trusted OIDC issuers. Checked here with the parsers the function runs at cold start, so a
   * mistake fails the synth rather than the API. Every other binding lives in the index.
   */
  private configureAccess(props: ArtifactStoreProps): void {
    const admins = props.adminPrincipals ?? [];
    parseAdminPrincipals('adminPrincipals', admins.filter((arn) => !Token.isUnresolved(arn)).join(','));
    if (admins.length > 0) this.apiFunction.addEnvironment(ADMIN_PRINCIPALS_ENV, admins.join(','));

    const issuers = (props.oidcIssuers ?? []).map((issuer) => issuer.trim()).filter((i) => i !== '');
    for (const issuer of issuers) {
      // The variable is a comma-separated list: a comma would split one issuer in two.
      if (issuer.includes(',')) throw new Error(`oidcIssuers: issuer "${issuer}" must not contain a comma`);
      checkIssuerUrl(issuer, 'oidcIssuers: issuer');
    }
    if (issuers.length > 0) this.apiFunction.addEnvironment(ENV.oidcIssuers, issuers.join(','));
  }

  /**
   * Pagination cursors are HMAC-signed with this. A function that pages gets the secret's ARN and
   * reads the value at run time (adapters/aws/runtimeSecrets.ts): no value is ever in its
   * configuration. `scan` never pages and is not granted it.
   */
  public grantCursorSecret(fn: lambda.Function): void {
    fn.addEnvironment(ENV.cursorSecretArn, this.cursorSecret.secretArn);
    this.cursorSecret.grantRead(fn);
  }

  /** An SNS topic for the alarms, TLS only; subscribe to it (output `AlarmTopicArn`). */
  private createAlarmTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Arca alarms', enforceSSL: true });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and states only; a KMS key would need a CloudWatch key policy for no protected data.',
    });
    return topic;
  }

  private createCursorSecret(removalPolicy?: RemovalPolicy): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'CursorSecret', {
      description: 'Arca: HMAC key for pagination cursors',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating only invalidates open pagination cursors; it is done by replacing the secret and redeploying.',
    });
    return secret;
  }
}
