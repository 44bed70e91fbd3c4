import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Requests share one deadline timer: it keeps the process alive while a request waits (as a timer per request
// did), and not after the last one ended. The built package, run in a fresh Node process (nothing else keeps
// the memory backend's process alive: no socket).
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `code` as ESM from the package's folder; resolves with what it printed and how long it ran. */
function runNode(code: string): Promise<{ out: string; millis: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { cwd: packageDir, encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve({ out: stdout.trim(), millis: performance.now() - started });
      },
    );
  });
}

const setup = `
  import { waitForStatus } from '@mq/core';
  import { MemoryConnection, MemoryQueue } from '@mq/memory';
  const conn = new MemoryConnection({ uri: 'memory://request-lifetime' });
  conn.connect();
  const client = new MemoryQueue({ name: 'rpc', isRecv: false }, conn);
  client.connect();
  await waitForStatus(client, 'connected');
`;

describe('the deadline timer of requests', () => {
  it('keeps the process alive until a request without reply rejects TIMEOUT', async () => {
    const { out } = await runNode(`${setup}
      client.request(Buffer.from('ping'), { timeoutMillis: 300 }).then(
        () => console.log('replied'),
        (error) => console.log(error.code),
      );`);
    expect(out).toBe('TIMEOUT');
  });

  it('does not keep the process alive once every request got its reply, though their deadlines are far', async () => {
    const { out, millis } = await runNode(`${setup}
      const server = new MemoryQueue({ name: 'rpc', isRecv: true }, conn);
      server.setMsgHandler(async (_queue, message) => {
        await message.reply(message.payload);
        await message.ack();
      });
      server.connect();
      await waitForStatus(server, 'connected');
      const replies = await Promise.all(
        [1, 2, 3].map((n) => client.request(Buffer.from(String(n)), { timeoutMillis: 600_000 })),
      );
      console.log(replies.map((reply) => reply.payload.toString()).join(','));`);
    expect(out).toBe('1,2,3');
    // Well under the 600 s deadlines (and the 20 s limit of the child): nothing held the process.
    expect(millis).toBeLessThan(15_000);
  });
});
