import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardBroker, type Release, spawnBroker } from './guard.js';
import type { BrokerTls } from './mosquitto.js';
import { freePort, waitForPort } from './ports.js';
import { findExecutable, run } from './tools.js';

/** Where Debian and the RabbitMQ packages put the server scripts. */
const RABBIT_DIRS = ['/usr/lib/rabbitmq/bin'];

/** Why a RabbitMQ node of our own cannot be started here, or undefined when it can. */
export function rabbitmqMissing(): string | undefined {
  if (process.platform === 'win32') return 'throwaway RabbitMQ nodes need a Unix machine';
  if (!findExecutable('rabbitmq-server', RABBIT_DIRS)) return 'rabbitmq-server is not installed';
  if (!findExecutable('rabbitmqctl', RABBIT_DIRS)) return 'rabbitmqctl is not installed';
  return undefined;
}

/**
 * What identifies a RabbitMQ node started by {@link startRabbitNode}, as plain data: a vitest `globalSetup` can
 * `provide()` it to test files, which control the node through {@link controlRabbitNode}.
 */
export interface RabbitNodeInfo {
  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  url: string;
  /** The AMQP port on 127.0.0.1. */
  port: number;
  /** `amqps://guest:guest@127.0.0.1:<port>` of the TLS listener, when `tls` was given. */
  tlsUrl?: string;
  /** `mqtt://guest:guest@127.0.0.1:<port>` of its MQTT listener (MQTT 3.1.1), when `mqtt` was given. */
  mqttUrl?: string;
  /** The Erlang node name, e.g. `mqtest-1a2b@localhost`. */
  nodeName: string;
  /** The environment its `rabbitmqctl` needs (its own `HOME` and Erlang cookie, loopback-only distribution). */
  ctlEnv: Record<string, string>;
  /** The `rabbitmqctl` executable. */
  ctlPath: string;
}

/** What any test file can do to a running node, given its {@link RabbitNodeInfo}. */
export interface RabbitControl {
  /** The node. */
  readonly info: RabbitNodeInfo;
  /** `amqp://guest:guest@127.0.0.1:<port>`. */
  readonly url: string;
  /** `amqps://guest:guest@127.0.0.1:<port>` of its TLS listener, when it has one. */
  readonly tlsUrl: string | undefined;
  /** `mqtt://guest:guest@127.0.0.1:<port>` of its MQTT listener, when it has one. */
  readonly mqttUrl: string | undefined;
  /** Runs `rabbitmqctl -q -n <node> ...args` against this node and returns its output. */
  ctl(...args: string[]): Promise<string>;
  /** Closes every client connection whose `connection_name` is `name`, as an operator would; false if none. */
  closeConnection(name: string, reason?: string): Promise<boolean>;
  /** Stops the RabbitMQ application and starts it again (`stop_app` / `start_app`): clients lose their links. */
  restartApp(): Promise<void>;
}

/** A RabbitMQ node of the tests' own, on free loopback ports, with its own data, logs and Erlang cookie. */
export interface RabbitNode extends RabbitControl {
  /** Stops the whole node gracefully; `start()` brings it back with the same data. */
  stop(): Promise<void>;
  /** Kills the node at once (SIGKILL), as a crash would; `start()` brings it back with the same data. */
  kill(): Promise<void>;
  /** Starts the node again after `stop()` or `kill()`; resolves once it takes AMQP connections. */
  start(): Promise<void>;
  /** Stops the node and deletes everything it wrote; idempotent. */
  dispose(): Promise<void>;
}

/** Controls a node another process (a vitest `globalSetup`) started, from its {@link RabbitNodeInfo}. */
export function controlRabbitNode(info: RabbitNodeInfo): RabbitControl {
  const env = { ...process.env, ...info.ctlEnv };
  const ctl = (...args: string[]): Promise<string> =>
    run(info.ctlPath, ['-q', '-n', info.nodeName, ...args], env);
  return {
    info,
    url: info.url,
    tlsUrl: info.tlsUrl,
    mqttUrl: info.mqttUrl,
    ctl,
    async closeConnection(name, reason = 'closed by the test') {
      let closed = false;
      for (const row of (await ctl('list_connections', 'pid', 'client_properties')).split('\n')) {
        if (!row.includes(`{"connection_name","${name}"}`)) continue;
        await ctl('close_connection', row.split('\t')[0] ?? '', reason);
        closed = true;
      }
      return closed;
    },
    async restartApp() {
      await ctl('stop_app');
      await ctl('start_app');
    },
  };
}

/** Options of {@link startRabbitNode}. */
export interface RabbitNodeOptions {
  /**
   * Milliseconds to wait for the node to take connections.
   * @default 60000
   */
  startTimeoutMillis?: number;
  /** Extra lines for its `rabbitmq.conf`. */
  config?: readonly string[];
  /**
   * The Erlang cookie: nodes that are to form a cluster need the same one.
   * @default a random one of its own
   */
  cookie?: string;
  /**
   * A TLS listener on a port of its own (`tlsUrl`), with these PEM files; `requireCertificate` refuses clients
   * without a certificate signed by `ca` (`fail_if_no_peer_cert`).
   */
  tls?: BrokerTls;
  /**
   * Plugins to enable, e.g. `rabbitmq_auth_mechanism_ssl` (with `tls`, EXTERNAL is then offered after PLAIN and
   * AMQPLAIN, logging in as the client certificate's common name).
   * @default none
   */
  plugins?: readonly string[];
  /**
   * An MQTT listener (the `rabbitmq_mqtt` plugin, MQTT 3.1.1) on a port of its own (`mqttUrl`).
   * @default false
   */
  mqtt?: boolean;
}

/**
 * Starts a RabbitMQ node of the tests' own: nothing it reads or writes is shared with another broker on the
 * machine (ports, node name, data, logs, cookie, plugins) but epmd, Erlang's port mapper on 4369, which every
 * node on a machine registers with (one a node starts stays after it), so tests can restart, kill, block or set
 * alarms on it freely. About 10 s to start. A watchdog kills it and deletes its folder if the test process dies without
 * calling `dispose()`. Throws when `rabbitmqMissing()` says why it cannot.
 */
export async function startRabbitNode(options: RabbitNodeOptions = {}): Promise<RabbitNode> {
  const missing = rabbitmqMissing();
  if (missing) throw new Error(`[mq/testkit] cannot start a RabbitMQ node: ${missing}`);
  const server = findExecutable('rabbitmq-server', RABBIT_DIRS) as string;
  const ctlPath = findExecutable('rabbitmqctl', RABBIT_DIRS) as string;
  const timeout = options.startTimeoutMillis ?? 60_000;
  const folder = mkdtempSync(join(tmpdir(), 'mq-rabbit-'));
  const port = await freePort();
  const distPort = await freePort();
  const nodeName = `mqtest-${process.pid}-${port}@localhost`;
  const home = join(folder, 'home');
  mkdirSync(home);
  const cookie = join(home, '.erlang.cookie');
  writeFileSync(cookie, options.cookie ?? randomCookie());
  chmodSync(cookie, 0o400);
  const config = join(folder, 'rabbitmq.conf');
  const tls = options.tls;
  const tlsPort = tls ? await freePort() : undefined;
  const mqttPort = options.mqtt === true ? await freePort() : undefined;
  const plugins = [
    ...(options.plugins ?? []),
    ...(mqttPort !== undefined && !options.plugins?.includes('rabbitmq_mqtt') ? ['rabbitmq_mqtt'] : []),
  ];
  const tlsLines =
    tls && tlsPort !== undefined
      ? [
          `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
          `ssl_options.cacertfile = ${tls.ca}`,
          `ssl_options.certfile = ${tls.cert}`,
          `ssl_options.keyfile = ${tls.key}`,
          'ssl_options.verify = verify_peer',
          `ssl_options.fail_if_no_peer_cert = ${tls.requireCertificate === true ? 'true' : 'false'}`,
          ...(plugins.includes('rabbitmq_auth_mechanism_ssl')
            ? [
                'auth_mechanisms.1 = PLAIN',
                'auth_mechanisms.2 = AMQPLAIN',
                'auth_mechanisms.3 = EXTERNAL',
                // The user is the certificate's common name (RabbitMQ's default is the whole distinguished name).
                'ssl_cert_login_from = common_name',
              ]
            : []),
        ]
      : [];
  writeFileSync(
    config,
    [
      `listeners.tcp.local = 127.0.0.1:${port}`,
      'loopback_users = none',
      ...tlsLines,
      ...(mqttPort === undefined ? [] : [`mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`]),
      ...(options.config ?? []),
    ].join('\n'),
  );
  writeFileSync(join(folder, 'rabbitmq-env.conf'), '');
  writeFileSync(join(folder, 'enabled_plugins'), `[${plugins.join(',')}].`);
  const localOnly = '-kernel inet_dist_use_interface {127,0,0,1}';
  const ctlEnv = { HOME: home, ERL_EPMD_ADDRESS: '127.0.0.1', RABBITMQ_CTL_ERL_ARGS: localOnly };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...ctlEnv,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_CONFIG_FILE: config,
    RABBITMQ_CONF_ENV_FILE: join(folder, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(folder, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(folder, 'mnesia'),
    RABBITMQ_LOG_BASE: join(folder, 'log'),
    RABBITMQ_PID_FILE: join(folder, 'pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: localOnly,
  };
  const control = controlRabbitNode({
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    ...(tlsPort === undefined ? {} : { tlsUrl: `amqps://guest:guest@127.0.0.1:${tlsPort}` }),
    ...(mqttPort === undefined ? {} : { mqttUrl: `mqtt://guest:guest@127.0.0.1:${mqttPort}` }),
    nodeName,
    ctlEnv,
    ctlPath,
  });
  const { ctl } = control;

  let child: ChildProcess | undefined;
  let release: Release = () => {};
  const boot = async (): Promise<void> => {
    // Its own process group, so that kill() and the watchdog take the shell and the Erlang VM together.
    const started = await spawnBroker(server, [], env, join(folder, 'server.out'));
    child = started;
    release();
    release = guardBroker(started.pid, folder);
    try {
      await waitForPort(port, true, timeout, `RabbitMQ node ${nodeName}`);
      await ctl('await_startup');
      if (tlsPort !== undefined) await waitForPort(tlsPort, true, timeout, `RabbitMQ node ${nodeName} (TLS)`);
      if (mqttPort !== undefined)
        await waitForPort(mqttPort, true, timeout, `RabbitMQ node ${nodeName} (MQTT)`);
    } catch (error) {
      const tail = readTail(join(folder, 'server.out'));
      throw new Error(`${(error as Error).message}\n--- its output ---\n${tail}`);
    }
  };
  const killGroup = (): void => {
    const pid = child?.pid;
    child = undefined;
    if (pid === undefined) return;
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const stop = async (): Promise<void> => {
    if (!child) return;
    await ctl('stop').catch(() => {});
    killGroup();
    await waitForPort(port, false, 30_000, `RabbitMQ node ${nodeName}`);
  };
  let disposed = false;
  try {
    await boot();
  } catch (error) {
    killGroup();
    release();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    ...control,
    stop,
    async kill() {
      killGroup();
      await waitForPort(port, false, 30_000, `RabbitMQ node ${nodeName}`);
    },
    async start() {
      if (!child) await boot();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      // Its data goes with it: no graceful stop needed.
      killGroup();
      await waitForPort(port, false, 30_000, `RabbitMQ node ${nodeName}`).catch(() => {});
      release();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(none)';
  }
}

function randomCookie(): string {
  return `MQTEST${Math.random().toString(36).slice(2).toUpperCase()}`;
}

/** A RabbitMQ cluster of the tests' own, see {@link startRabbitCluster}. */
export interface RabbitCluster {
  /** Its nodes; the first is the one the others joined. */
  readonly nodes: readonly RabbitNode[];
  /** `amqp://guest:guest@127.0.0.1:<port>` of each node, in order. */
  readonly urls: readonly string[];
  /** `mqtt://guest:guest@127.0.0.1:<port>` of each node's MQTT listener, in order (empty without `mqtt`). */
  readonly mqttUrls: readonly string[];
  /** Stops every node and deletes everything they wrote; idempotent. */
  dispose(): Promise<void>;
}

/** Options of {@link startRabbitCluster}. */
export interface RabbitClusterOptions {
  /**
   * How many nodes.
   * @default 3
   */
  nodes?: number;
  /** Extra lines for every node's `rabbitmq.conf`. */
  config?: readonly string[];
  /**
   * Milliseconds to wait for each node to take connections.
   * @default 90000
   */
  startTimeoutMillis?: number;
  /**
   * An MQTT listener on every node (the `rabbitmq_mqtt` plugin, MQTT 3.1.1), see {@link RabbitNodeOptions.mqtt}.
   * @default false
   */
  mqtt?: boolean;
}

/**
 * Starts a RabbitMQ cluster of the tests' own on loopback: `nodes` nodes (see {@link startRabbitNode}) with one
 * Erlang cookie, the others joined to the first (`stop_app`, `join_cluster`, `start_app`), with
 * `cluster_partition_handling = pause_minority`. About 40 s for three on a 2-core machine. Stop, kill and start
 * its nodes freely: a node that starts again rejoins by itself.
 */
export async function startRabbitCluster(options: RabbitClusterOptions = {}): Promise<RabbitCluster> {
  const count = options.nodes ?? 3;
  const cookie = randomCookie();
  const nodeOptions: RabbitNodeOptions = {
    cookie,
    startTimeoutMillis: options.startTimeoutMillis ?? 90_000,
    config: ['cluster_partition_handling = pause_minority', ...(options.config ?? [])],
    ...(options.mqtt === true ? { mqtt: true } : {}),
  };
  const started = await Promise.allSettled(Array.from({ length: count }, () => startRabbitNode(nodeOptions)));
  const nodes = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const dispose = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((node) => node.dispose()));
  };
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    await dispose();
    throw (failed as PromiseRejectedResult).reason;
  }
  try {
    const [first, ...others] = nodes as [RabbitNode, ...RabbitNode[]];
    for (const node of others) {
      await node.ctl('stop_app');
      await node.ctl('join_cluster', first.info.nodeName);
      await node.ctl('start_app');
      await node.ctl('await_startup');
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    mqttUrls: nodes.flatMap((node) => (node.mqttUrl === undefined ? [] : [node.mqttUrl])),
    dispose,
  };
}
