import { connect, type NatsConnection } from "nats";
import { createTopology, type Topology } from "@hix/bus";
import { HixError } from "@hix/runtime";
import type { CommandIo } from "./command.js";

/** The options every bus-facing command takes, for node:util parseArgs. */
export const BUS_OPTIONS = {
  "nats-url": { type: "string" },
  prefix: { type: "string" },
} as const;

export const BUS_OPTIONS_HELP = `  --nats-url URL    NATS server (default: $HIX_NATS_URL or nats://127.0.0.1:4222)
  --prefix P        topology prefix, for an isolated exchange (default: $HIX_TOPOLOGY_PREFIX or none)`;

export interface BusSession {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  close(): Promise<void>;
}

/** Connects to NATS for a one-shot command; an unreachable server is a `cli.unavailable` error (exit 3). */
export async function openBus(
  values: { "nats-url"?: string | undefined; prefix?: string | undefined },
  io: CommandIo,
): Promise<BusSession> {
  const url = values["nats-url"] ?? io.env["HIX_NATS_URL"] ?? "nats://127.0.0.1:4222";
  const topology = createTopology(values.prefix ?? io.env["HIX_TOPOLOGY_PREFIX"] ?? "");
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: "hix-cli", maxReconnectAttempts: 0, timeout: 3000 });
  } catch (err) {
    throw new HixError("cli.unavailable", `cannot reach NATS at ${url}`, { cause: err });
  }
  return { nc, topology, close: () => nc.drain() };
}
