import { Socket } from 'node:net';
import { Readable } from 'node:stream';

/** What one socket did: writes handed to the kernel (one `write`/`writev` each), bytes written, chunks read. */
interface SocketIo {
  writes: number;
  bytes: number;
  reads: number;
}

/** Socket writes and reads of one round, per message: where a client's syscalls go. */
export interface RoundIo {
  /** Writes of the socket that wrote the most bytes (the sender's), per message sent. */
  senderWrites: number;
  /** Writes of every other socket (the receivers' acks, PUBACKs), per delivery. */
  receiverWrites: number;
  /** Chunks read by every socket, per delivery. */
  reads: number;
}

const sockets = new Map<Socket, SocketIo>();
let counting = false;

/** One thing a socket did: a write handed to libuv (`writev`: a gathered list of chunks) or a chunk read. */
export type SocketIoListener = (
  socket: Socket,
  kind: 'write' | 'read',
  writev: boolean,
  data: unknown,
) => void;

const listeners: SocketIoListener[] = [];

/** Bytes of one written chunk: mqtt-packet writes some fields as strings. */
function size(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  return (chunk as Uint8Array | undefined)?.byteLength ?? 0;
}

function of(socket: Socket): SocketIo {
  let io = sockets.get(socket);
  if (!io) {
    io = { writes: 0, bytes: 0, reads: 0 };
    sockets.set(socket, io);
  }
  return io;
}

/**
 * Calls `listener` on every socket write and read from now on, by wrapping two of Node's own stream methods
 * (`Socket#_writeGeneric`, which hands one write or one gathered writev to libuv, and `push`, which takes one
 * chunk read). Internal names of Node 20, used only by the bench's diagnostics; they cost the clients alike.
 */
export function onSocketIo(listener: SocketIoListener): void {
  if (listeners.length === 0) {
    const proto = Socket.prototype as unknown as {
      _writeGeneric: (writev: boolean, data: unknown, encoding: unknown, cb: unknown) => unknown;
      push: (chunk: unknown, encoding?: unknown) => boolean;
    };
    const writeGeneric = proto._writeGeneric;
    proto._writeGeneric = function (this: Socket, writev, data, encoding, cb) {
      for (const heard of listeners) heard(this, 'write', writev, data);
      return writeGeneric.call(this, writev, data, encoding, cb);
    };
    proto.push = function (this: Socket, chunk, encoding) {
      if (chunk !== null) for (const heard of listeners) heard(this, 'read', false, chunk);
      return Readable.prototype.push.call(this, chunk, encoding as BufferEncoding);
    };
  }
  listeners.push(listener);
}

/** `--io`: counts each socket's writes, bytes written and reads from now on (see {@link onSocketIo}). */
export function countSocketIo(): void {
  if (counting) return;
  counting = true;
  onSocketIo((socket, kind, writev, data) => {
    const io = of(socket);
    if (kind === 'read') {
      io.reads += 1;
      return;
    }
    io.writes += 1;
    if (writev) {
      for (const entry of data as Array<{ chunk: unknown }>) io.bytes += size(entry.chunk);
    } else io.bytes += size(data);
  });
}

/** A copy of every socket's counts so far (empty unless {@link countSocketIo} ran). */
export function ioSnapshot(): Map<Socket, SocketIo> {
  return new Map([...sockets].map(([socket, io]) => [socket, { ...io }]));
}

/** What happened between `before` and now, per message sent and per delivery; undefined when not counting. */
export function ioSince(before: Map<Socket, SocketIo>, sent: number, delivered: number): RoundIo | undefined {
  if (!counting) return undefined;
  const deltas = [...sockets].map(([socket, io]) => {
    const was = before.get(socket) ?? { writes: 0, bytes: 0, reads: 0 };
    return { writes: io.writes - was.writes, bytes: io.bytes - was.bytes, reads: io.reads - was.reads };
  });
  const active = deltas.filter((d) => d.writes + d.reads > 0);
  const sender = active.reduce((best, d) => (d.bytes > best.bytes ? d : best), {
    writes: 0,
    bytes: -1,
    reads: 0,
  });
  const receiverWrites = active.filter((d) => d !== sender).reduce((sum, d) => sum + d.writes, 0);
  const reads = active.reduce((sum, d) => sum + d.reads, 0);
  return {
    senderWrites: sender.writes / Math.max(sent, 1),
    receiverWrites: receiverWrites / Math.max(delivered, 1),
    reads: reads / Math.max(delivered, 1),
  };
}
