import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown links `[text](target)`, without their #fragment. */
const linksOf = (text: string) =>
  [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!.split('#')[0]!).filter(Boolean);

describe('the documentation', () => {
  it.each(documents)('%s links only to files in the repository', (document) => {
    const text = readFileSync(join(root, document), 'utf8');
    for (const link of linksOf(text)) {
      expect(link, `${document} links outside the repository: ${link}`).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
      const target = resolve(dirname(join(root, document)), decodeURI(link));
      expect(relative(root, target).startsWith('..'), `${document}: ${link} leaves the repository`).toBe(
        false,
      );
      expect(existsSync(target), `${document}: ${link} does not exist`).toBe(true);
    }
    expect(text, `${document} names a file outside the repository`).not.toMatch(
      /\bshared\/(API|DESIGN|STYLE)\.md/,
    );
  });
});
