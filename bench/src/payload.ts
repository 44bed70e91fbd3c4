/** Bytes of the header every bench payload starts with: sequence number and send time. */
export const HEADER_BYTES = 12;

/** A payload of `size` bytes (at least the header) carrying `seq` and the send time. */
export function makePayload(size: number, seq: number): Buffer {
  const payload = Buffer.alloc(Math.max(size, HEADER_BYTES), 0x61);
  payload.writeUInt32BE(seq, 0);
  payload.writeDoubleBE(performance.now(), 4);
  return payload;
}

/** Reads the sequence number and send time back. */
export function readPayload(payload: Buffer): { seq: number; sentAt: number } {
  return { seq: payload.readUInt32BE(0), sentAt: payload.readDoubleBE(4) };
}
