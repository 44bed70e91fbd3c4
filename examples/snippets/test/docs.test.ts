import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { MqErrorCode } from '@mq/core';
import { MQ_HEADERS } from '@mq/core';
import { contractCases } from '@mq/core/contract';
import { describe, expect, it } from 'vitest';
import {
  anchors,
  links,
  REFERENCE_PAGES,
  REPOSITORY,
  read,
  readmes,
  root,
  withoutCodeBlocks,
} from './markdown.js';

/**
 * Every `MqErrorCode`, as a value the docs can be compared with: `satisfies` makes the compiler refuse this list
 * (in `pnpm typecheck`) as soon as a code is added to or removed from the type.
 */
const ERROR_CODES = Object.keys({
  NO_HANDLER: true,
  NOT_CONNECTED: true,
  SEND_ON_RECEIVER: true,
  HANDLER_ON_SENDER: true,
  INVALID_OPTIONS: true,
  INVALID_ARGUMENT: true,
  CLOSED: true,
  CONNECTION_LOST: true,
  REJECTED: true,
  NO_RECEIVER: true,
  ACK_FAILED: true,
  HANDLER_FAILED: true,
  DEAD_LETTERED: true,
  DROPPED: true,
  INVALID_PAYLOAD: true,
  BROKER: true,
  UNREACHABLE: true,
  AUTH_FAILED: true,
  VHOST_REFUSED: true,
  TLS_FAILED: true,
  PROTOCOL_MISMATCH: true,
  NOT_FOUND: true,
  UNSUPPORTED: true,
  TIMEOUT: true,
  ABORTED: true,
} satisfies Record<MqErrorCode, true>);

/** The headers mq may name in prose: its own `MQ_HEADERS`, and the MQTT 5 user property that carries a message id. */
const MQ_HEADER_NAMES = new Set<string>([...Object.values(MQ_HEADERS), 'mq-message-id']);

const pages = readmes();
/** A page's text with its lines joined, so that a phrase broken over two lines reads as one. */
const prose = (page: string): string => withoutCodeBlocks(read(page)).replace(/\s+/g, ' ');

/** Where a link points in this repository: a root-relative path and an anchor, or undefined for the outside world. */
function resolve(page: string, target: string): { path: string; anchor: string | undefined } | undefined {
  const own = new RegExp(`^${REPOSITORY.replace(/[.]/g, '\\.')}/(?:blob|tree)/main/([^#?]+)(?:#(.*))?$`).exec(
    target,
  );
  if (own) return { path: own[1] ?? '', anchor: own[2] };
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [path = '', anchor] = target.split('#');
  return { path: path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path))), anchor };
}

describe('what the docs say matches the code', () => {
  it.each([...pages, ...REFERENCE_PAGES])(
    'every link of %s leads to a file (and heading) of this repository',
    (page) => {
      const broken: string[] = [];
      for (const { line, target } of links(read(page))) {
        const to = resolve(page, target);
        if (to === undefined) continue;
        const file = join(root, to.path);
        if (!existsSync(file)) {
          broken.push(`${page}:${line} ${target}: no such file`);
        } else if (to.anchor !== undefined && to.anchor !== 'readme') {
          const known =
            statSync(file).isFile() && to.path.endsWith('.md') ? anchors(read(to.path)) : new Set<string>();
          if (!known.has(to.anchor)) broken.push(`${page}:${line} ${target}: no heading #${to.anchor}`);
        }
      }
      expect(broken).toEqual([]);
    },
  );

  it("every count of contract cases and groups is the contract's (contractCases in @mq/core/contract)", () => {
    const groups = [...new Set(contractCases.map((c) => c.group))];
    const wrong: string[] = [];
    let seen = 0;
    for (const page of [...pages, 'packages/core/CONTRACT.md']) {
      const text = prose(page);
      for (const match of text.matchAll(/\b(\d[\d,]*) (?:contract )?cases\b/g)) {
        seen += 1;
        if (Number(match[1]?.replace(/,/g, '')) !== contractCases.length) wrong.push(`${page}: ${match[0]}`);
      }
      for (const match of text.matchAll(/\b(\d+) groups(?: \(([^)]*)\))?/g)) {
        if (Number(match[1]) !== groups.length) wrong.push(`${page}: ${match[0]}`);
        if (match[2] !== undefined && match[2] !== groups.join(', ')) wrong.push(`${page}: ${match[0]}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(seen).toBeGreaterThanOrEqual(3);
  });

  it('every list marked <!-- error-codes: all --> names each MqErrorCode once, and no other', () => {
    let lists = 0;
    for (const page of pages) {
      const lines = read(page).split('\n');
      lines.forEach((line, index) => {
        if (line.trim() !== '<!-- error-codes: all -->') return;
        lists += 1;
        const codes: string[] = [];
        for (const next of lines.slice(index + 1)) {
          if (next.trim() === '' || /^\s*- /.test(next)) break;
          // In a table only the first column names codes; in prose every code span does.
          const text = next.trim().startsWith('|') ? (next.split('|')[1] ?? '') : next;
          for (const span of text.matchAll(/`([A-Z][A-Z_]+)`/g)) codes.push(span[1] ?? '');
        }
        expect(codes, `${page}:${index + 1}`).toEqual(ERROR_CODES);
      });
    }
    expect(lists).toBeGreaterThanOrEqual(2);
  });

  it('every code in a table of error codes is an MqErrorCode', () => {
    const unknown: string[] = [];
    for (const page of pages) {
      let codeTable = false;
      for (const line of withoutCodeBlocks(read(page)).split('\n')) {
        if (!line.startsWith('|')) {
          codeTable = false;
          continue;
        }
        const first = (line.split('|')[1] ?? '').trim();
        if (first === 'code') codeTable = true;
        const code = /^`([A-Z][A-Z_]+)`$/.exec(first)?.[1];
        if (codeTable && code !== undefined && !ERROR_CODES.includes(code)) unknown.push(`${page}: ${code}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('every mq- header the docs name is one mq sets', () => {
    const unknown: string[] = [];
    // The bench's pages name its own RabbitMQ policies and queues `mq-bench...`, which are not headers.
    for (const page of pages.filter((p) => !p.startsWith('bench/'))) {
      for (const span of prose(page).matchAll(/`(mq-[a-z-]*[a-z])`/g)) {
        if (!MQ_HEADER_NAMES.has(span[1] ?? '')) unknown.push(`${page}: ${span[1]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
