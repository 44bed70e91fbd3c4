import { Logger } from '@nestjs/common';
import { MqClient } from './client.js';
import { invalidOption } from './errors.js';
import { MqHealthIndicator, type MqHealthSource } from './health.js';
import type { MqModuleOptions } from './module.js';
import type { MqTransportOptions } from './options.js';
import { MqServer } from './server.js';

/** The name the default client of `MqModule.forRoot` has in health reports. */
export const DEFAULT_CLIENT_NAME = 'client';

/**
 * What one `MqModule.forRoot` owns: its server (for hybrid apps), its clients (the default one and each
 * `forFeature` one) and the health indicator over them. Starts the clients connecting when the app has
 * bootstrapped, and closes everything on application shutdown, after Nest has closed its transports (so
 * handlers still running then could emit).
 */
export class MqRegistry {
  /** The module's server: `app.connectMicroservice({ strategy: app.get(MqServer) })`. */
  readonly server: MqServer;
  /** The clients by name. */
  readonly clients = new Map<string, MqClient>();
  /** The health indicator over the server and the clients. */
  readonly indicator: MqHealthIndicator;
  readonly #options: MqTransportOptions;
  readonly #logger = new Logger('MqModule');
  #bootstrapped = false;

  /** Creates the server and the default client (checking the options: `INVALID_OPTIONS` naming the field). */
  constructor(options: MqModuleOptions) {
    if (typeof options !== 'object' || options === null)
      throw invalidOption('MqModule options must be an object');
    const { serverConnection, ...transport } = options;
    if (serverConnection !== undefined && (typeof serverConnection !== 'object' || serverConnection === null))
      throw invalidOption('serverConnection must be an object of connection options');
    this.#options = transport;
    this.server = new MqServer({
      ...transport,
      connection: { ...transport.connection, ...serverConnection },
    });
    this.clients.set(DEFAULT_CLIENT_NAME, new MqClient(transport));
    this.indicator = new MqHealthIndicator(
      () => [this.server],
      () => this.clients as ReadonlyMap<string, MqHealthSource>,
    );
  }

  /** The root options, for `forFeature` clients to start from. */
  get options(): MqTransportOptions {
    return this.#options;
  }

  /** The default client. */
  get client(): MqClient {
    return this.clients.get(DEFAULT_CLIENT_NAME) as MqClient;
  }

  /** Adds a named client (from `forFeature`); it connects with the others. */
  addClient(name: string, options: MqTransportOptions): MqClient {
    const client = new MqClient(options);
    this.clients.set(name, client);
    if (this.#bootstrapped) this.#connect(name, client);
    return client;
  }

  /** Nest's hook: the clients start connecting (in the background: a broker that is down fails no bootstrap). */
  onApplicationBootstrap(): void {
    this.#bootstrapped = true;
    for (const [name, client] of this.clients) this.#connect(name, client);
  }

  /** Nest's hook, after the transports are closed: closes the server (if still open) and every client. */
  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }

  #connect(name: string, client: MqClient): void {
    client.connect().catch((error: unknown) => {
      this.#logger.warn(`client '${name}' is not connected yet, and keeps trying: ${String(error)}`);
    });
  }
}
