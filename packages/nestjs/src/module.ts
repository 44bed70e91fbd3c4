import type {
  DynamicModule,
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Provider,
} from '@nestjs/common';
import { MqClient } from './client.js';
import { invalidOption } from './errors.js';
import { MqHealthIndicator } from './health.js';
import { MqErrorInterceptor } from './interceptor.js';
import type { MqTransportOptions } from './options.js';
import { MqRegistry } from './registry.js';
import { MqServer } from './server.js';

/** The injection token of the options given to `MqModule.forRoot` (or made by `forRootAsync`). */
export const MQ_MODULE_OPTIONS: unique symbol = Symbol.for('@mq/nestjs:options');

/** Options of `MqModule.forRoot`: those of the transports it makes. */
export interface MqModuleOptions extends MqTransportOptions {
  /**
   * Connection options of the module's server only, over `connection`: what must differ between connections,
   * such as an MQTT persistent session's `clientId` and `cleanSession: false` (the receiving side needs them).
   */
  serverConnection?: Readonly<Record<string, unknown>>;
}

/** Options of `MqModule.forRootAsync`: a factory for {@link MqModuleOptions}, as Nest's async modules take. */
export interface MqModuleAsyncOptions {
  /** Modules whose providers the factory needs (a `ConfigModule`, ...). */
  imports?: ModuleMetadata['imports'];
  /** What the factory is given. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Makes the options. */
  useFactory: (...args: never[]) => MqModuleOptions | Promise<MqModuleOptions>;
}

/**
 * Options of `MqModule.forFeature`: a client injected as `@Inject(name)`, on its own connection, with the root
 * options overridden by these (`queues` and `queueDefaults` merged entry by entry).
 */
export interface MqFeatureOptions extends Partial<MqTransportOptions> {
  /** Its injection token, and its name in health reports. */
  name: string;
}

/** The providers every `forRoot` and `forRootAsync` registers, from the options token. */
const ROOT_PROVIDERS: Provider[] = [
  // @nestjs/core's APP_INTERCEPTOR, by value: this package does not depend on @nestjs/core.
  { provide: 'APP_INTERCEPTOR', useValue: new MqErrorInterceptor() },
  {
    provide: MqRegistry,
    useFactory: (options: MqModuleOptions) => new MqRegistry(options),
    inject: [MQ_MODULE_OPTIONS],
  },
  { provide: MqServer, useFactory: (registry: MqRegistry) => registry.server, inject: [MqRegistry] },
  { provide: MqClient, useFactory: (registry: MqRegistry) => registry.client, inject: [MqRegistry] },
  {
    provide: MqHealthIndicator,
    useFactory: (registry: MqRegistry) => registry.indicator,
    inject: [MqRegistry],
  },
];

const ROOT_EXPORTS = [MQ_MODULE_OPTIONS, MqRegistry, MqServer, MqClient, MqHealthIndicator];

/**
 * The Nest module of mq. `forRoot` (global) provides an {@link MqClient}, an {@link MqServer} for hybrid apps
 * (`app.connectMicroservice({ strategy: app.get(MqServer) })`) and an {@link MqHealthIndicator} over them; it
 * closes them on application shutdown, after Nest has closed its transports. `forFeature` adds named clients.
 */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class; its static methods make its dynamic modules.
export class MqModule {
  /** The root module, with its options. */
  static forRoot(options: MqModuleOptions): DynamicModule {
    return {
      module: MqModule,
      global: true,
      providers: [{ provide: MQ_MODULE_OPTIONS, useValue: options }, ...ROOT_PROVIDERS],
      exports: ROOT_EXPORTS,
    };
  }

  /** The root module, with options a factory makes (from a `ConfigService`, say). */
  static forRootAsync(options: MqModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function')
      throw invalidOption('MqModule.forRootAsync: useFactory must be a function returning the options');
    return {
      module: MqModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: MQ_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...ROOT_PROVIDERS,
      ],
      exports: ROOT_EXPORTS,
    };
  }

  /** A named client (`@Inject(name)`), on the root module's options with these over them. Needs `forRoot`. */
  static forFeature(options: MqFeatureOptions): DynamicModule {
    const { name, ...own } = options ?? ({} as MqFeatureOptions);
    if (typeof name !== 'string' || name === '')
      throw invalidOption('MqModule.forFeature: name must be a non-empty string (the injection token)');
    return {
      module: MqModule,
      providers: [
        {
          provide: name,
          useFactory: (registry: MqRegistry) => {
            const root = registry.options;
            return registry.addClient(name, {
              ...root,
              ...own,
              queueDefaults: { ...root.queueDefaults, ...own.queueDefaults },
              queues: { ...root.queues, ...own.queues },
            } as MqTransportOptions);
          },
          inject: [MqRegistry],
        },
      ],
      exports: [name],
    };
  }
}
