/**
 * Deterministic envelope ids for inbound messages. A sender that resends a message (it got
 * no ACK, or it crashed and replays its queue) keeps MSH-10; the adapter must then make the
 * same envelope, so JetStream drops the repeat (`Nats-Msg-Id`) and every consumer's
 * idempotency key matches. The id is a well-formed ULID (the router checks that):
 *
 *   time part (48 bits)    `time` when the caller has a stable one (a request id's time), else 0
 *   random part (80 bits)  the first 80 bits of SHA-256(facility, sender, control id, index)
 *
 * MSH-7 is deliberately not used for the time: senders restamp MSH-7 on a resend but keep
 * MSH-10 (HL7 v2.5 §2.10.2), and a restamped resend must still be the same envelope. Intake
 * ids therefore start with "0000000000" and do not sort by creation; Envelope.created_at
 * carries the time (docs/adr/0006-adapter.md).
 *
 * `index` numbers the bodies one message converts to (an A40 may announce and merge).
 */
import { createHash } from "node:crypto";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAX_TIME = 2 ** 48 - 1;

function encode(value: bigint, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = CROCKFORD.charAt(Number(value & 31n)) + out;
    value >>= 5n;
  }
  return out;
}

export interface MessageKey {
  /** hix facility id of the adapter. */
  readonly facility: string;
  /** Who sent it inside the facility: MSH-3^MSH-4 for HL7 v2, a file or endpoint name otherwise. */
  readonly sender: string;
  /** The sender's id for the message: MSH-10, or a content hash for formats without one. */
  readonly controlId: string;
  /** Time of the message in ms since the epoch, when known. */
  readonly time?: number | undefined;
}

export function deterministicId(key: MessageKey, index = 0): string {
  const digest = createHash("sha256")
    .update(`${key.facility}\u0000${key.sender}\u0000${key.controlId}\u0000${index}`)
    .digest();
  const random = BigInt(`0x${digest.subarray(0, 10).toString("hex")}`);
  const time =
    key.time !== undefined && Number.isInteger(key.time) && key.time >= 0 && key.time <= MAX_TIME
      ? key.time
      : 0;
  return encode(BigInt(time), 10) + encode(random, 16);
}

/** SHA-256 of content, hex: the control id of inputs that carry none (files, FHIR posts). */
export function contentId(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** HL7 v2 DTM (YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]) → ms since epoch; undefined when unreadable. */
export function hl7TimeToMs(dtm: string): number | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4})?$/.exec(dtm.trim());
  if (m === null) return undefined;
  const [, y, mo = "01", d = "01", h = "00", mi = "00", s = "00", frac = "0", tz] = m;
  const ms = Math.round(Number(`0.${frac}`) * 1000);
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(t)) return undefined;
  if (tz !== undefined) {
    const sign = tz.startsWith("-") ? -1 : 1;
    t -= sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5))) * 60_000;
  }
  return t;
}
