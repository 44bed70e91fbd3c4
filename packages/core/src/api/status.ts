/** The status of a connection or a queue. Both start `closed`. */
export type Status = 'closing' | 'closed' | 'connecting' | 'connected' | 'disconnected';

/** Every status, for runtime checks. */
export const STATUSES: readonly Status[] = ['closing', 'closed', 'connecting', 'connected', 'disconnected'];
