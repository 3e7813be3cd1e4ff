import type { BenchContext, PeakReading } from '../lib/context.ts';

const CASE = '7 memory (peak RSS)';
const MiBytes = (b: number | undefined) => (b === undefined ? null : b / 2 ** 20);

/**
 * Case 7: peak RSS (VmHWM, reset at the start of each case) of the server, the CLI and the scan
 * worker during cases 2 and 5. The scan worker runs inside the server process, so the server's
 * figure includes it; the registry's processes are the anchors.
 */
export async function memory(ctx: BenchContext): Promise<void> {
  const find = (key: PeakReading['key'], during: string) =>
    ctx.peaks.find((p) => p.key === key && p.during.startsWith(during));
  const base = { case: CASE, unit: 'MiB', better: 'lower' } as const;
  const server = 'Arca server + scan worker (one process)';

  const large = find('server', '2');
  const registry = find('registry', '2');
  ctx.add({
    ...base,
    name: `${server}, during large publish`,
    value: MiBytes(large?.bytes),
    anchor: { name: 'docker-registry serve', value: MiBytes(registry?.bytes) },
    ...(large ? {} : { status: 'no reading (case 2 failed)' }),
  });
  const cli = find('cli', '2');
  ctx.add({
    ...base,
    name: 'arca publish (CLI), during large publish',
    value: MiBytes(cli?.bytes),
    target: { op: '<', value: 200 },
    ...(ctx.tools.cli
      ? cli?.bytes === undefined
        ? { status: 'no reading' }
        : {}
      : { status: 'CLI not built yet' }),
  });
  const gc = find('server', '5');
  const registryGc = find('registry-gc', '5');
  ctx.add({
    ...base,
    name: `${server}, during GC`,
    value: MiBytes(gc?.bytes),
    anchor: { name: 'docker-registry garbage-collect', value: MiBytes(registryGc?.bytes) },
    ...(gc?.note ? { note: gc.note } : {}),
    ...(gc ? {} : { status: 'no reading (case 5 failed)' }),
  });
}
