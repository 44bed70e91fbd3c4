import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script of the repository, without declarations.
import { CONTRACT_FILE, renderContract } from '../../../scripts/contract-doc.mjs';
import { contractCases } from '../src/contract/index.js';

describe('CONTRACT.md', () => {
  it('lists every contract case as it is now (regenerate with `node scripts/contract-doc.mjs`)', () => {
    expect(readFileSync(CONTRACT_FILE, 'utf8')).toBe(renderContract(contractCases));
  });
});
