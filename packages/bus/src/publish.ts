import { headers as natsHeaders, type JetStreamClient, type MsgHdrs, type PubAck } from "nats";
import { HixError } from "@hix/runtime";

export interface PublishOptions {
  /**
   * The message's stable id, sent as `Nats-Msg-Id`: JetStream drops a repeat within the
   * stream's duplicate window, and consumers use it as their idempotency key beyond it.
   */
  readonly msgId: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Refuse the publish unless it lands in this stream (guards against a wrong subject). */
  readonly expectStream?: string;
  readonly timeoutMs?: number;
}

export class PublishError extends HixError {
  override name = "PublishError";
}

/**
 * Publishes bytes to a JetStream subject and resolves only on the server's ack, i.e. once
 * the message is stored (and replicated, on a cluster). A repeat of a stored id resolves
 * with `duplicate: true` and is not stored again. Failures are retryable `PublishError`s.
 */
export async function publish(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array,
  options: PublishOptions,
): Promise<PubAck> {
  if (options.msgId === "")
    throw new PublishError("bus.missing_msg_id", `publish to ${subject} needs a message id`);
  let hdrs: MsgHdrs | undefined;
  if (options.headers !== undefined) {
    hdrs = natsHeaders();
    for (const [key, value] of Object.entries(options.headers)) hdrs.set(key, value);
  }
  try {
    return await js.publish(subject, data, {
      msgID: options.msgId,
      ...(hdrs === undefined ? {} : { headers: hdrs }),
      ...(options.expectStream === undefined ? {} : { expect: { streamName: options.expectStream } }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
  } catch (err) {
    throw new PublishError("bus.publish_failed", `publish to ${subject} was not acknowledged by JetStream`, {
      retryable: true,
      cause: err,
    });
  }
}
