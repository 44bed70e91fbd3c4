import { BaseConnection } from '../src/index.js';

/** A minimal connection class for unit tests of core helpers (its link is never opened). */
export class MemoryLikeConnection extends BaseConnection {
  constructor() {
    super(1000);
  }

  protected override async openLink(): Promise<void> {}

  protected override async closeLink(): Promise<void> {}
}
