import { DebugEvents, connect, type ConnectionOptions, type NatsConnection } from "nats";
import type { Logger } from "@hix/runtime";

export interface BusConnectOptions {
  readonly servers: string | readonly string[];
  /** Shows up in the server's connection list (e.g. `router-1`). */
  readonly name: string;
  readonly logger: Logger;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/**
 * Connects to NATS with reconnects that never give up (a service outlives a server
 * restart) and logs connection status changes. Services close it with `drain()`.
 */
export async function connectBus(options: BusConnectOptions): Promise<NatsConnection> {
  const natsOptions: ConnectionOptions = {
    servers: typeof options.servers === "string" ? options.servers : [...options.servers],
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
  };
  const nc = await connect(natsOptions);
  const log = options.logger.child({ component: "nats" });
  log.info({ server: nc.getServer() }, "connected to NATS");
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === DebugEvents.PingTimer) continue;
      log.info(
        { status: status.type, data: typeof status.data === "string" ? status.data : undefined },
        "NATS status",
      );
    }
  })();
  return nc;
}
