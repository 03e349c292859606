// Watches the exchange's delivery subjects during the demo and keeps what it saw, so steps can
// wait for "the clinic got a duplicate alert" and the summary can count receipts and alerts.
import type { NatsConnection, Subscription } from "nats";
import type { Topology } from "@hix/bus";
import type { IdentityAlertKind, ReceiptStatus } from "@hix/proto";
import {
  decodeEnvelope,
  identityAlertKindToJSON,
  receiptStatusToJSON,
  unbatch,
  type Envelope,
} from "@hix/proto";

export interface Seen {
  readonly at: number;
  readonly facility: string;
  readonly kind: string;
  readonly envelope: Envelope;
}

export class Observer {
  readonly seen: Seen[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly sub: Subscription;

  constructor(
    nc: NatsConnection,
    private readonly topology: Topology,
  ) {
    const sub = nc.subscribe(topology.outSubject("*", "*"));
    this.sub = sub;
    void (async () => {
      for await (const msg of sub) {
        const parsed = this.topology.parse(msg.subject);
        if (parsed === undefined) continue;
        let envelopes: Envelope[];
        try {
          envelopes = unbatch(decodeEnvelope(msg.data));
        } catch {
          continue;
        }
        for (const envelope of envelopes)
          this.seen.push({ at: Date.now(), facility: parsed.facility, kind: parsed.kind, envelope });
        for (const wake of this.waiters) wake();
      }
    })();
  }

  /** Resolves with the first delivery (seen before or after the call) that `match` accepts. */
  async waitFor(match: (s: Seen) => boolean, timeoutMs: number): Promise<Seen | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 500));
        const waiters = this.waiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  receipts(): { facility: string; status: string; code: string; regarding: string; reason: string }[] {
    return this.seen.flatMap((s) =>
      s.envelope.body?.$case === "receipt"
        ? [
            {
              facility: s.facility,
              status: receiptStatusToJSON(s.envelope.body.value.status)
                .replace("RECEIPT_STATUS_", "")
                .toLowerCase(),
              code: s.envelope.body.value.code,
              regarding: s.envelope.body.value.regardingId,
              reason: s.envelope.body.value.reason,
            },
          ]
        : [],
    );
  }

  alerts(): { facility: string; kind: string }[] {
    return this.seen.flatMap((s) =>
      s.envelope.body?.$case === "identityAlert"
        ? [
            {
              facility: s.facility,
              kind: identityAlertKindToJSON(s.envelope.body.value.kind)
                .replace("IDENTITY_ALERT_KIND_", "")
                .toLowerCase(),
            },
          ]
        : [],
    );
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

export const isAlert = (facility: string, kind: IdentityAlertKind) => (s: Seen) =>
  s.facility === facility &&
  s.envelope.body?.$case === "identityAlert" &&
  s.envelope.body.value.kind === kind;

export const isReceipt = (facility: string, regarding: string, status: ReceiptStatus) => (s: Seen) =>
  s.facility === facility &&
  s.envelope.body?.$case === "receipt" &&
  s.envelope.body.value.regardingId === regarding &&
  s.envelope.body.value.status === status;
