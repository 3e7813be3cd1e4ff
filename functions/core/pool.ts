/**
 * Runs `tasks` with at most `concurrency` in flight. On the first failure no new task starts; the
 * running ones settle, then that failure is thrown (so nothing keeps writing after we give up).
 */
export async function runPool(tasks: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < tasks.length) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker));
  if (failure) throw failure.error;
}
