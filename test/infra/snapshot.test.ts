import { beforeAll, describe, expect, it } from 'vitest';
import { type SynthesizedArca, synthArca } from './support.ts';

let arca: SynthesizedArca;
beforeAll(() => {
  arca = synthArca();
});

/** Asset hashes change with every handler edit; the snapshot is about the infrastructure. */
function normalised(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

describe('synthesized templates', () => {
  it('match the primary snapshot', () => {
    expect(normalised(arca.template.toJSON())).toMatchSnapshot();
  });

  it('match the replica snapshot', () => {
    expect(normalised(arca.replicaTemplate.toJSON())).toMatchSnapshot();
  });
});
