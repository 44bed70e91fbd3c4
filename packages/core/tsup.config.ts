import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', spi: 'src/spi/index.ts', contract: 'src/contract/index.ts' },
  format: ['esm', 'cjs'],
  // Also for CommonJS (esbuild's splitting is ESM-only; tsup adds it for cjs): the three entries share one copy of
  // each module, so `require('@mq/core').MqError === require('@mq/core/spi').MqError`, and a connection made
  // through one entry is known to the queues of the other.
  splitting: true,
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
