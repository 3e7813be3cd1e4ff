import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Sha256 } from '../ports.ts';
import { authorize, authorizeAdmin } from './auth.ts';
import { type Caller, type CoreDeps, SESSION_RETENTION_SECONDS } from './deps.ts';
import { ConflictError, InvalidRequestError } from './errors.ts';
import { EVENT_TYPES, emitEvent, storeEvent, versionDeletedEvent } from './events.ts';
import { newId } from './ids.ts';
import type { AuditEvent, NamespacePolicy, Version } from './model.ts';
import { policyFor } from './policies.ts';
import { protectionOf } from './protection.ts';
import { discardStaged } from './stagingKeys.ts';
import { getVersion, loadProtection, type VersionRef } from './versions.ts';

export type GcActionKind = 'expireSession' | 'tombstoneVersion' | 'deleteVersion' | 'deleteBlob';

export interface GcAction {
  readonly action: GcActionKind;
  readonly target: string;
  readonly reason: string;
}

export interface GcCounts {
  readonly expireSession: number;
  readonly tombstoneVersion: number;
  readonly deleteVersion: number;
  readonly deleteBlob: number;
}

/** A phase yields what it would do; `apply` (absent in a dry run) does it and says whether it held. */
interface Step extends GcAction {
  apply(): Promise<boolean>;
}

const MINUTE = 60_000;
/** Packages whose retention reads run at once, ahead of the one whose steps are applied. */
const RETENTION_READ_AHEAD = 8;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BLOB_BATCH = 1000;
const UNFINISHED = 'finishing a deletion an interrupted GC run began';
/**
 * The GC lock lives this long unless renewed; a run renews it every LOCK_RENEW_MS, and before every
 * batch of byte deletions, so a run that died (a killed process, a timed-out Lambda) holds it at most
 * this long, and a run that lost it stops before it deletes anything.
 */
const LOCK_TTL_MS = 5 * MINUTE;
const LOCK_RENEW_MS = MINUTE;

/** What the lock and the finishing of deletions need: the scan worker has these too. */
type StoreDeps = Pick<CoreDeps, 'index' | 'blobs' | 'clock'>;

/** The store's one GC lock, held by one run (or finisher) at a time. */
class GcLock {
  private renewedAt = 0;
  private constructor(
    private readonly deps: StoreDeps,
    readonly holder: string,
  ) {}

  /** Takes the lock, or answers null while another run holds it. */
  static async take(deps: StoreDeps, role: string): Promise<GcLock | null> {
    const lock = new GcLock(deps, `${role}:${newId(deps.clock.now())}`);
    return (await lock.renew()) ? lock : null;
  }

  private async renew(): Promise<boolean> {
    const now = this.deps.clock.now();
    const held = await this.deps.index.acquireGcLock(this.holder, now, new Date(now.getTime() + LOCK_TTL_MS));
    if (held) this.renewedAt = now.getTime();
    return held;
  }

  /** Renews when due (always with `force`); throws once the lock was lost, so nothing more is deleted. */
  async keep(force = false): Promise<void> {
    if (!force && this.deps.clock.now().getTime() - this.renewedAt < LOCK_RENEW_MS) return;
    if (!(await this.renew())) throw new Error(`GC lost its lock (${this.holder}): another run took over`);
  }

  release(): Promise<void> {
    return this.deps.index.releaseGcLock(this.holder);
  }
}

/** Deletes the bytes of blobs marked `deleting`, then forgets them: the mark is the point of no return. */
async function finishDeletions(
  deps: StoreDeps,
  lock: GcLock,
  shas: readonly Sha256[],
  audit: (sha: Sha256) => AuditEvent,
) {
  await lock.keep(true);
  await deps.blobs.deleteBlobs(shas);
  await deps.index.forgetBlobs(shas, audit);
}

class Phases {
  private readonly policies = new Map<string, Promise<NamespacePolicy>>();

  constructor(
    private readonly deps: CoreDeps,
    private readonly caller: Caller,
    readonly now: Date,
    /** Held by a run; absent for the dry run, which changes nothing. */
    private readonly lock?: GcLock,
  ) {}

  private held(): GcLock {
    if (!this.lock) throw new Error('a GC step ran without the GC lock');
    return this.lock;
  }

  private policy(namespace: string): Promise<NamespacePolicy> {
    const cached = this.policies.get(namespace);
    if (cached) return cached;
    const loading = policyFor(this.deps, namespace);
    this.policies.set(namespace, loading);
    return loading;
  }

  private audit(action: string, namespace: string, target: string, reason: string): AuditEvent {
    const { principal, requestId } = this.caller;
    return {
      at: this.now.toISOString(),
      actor: principal.id,
      action,
      namespace,
      target,
      requestId,
      details: { rule: reason },
    };
  }

  /** Phase 1: sessions past their expiry, with their staged bytes and multipart uploads. */
  async *expiredSessions(limit: number): AsyncGenerator<Step> {
    const { index, blobs } = this.deps;
    for (const s of await index.listExpiredSessions(this.now, limit)) {
      const reason = `session expired at ${s.expiresAt}`;
      yield {
        action: 'expireSession',
        target: s.uploadId,
        reason,
        apply: async () => {
          if (
            !(await index.expireSession(
              s.uploadId,
              this.now,
              this.audit('gc.expireSession', s.namespace, s.uploadId, reason),
            ))
          )
            return false;
          await discardStaged(blobs, s);
          return true;
        },
      };
    }
  }

  /**
   * Phase 2: retention. Unprotected, settled versions beyond keepLast and older than maxAgeDays, one
   * package at a time in name order from after `afterPackage`: each yield is a package (`position`,
   * JSON `[ns, pkg]`) and its steps, also when it has none, so a run can stop between any two. The
   * reads of the next RETENTION_READ_AHEAD packages run while earlier ones are yielded: on DynamoDB
   * a package's reads are several round trips one after another (policy, retention candidates, stage
   * pointers, stage history), which one package at a time is hundreds of thousands for a pass over a
   * million versions. Steps stay conditional writes, so reading ahead only widens the window in which a
   * promotion or lease makes one fail (counted as skipped), as any race does. Once `readAhead` says
   * no (the run's time is up), packages are read one at a time, as they are asked for: what a run
   * read and did not apply is read again by the next, and on an index that answers one request at
   * a time (an emulator) those reads are the run's time.
   */
  async *retention(
    afterPackage?: string,
    readAhead: () => boolean = () => true,
  ): AsyncGenerator<{ readonly position: string; readonly steps: Step[] }> {
    const { index } = this.deps;
    // Packages whose reads are under way, in walk order; each settles to its steps.
    const ahead: Promise<{ readonly position: string; readonly steps: Step[] }>[] = [];
    let after = afterPackage;
    try {
      do {
        const page = await index.listPackages(200, after);
        for (const { namespace, package: pkg } of page.items) {
          while (ahead.length >= (readAhead() ? RETENTION_READ_AHEAD : 1)) yield await ahead.shift()!;
          const read = this.retentionOf(namespace, pkg).then((steps) => ({
            position: JSON.stringify([namespace, pkg]),
            steps,
          }));
          read.catch(() => undefined); // observed when its turn comes; until then not "unhandled"
          ahead.push(read);
        }
        after = page.next;
      } while (after !== undefined);
      while (ahead.length > 0) yield await ahead.shift()!;
    } finally {
      // A walk cut short (the run's budget) leaves no read of it running once the run returns.
      await Promise.allSettled(ahead);
    }
  }

  private async retentionOf(namespace: string, pkg: string): Promise<Step[]> {
    const { index } = this.deps;
    const { retention } = await this.policy(namespace);
    const ageLimit = new Date(this.now.getTime() - retention.maxAgeDays * DAY);
    // Only what is old is read: not the package's every version (issue 17).
    const old = await index.listRetentionCandidates(namespace, pkg, retention.keepLast, ageLimit);
    if (old.length === 0) return [];
    const [protection, blobs] = await Promise.all([
      loadProtection(this.deps, namespace, pkg),
      index.getBlobs([...new Set(old.flatMap((v) => v.sha256s))]),
    ]);
    const reason = `retention: not among the newest ${retention.keepLast}, older than ${retention.maxAgeDays} days, not promoted or leased`;
    return old
      .filter((v) => protectionOf(protection, v.version).reasons.length === 0)
      .filter((v) =>
        v.sha256s.every((sha) => ['available', 'quarantined'].includes(blobs.get(sha)?.state ?? 'missing')),
      )
      .map((v) => {
        const target = `${namespace}/${pkg}@${v.version}`;
        return {
          action: 'tombstoneVersion' as const,
          target,
          reason,
          apply: () =>
            index.tombstoneVersion(
              v,
              reason,
              this.now,
              this.audit('gc.tombstoneVersion', namespace, target, reason),
            ),
        };
      });
  }

  /**
   * Phase 3: tombstoned versions past their namespace's grace period; blob refs are dropped. A
   * version an admin deleted cannot be restored, so it waits for no version grace: its references
   * go at once, and its bytes after the blob grace, like any unreferenced blob's.
   */
  async *tombstoned(limit: number): AsyncGenerator<Step> {
    const { index } = this.deps;
    for (const v of await index.listTombstoned(this.now, limit)) {
      const { graceHours } = (await this.policy(v.namespace)).retention;
      const cutoff = v.deleted ? this.now : new Date(this.now.getTime() - graceHours * HOUR);
      if (Date.parse(v.tombstonedAt) > cutoff.getTime()) continue;
      const target = `${v.namespace}/${v.package}@${v.version}`;
      const reason = v.deleted
        ? `deleted at ${v.tombstonedAt}: its files and blob references are dropped`
        : `tombstoned at ${v.tombstonedAt}, grace of ${graceHours} h over`;
      yield {
        action: 'deleteVersion',
        target,
        reason,
        apply: async () => {
          const audit = this.audit('gc.deleteVersion', v.namespace, target, reason);
          if (!(await index.deleteVersion(v, cutoff, this.now, audit))) return false;
          await emitEvent(this.deps, versionDeletedEvent(v, reason, this.now, this.now.toISOString()));
          return true;
        },
      };
    }
  }

  private blobRule() {
    const { blobGraceHours } = this.deps.config;
    return {
      cutoff: new Date(this.now.getTime() - blobGraceHours * HOUR),
      reason: `unreferenced for more than ${blobGraceHours} h`,
    };
  }

  /**
   * Phase 4, dry run: deletions an earlier run left unfinished, then every blob unreferenced past the
   * grace period (at most `limit` in all).
   */
  async plannedBlobDeletions(limit: number): Promise<GcAction[]> {
    const { cutoff, reason } = this.blobRule();
    const unfinished = await this.deps.index.listDeletingBlobs(limit);
    const deletable = await this.deps.index.listDeletableBlobs(cutoff, limit - unfinished.length);
    const deleteBlob =
      (why: string) =>
      (sha: string): GcAction => ({ action: 'deleteBlob', target: `sha256:${sha}`, reason: why });
    return [...unfinished.map(deleteBlob(UNFINISHED)), ...deletable.map(deleteBlob(reason))];
  }

  /**
   * Phase 4, first: blobs a run marked `deleting` and stopped before forgetting (a crash, a timeout).
   * The mark is the point of no return: no commit or scan takes such a blob back, and until it is
   * gone the same content cannot be published again; so the deletion is finished, whatever its age.
   * Only the holder of the GC lock deletes, so no other run can have forgotten such a blob and let
   * its content be stored again in the meantime.
   */
  async finishUnfinishedDeletions(limit: number, overdue: () => boolean = () => false): Promise<number> {
    const { index } = this.deps;
    const seen = new Set<string>();
    while (seen.size < limit && !overdue()) {
      await nextTurn();
      const batch = (await index.listDeletingBlobs(Math.min(BLOB_BATCH, limit - seen.size))).filter(
        (s) => !seen.has(s),
      );
      if (batch.length === 0) break;
      for (const s of batch) seen.add(s);
      await finishDeletions(this.deps, this.held(), batch, (sha) =>
        this.audit('gc.deleteBlob', '*', `sha256:${sha}`, UNFINISHED),
      );
    }
    return seen.size;
  }

  /**
   * Phase 4: deletes blobs unreferenced past the grace period in batches; each is marked `deleting`
   * only if its refcount is still 0, so a racing commit wins. Answers how many were deleted. No
   * batch starts once `overdue()` says the run's time for this phase is up.
   */
  async deleteUnreferencedBlobs(limit: number, overdue: () => boolean = () => false): Promise<number> {
    const { index } = this.deps;
    const { cutoff, reason } = this.blobRule();
    const seen = new Set<string>();
    let deleted = 0;
    while (seen.size < limit && !overdue()) {
      await nextTurn(); // the embedded index is synchronous: let requests in between batches
      const listed = await index.listDeletableBlobs(cutoff, Math.min(BLOB_BATCH, limit - seen.size));
      const batch = listed.filter((s) => !seen.has(s));
      if (batch.length === 0) return deleted;
      for (const s of batch) seen.add(s);
      await this.held().keep(true);
      const marked = await index.markBlobsDeleting(batch, cutoff);
      if (marked.length === 0) continue;
      await finishDeletions(this.deps, this.held(), marked, (sha) =>
        this.audit('gc.deleteBlob', '*', `sha256:${sha}`, reason),
      );
      deleted += marked.length;
    }
    return deleted;
  }
}

export interface GcPlan {
  readonly actions: readonly GcAction[];
  /** Totals over everything GC would do now; `actions` lists the first `limit`. */
  readonly counts: GcCounts;
}

const zero = (): Record<GcActionKind, number> => ({
  expireSession: 0,
  tombstoneVersion: 0,
  deleteVersion: 0,
  deleteBlob: 0,
});
const strip = ({ action, target, reason }: GcAction): GcAction => ({ action, target, reason });

/** The dry run: every action GC would take now, with its reason; changes nothing. Admin only. */
export async function planGarbageCollection(
  deps: CoreDeps,
  caller: Caller,
  options: { limit: number },
): Promise<GcPlan> {
  authorizeAdmin(caller.principal);
  const phases = new Phases(deps, caller, deps.clock.now());
  const actions: GcAction[] = [];
  const counts = zero();
  const note = (a: GcAction) => {
    counts[a.action]++;
    if (actions.length < options.limit) actions.push(strip(a));
  };
  for await (const s of phases.expiredSessions(100_000)) note(s);
  for await (const { steps } of phases.retention()) for (const s of steps) note(s);
  for await (const s of phases.tombstoned(100_000)) note(s);
  for (const a of await phases.plannedBlobDeletions(1_000_000)) note(a);
  return { actions, counts };
}

export interface GcReport {
  readonly deleted: { readonly versions: number; readonly blobs: number; readonly sessions: number };
  readonly tombstoned: number;
  /** Steps whose condition failed at the last moment (a publisher, lease or promotion won the race). */
  readonly skipped: number;
  /**
   * Null when this run finished every phase; else where it stopped. The store keeps that position
   * too, so the next run resumes there without it; passing it back only overrides the saved one.
   */
  readonly nextCursor: string | null;
  /** Why the run ended: every phase done, its time budget spent, or its action limit reached. */
  readonly stoppedBy: 'done' | 'budget' | 'maxActions';
}

export interface GcRunOptions {
  /** Steps at most (each a transaction, or a batch of up to 1,000 blob deletions). */
  readonly maxActions: number;
  /**
   * Wall-clock budget of the run. No step or batch starts once it is spent, so a run ends within
   * its budget plus one batch. Absent: no limit.
   */
  readonly budgetMs?: number;
  /** Resume retention from here instead of the position the store saved. */
  readonly cursor?: string;
}

/**
 * How a run's budget is shared: each phase may start steps until this fraction of the budget has
 * elapsed (what an earlier phase leaves unused goes to the next), so every phase makes progress in
 * every run however large another phase's backlog, and retention always gets the last quarter.
 */
const PHASE_SHARE = { sessions: 0.15, versions: 0.45, blobs: 0.75, retention: 1 } as const;

const CURSOR_SCOPE = 'gc';

/**
 * Runs GC now, doing at most `maxActions` steps so one invocation stays bounded (a Lambda has 15
 * minutes); `nextCursor` resumes retention from the package it reached. One run at a time per store:
 * while another holds the GC lock this answers ConflictError (`details.reason` `gcRunning`), so the
 * counts a run reports are what it did. Admin only.
 */
export async function runGarbageCollection(
  deps: CoreDeps,
  caller: Caller,
  options: GcRunOptions,
): Promise<GcReport> {
  authorizeAdmin(caller.principal);
  const given =
    options.cursor === undefined ? undefined : parseResume(deps.cursors.decode(CURSOR_SCOPE, options.cursor));
  const lock = await GcLock.take(deps, 'gc');
  if (!lock) {
    throw new ConflictError('another GC run is in progress; try again once it has finished', {
      details: { reason: 'gcRunning' },
    });
  }
  let report: GcReport;
  try {
    const saved = given === undefined ? await deps.index.getGcPosition() : undefined;
    const resumeAfter = given ?? (saved ? parseResume(saved) : undefined);
    report = await runLocked(deps, caller, options, resumeAfter, lock);
  } catch (error) {
    deps.metrics?.count('gcRuns', { outcome: 'failure' });
    throw error;
  } finally {
    await lock.release();
  }
  await gcFinished(deps, caller, report);
  return report;
}

/** Counts a finished run and what it did, and emits `gc.finished` (one per run: its request and lock). */
async function gcFinished(deps: CoreDeps, caller: Caller, report: GcReport): Promise<void> {
  const metrics = deps.metrics;
  metrics?.count('gcRuns', { outcome: 'success' });
  metrics?.count('gcDeletions', { kind: 'version' }, report.deleted.versions);
  metrics?.count('gcDeletions', { kind: 'blob' }, report.deleted.blobs);
  metrics?.count('gcDeletions', { kind: 'session' }, report.deleted.sessions);
  metrics?.count('gcDeletions', { kind: 'tombstone' }, report.tombstoned);
  const now = deps.clock.now();
  await emitEvent(
    deps,
    storeEvent({
      type: EVENT_TYPES.gcFinished,
      change: [caller.requestId, now.toISOString()],
      namespace: '*',
      subject: 'gc',
      time: now,
      data: {
        deleted: report.deleted,
        tombstoned: report.tombstoned,
        skipped: report.skipped,
        finished: report.nextCursor === null,
      },
    }),
  );
}

/** True for the answer of a run started while another held the GC lock: a schedule skips its turn. */
export const isGcRunning = (error: unknown): boolean =>
  error instanceof ConflictError && error.details?.reason === 'gcRunning';

/** Tombstoned versions listed at a time: a run keeps listing while whole lists are deleted. */
const VERSION_BATCH = 1000;
/**
 * The embedded index answers synchronously, so a run of index-only steps would never give the event
 * loop a turn: the local server would not answer a request until the run ended. A run yields this
 * often.
 */
const YIELD_EVERY_MS = 20;
/**
 * Steps of one phase applied at once. On DynamoDB a step is a transaction of ~10 ms: one at a time,
 * a run would delete ~100 versions a second; eight keep the table well below any partition limit
 * (the steps touch different versions and blobs).
 */
const STEP_CONCURRENCY = 8;

/** One locked run: the work lists (sessions, versions, blobs), then the retention walk. */
async function runLocked(
  deps: CoreDeps,
  caller: Caller,
  options: GcRunOptions,
  resumeAfter: string | undefined,
  lock: GcLock,
): Promise<GcReport> {
  const phases = new Phases(deps, caller, deps.clock.now(), lock);
  const started = phases.now.getTime();
  const done = zero();
  let skipped = 0;
  let budget = options.maxActions;
  let cut = false;
  /** Whether this run has done anything yet: a run always does at least one package's retention. */
  let progressed = false;
  let yielded = performance.now();
  const breathe = async () => {
    if (performance.now() - yielded < YIELD_EVERY_MS) return;
    await nextTurn();
    yielded = performance.now();
  };
  /** True once `share` of the time budget has elapsed (never, without a budget). */
  const overdue = (share: number) => () =>
    options.budgetMs !== undefined && deps.clock.now().getTime() - started >= options.budgetMs * share;
  /** Applies steps while the run has actions and the phase has time; answers how many it applied. */
  /**
   * Applies steps, STEP_CONCURRENCY at a time, while the run has actions and the phase has time;
   * answers how many it started. Each step is its own conditional write, so their order does not
   * matter; the steps in flight when time is up are the one batch a run may run past its budget.
   */
  const applyAll = async (steps: Iterable<Step> | AsyncIterable<Step>, due: () => boolean) => {
    let applied = 0;
    const inFlight = new Set<Promise<void>>();
    const failures: unknown[] = [];
    const applyOne = async (s: Step) => {
      try {
        if (await s.apply()) done[s.action]++;
        else skipped++;
      } catch (error) {
        failures.push(error);
      }
    };
    try {
      for await (const s of steps) {
        if (budget <= 0 || due() || failures.length > 0) {
          cut = true;
          break;
        }
        await breathe();
        await lock.keep();
        budget--;
        applied++;
        progressed = true;
        const running = applyOne(s).finally(() => inFlight.delete(running));
        inFlight.add(running);
        if (inFlight.size >= STEP_CONCURRENCY) await Promise.race(inFlight);
      }
    } finally {
      // Nothing of this run may still be writing once it returns or throws (it releases its lock).
      await Promise.all(inFlight);
    }
    // A step that failed fails the run.
    if (failures.length > 0) throw failures[0];
    return applied;
  };

  await applyAll(phases.expiredSessions(budget), overdue(PHASE_SHARE.sessions));
  await deps.index.purgeSessions(new Date(started - SESSION_RETENTION_SECONDS * 1000), 10_000);

  const versionsDue = overdue(PHASE_SHARE.versions);
  for (let full = true; full; ) {
    if (budget <= 0 || versionsDue()) {
      cut = true;
      break;
    }
    const batch = Math.min(budget, VERSION_BATCH);
    full = (await applyAll(phases.tombstoned(batch), versionsDue)) === batch;
  }

  const blobsDue = overdue(PHASE_SHARE.blobs);
  for (const phase of [phases.finishUnfinishedDeletions, phases.deleteUnreferencedBlobs]) {
    const deleted = await phase.call(phases, Math.max(budget, 0), blobsDue);
    if (deleted > 0) progressed = true;
    done.deleteBlob += deleted;
    budget -= deleted;
  }
  if (budget <= 0 || blobsDue()) cut = true;

  // Retention resumes after the last package whose retention finished, as saved in the store. A
  // package cut short is redone next time, which is safe: what was tombstoned is no longer a
  // candidate. A walk that reaches the last package starts the next pass from the first.
  let position: string | null = null;
  let finished = resumeAfter ?? null;
  const retentionDue = overdue(PHASE_SHARE.retention);
  // A run whose budget went on listing work it could not start still moves the walk on by one
  // package (one batch past the budget), so every run makes progress however short its budget.
  for await (const pkg of phases.retention(resumeAfter, () => !retentionDue())) {
    await breathe();
    const due = progressed ? retentionDue : () => false;
    const total = pkg.steps.length;
    if (budget <= 0 || due() || (await applyAll(pkg.steps, due)) < total) {
      cut = true;
      position = finished;
      break;
    }
    progressed = true;
    finished = pkg.position;
  }
  if (!(await deps.index.saveGcPosition(lock.holder, position))) {
    throw new Error(`GC lost its lock (${lock.holder}) before saving its position`);
  }
  return {
    deleted: { versions: done.deleteVersion, blobs: done.deleteBlob, sessions: done.expireSession },
    tombstoned: done.tombstoneVersion,
    skipped,
    nextCursor: cut ? deps.cursors.encode(CURSOR_SCOPE, position ?? JSON.stringify(null)) : null,
    stoppedBy: !cut ? 'done' : budget <= 0 ? 'maxActions' : 'budget',
  };
}

/**
 * Finishes the deletion of blobs a GC run marked `deleting` and never forgot (it was killed or timed
 * out), so their content can be published again now rather than after the next run. Done only when
 * no run holds the GC lock (a live run finishes them itself); answers whether it was done.
 */
export async function finishInterruptedDeletions(
  deps: StoreDeps,
  sha256s: readonly Sha256[],
  requestId: string,
): Promise<boolean> {
  const lock = await GcLock.take(deps, 'finisher');
  if (!lock) return false;
  try {
    const blobs = await deps.index.getBlobs(sha256s);
    const deleting = [...new Set(sha256s)].filter((sha) => blobs.get(sha)?.state === 'deleting');
    if (deleting.length === 0) return true;
    const at = deps.clock.now().toISOString();
    await finishDeletions(deps, lock, deleting, (sha) => ({
      at,
      actor: 'gc',
      action: 'gc.deleteBlob',
      namespace: '*',
      target: `sha256:${sha}`,
      requestId,
      details: { rule: UNFINISHED },
    }));
    return true;
  } finally {
    await lock.release();
  }
}

/**
 * At the start of a process that is the store's only GC runner (the local server): no run survived
 * the last process, so its lock is broken and whatever it left `deleting` is finished.
 */
export async function recoverGarbageCollection(deps: StoreDeps): Promise<number> {
  await deps.index.releaseGcLock(null);
  const unfinished = await deps.index.listDeletingBlobs(1_000_000);
  if (unfinished.length > 0) await finishInterruptedDeletions(deps, unfinished, 'recovery');
  return unfinished.length;
}

/** The resume point: the last package whose retention was fully applied (JSON `[ns, pkg]`), or null. */
function parseResume(raw: string): string | undefined {
  const value: unknown = JSON.parse(raw);
  if (value === null) return undefined;
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return raw;
  throw new InvalidRequestError('invalid GC cursor', { details: { field: 'cursor' } });
}

/**
 * Brings a tombstoned version back within its grace period (after it, the version is gone: 404). The
 * namespace's admins (and store admins) only.
 */
export async function restoreVersion(deps: CoreDeps, caller: Caller, ref: VersionRef): Promise<Version> {
  authorize(caller.principal, ref.namespace, 'admin');
  const now = deps.clock.now();
  const target = `${ref.namespace}/${ref.package}@${ref.version}`;
  await deps.index.restoreVersion(ref, {
    at: now.toISOString(),
    actor: caller.principal.id,
    action: 'version.restore',
    namespace: ref.namespace,
    target,
    requestId: caller.requestId,
  });
  return getVersion(deps, caller, ref);
}
