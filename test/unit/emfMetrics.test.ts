import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmfMetrics, emfName } from '../../functions/adapters/aws/emfMetrics.ts';

/** The EMF blobs Powertools writes to stdout while `act` runs. */
function emfWrittenBy(act: () => void): Record<string, any>[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    vi.restoreAllMocks();
  }
  return lines
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}

describe('EmfMetrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes a labelled count at once, its labels as dimensions and an empty label left out', () => {
    const metrics = new Metrics({ namespace: 'Arca', serviceName: 'arca-api' });
    const emf = emfWrittenBy(() =>
      new EmfMetrics(metrics).count('publishes', { outcome: 'failure', code: 'NotFound' }),
    );
    expect(emf).toHaveLength(1);
    const [directive] = emf[0]!._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe('Arca');
    expect(directive.Metrics).toEqual([{ Name: 'Publishes', Unit: 'Count' }]);
    expect(directive.Dimensions.flat().sort()).toEqual(['code', 'outcome', 'service']);
    expect(emf[0]).toMatchObject({ Publishes: 1, outcome: 'failure', code: 'NotFound' });

    const success = emfWrittenBy(() =>
      new EmfMetrics(metrics).count('publishes', { outcome: 'success', code: '' }),
    );
    expect(success[0]!._aws.CloudWatchMetrics[0].Dimensions.flat().sort()).toEqual(['outcome', 'service']);
  });

  it('adds an unlabelled metric to the invocation batch, in seconds for a latency', () => {
    const metrics = new Metrics({ namespace: 'Arca', serviceName: 'arca-api' });
    const port = new EmfMetrics(metrics);
    expect(emfWrittenBy(() => port.observe('fetchDuration', 0.25))).toEqual([]);
    const flushed = emfWrittenBy(() => metrics.publishStoredMetrics());
    expect(flushed[0]!._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'FetchDuration', Unit: 'Seconds' },
    ]);
    expect(flushed[0]!.FetchDuration).toBe(0.25);
  });

  it('names catalog metrics in PascalCase', () => {
    expect(emfName('httpRequests')).toBe('HttpRequests');
    expect(emfName('timeToPromote')).toBe('TimeToPromote');
  });
});
