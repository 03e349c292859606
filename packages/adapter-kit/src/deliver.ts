/**
 * Outbound: what the router delivered to this facility (HIX_OUT), rendered in its format
 * and handed to its destination — an outbox folder, an MLLP receiver, or a FHIR endpoint.
 * Each destination is idempotent for a redelivered envelope where it can be (the folder
 * writes `<envelope id>.<ext>` atomically; MLLP and FHIR receivers see the same content).
 *
 * Errors say whether trying again can help: a destination that is down is retryable; a
 * receiver that refuses the content (AE/AR, HTTP 4xx) is not, and the delivery is
 * dead-lettered with the reason.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Envelope } from "@hix/proto";
import { HixError } from "@hix/runtime";
import { renderOutbound } from "./codecs.js";
import type { Hooks } from "./hooks.js";
import { ackCode } from "./intake.js";
import { connectMllp } from "./mllp.js";
import type { FacilityProfile } from "./profile.js";

export class DeliveryError extends HixError {
  override name = "DeliveryError";
}

type Outbound = NonNullable<FacilityProfile["outbound"]>;

export interface Deliverer {
  deliver(envelope: Envelope): Promise<void>;
}

export function createDeliverer(options: {
  outbound: Outbound;
  profile: FacilityProfile;
  hooks?: Hooks | undefined;
  /** Resolves folder paths written in the profile. */
  resolvePath: (p: string) => string;
  fetch?: typeof fetch;
}): Deliverer {
  const { outbound } = options;
  const doFetch = options.fetch ?? fetch;
  return {
    async deliver(envelope) {
      if (envelope.body === undefined)
        throw new DeliveryError("adapter.no_body", `envelope ${envelope.id} has no body`);
      const rendered = renderOutbound(outbound.format, [envelope.body], {
        controlId: envelope.id,
        profile: options.profile,
        ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
      });
      const dest = outbound.destination;
      switch (dest.kind) {
        case "folder": {
          const dir = options.resolvePath(dest.dir);
          await mkdir(dir, { recursive: true });
          for (const [i, r] of rendered.entries()) {
            const name = `${envelope.id}${rendered.length > 1 ? `-${i + 1}` : ""}.${r.extension}`;
            // Write then rename: the facility's reader never sees half a file.
            const tmp = join(dir, `.${name}.tmp`);
            await writeFile(tmp, r.text);
            await rename(tmp, join(dir, name));
          }
          return;
        }
        case "mllp": {
          let client;
          try {
            client = await connectMllp({ host: dest.host, port: dest.port, ackTimeoutMs: dest.ackTimeoutMs });
          } catch (err) {
            throw new DeliveryError(
              "adapter.destination_unavailable",
              `MLLP destination ${dest.host}:${dest.port} unreachable`,
              { retryable: true, cause: err },
            );
          }
          try {
            for (const r of rendered) {
              const ack = await client.send(r.text);
              const code = ackCode(ack);
              if (code !== "AA" && code !== "CA")
                throw new DeliveryError(
                  "adapter.destination_refused",
                  `MLLP destination answered ${code ?? "no MSA"} for envelope ${envelope.id}`,
                );
            }
          } finally {
            await client.close();
          }
          return;
        }
        case "fhir": {
          for (const r of rendered) {
            let res: Response;
            try {
              res = await doFetch(dest.url, {
                method: "POST",
                headers: { "content-type": r.mediaType },
                body: r.text,
              });
            } catch (err) {
              throw new DeliveryError("adapter.destination_unavailable", `FHIR destination unreachable`, {
                retryable: true,
                cause: err,
              });
            }
            if (res.status >= 500 || res.status === 429)
              throw new DeliveryError(
                "adapter.destination_unavailable",
                `FHIR destination answered ${res.status}`,
                { retryable: true },
              );
            if (res.status >= 400)
              throw new DeliveryError(
                "adapter.destination_refused",
                `FHIR destination refused envelope ${envelope.id} with ${res.status}`,
              );
          }
          return;
        }
      }
    },
  };
}
