/**
 * The record locator, as the router uses it: a core NATS request/reply to the reconciler on
 * `topology.rpcSubject("reconciler", "locate")` carrying a LocateRequest, answered by a
 * LocateResponse. Not stored in JetStream: an answer is only useful now.
 *
 * When nobody answers (no responders, or the timeout passes) the router says so in a receipt
 * (router.locator_unavailable) rather than guessing holders; the message is dead-lettered so an
 * operator can replay it once the reconciler is up.
 */
import type { NatsConnection } from "nats";
import type { Topology } from "@hix/bus";
import { LocateRequest, LocateResponse, type Holder } from "@hix/proto";
import { RouterRejection } from "./errors.js";

export type Locator = (request: LocateRequest) => Promise<Holder[]>;

export function locateSubject(topology: Topology): string {
  return topology.rpcSubject("reconciler", "locate");
}

export function natsLocator(nc: NatsConnection, topology: Topology, timeoutMs: number): Locator {
  const subject = locateSubject(topology);
  return async (request) => {
    let reply: Uint8Array;
    try {
      const msg = await nc.request(subject, LocateRequest.encode(request).finish(), { timeout: timeoutMs });
      reply = msg.data;
    } catch (err) {
      const noResponders =
        err instanceof Error &&
        /503|no responders/i.test(`${(err as { code?: string }).code} ${err.message}`);
      throw new RouterRejection(
        "router.locator_unavailable",
        noResponders
          ? "the record locator (reconciler) is not running, so holders could not be found; name the holder or send again later"
          : `the record locator (reconciler) did not answer within ${timeoutMs} ms; name the holder or send again later`,
        { outcome: "failed" },
      );
    }
    try {
      return LocateResponse.decode(reply).holders;
    } catch {
      throw new RouterRejection(
        "router.locator_unavailable",
        `the record locator answered with ${reply.byteLength} bytes that are not a LocateResponse`,
        { outcome: "failed" },
      );
    }
  };
}
