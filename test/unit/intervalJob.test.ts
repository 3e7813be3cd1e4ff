import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { everyInterval } from '../../functions/local/intervalJob.ts';

describe('everyInterval', () => {
  it('never runs the job twice at once, and stop waits for the run in progress', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let finished = 0;
    const job = everyInterval(5, async () => {
      running++;
      runs++;
      most = Math.max(most, running);
      await sleep(30); // several ticks pass while it runs
      running--;
      finished++;
    });
    while (runs < 2) await sleep(5);

    await job.stop();

    expect(most).toBe(1);
    expect(finished).toBe(runs);
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
  });
});
