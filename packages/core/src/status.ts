/** The status of a connection or a queue. Both start `closed`. */
export type Status = 'closing' | 'closed' | 'connecting' | 'connected' | 'disconnected';

/** Every status, for runtime checks. */
export const STATUSES: readonly Status[] = ['closing', 'closed', 'connecting', 'connected', 'disconnected'];

/**
 * The legal transitions, in one place. `closed` -> `connecting` on `connect()`; `connecting` -> `connected` or
 * `disconnected` (attempt failed); `connected` -> `disconnected` (link lost); `disconnected` -> `connecting`
 * (retry); any open status -> `closing` -> `closed` on `close()`.
 */
export const TRANSITIONS: Readonly<Record<Status, readonly Status[]>> = {
  closed: ['connecting'],
  connecting: ['connected', 'disconnected', 'closing'],
  connected: ['disconnected', 'closing'],
  disconnected: ['connecting', 'closing'],
  closing: ['closed'],
};

/** True when `to` may follow `from`. */
export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}
