import { describe, it } from 'vitest';
import { duplicatesDeadLetters, loseDeadLetters } from './broken-backends.js';
import { deadLettersThenAcks } from './broken-backends-3.js';
import { failsExactly } from './evaluate.js';

// The third round of the contract (issues 32 and 33): each case is proven on a broken memory backend.

describe('the dead-letter move under a link drop is caught at the exact moment', () => {
  it('a backend that stores a dead letter and acks the original in two steps dead-letters it twice when the link drops in between, and fails link-drop-while-dead-lettering', async () => {
    await failsExactly(deadLettersThenAcks, ['failures.link-drop-while-dead-lettering']);
    // The older variants still fail it, now at fixed moments.
    await failsExactly(duplicatesDeadLetters, ['failures.link-drop-while-dead-lettering']);
    await failsExactly(loseDeadLetters, ['failures.link-drop-while-dead-lettering']);
  }, 60_000);
});
