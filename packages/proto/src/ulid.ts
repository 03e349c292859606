import { randomBytes } from "node:crypto";

// ULID (https://github.com/ulid/spec): 48-bit Unix time in milliseconds, then 80
// random bits, written as 26 characters of Crockford base32 (10 for time, 16 for
// randomness). Ids sort lexicographically by creation time, which keeps streams,
// audit rows and logs in order without a separate sequence.

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const MAX_TIME = 2 ** 48 - 1;
const MAX_RANDOM = (1n << 80n) - 1n;

function encode(value: bigint, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    out = CROCKFORD.charAt(Number(value & 31n)) + out;
    value >>= 5n;
  }
  return out;
}

function random80(): bigint {
  return BigInt("0x" + randomBytes(10).toString("hex"));
}

/**
 * Makes a monotonic ULID generator over the given clock. Within one millisecond
 * (or when the clock steps back) it increments the previous random part by one
 * instead of drawing a new one, so ids from one generator sort in creation order.
 */
export function ulidGenerator(now: () => number = Date.now): () => string {
  let lastTime = -1;
  let lastRandom = 0n;
  return () => {
    let time = now();
    if (!Number.isInteger(time) || time < 0 || time > MAX_TIME) {
      throw new RangeError(`ulid: clock value ${time} is outside 0..2^48-1 ms`);
    }
    if (time <= lastTime) {
      // Same millisecond, or the clock went back: keep the last time and count up.
      time = lastTime;
      lastRandom += 1n;
      if (lastRandom > MAX_RANDOM) {
        // 2^80 ids in one millisecond cannot happen in practice; moving to the
        // next millisecond keeps the order rather than failing.
        time += 1;
        lastRandom = random80();
      }
    } else {
      lastRandom = random80();
    }
    lastTime = time;
    return encode(BigInt(time), TIME_CHARS) + encode(lastRandom, RANDOM_CHARS);
  };
}

/** A new monotonic ULID: 26 characters, sortable by creation time, unique. */
export const newId: () => string = ulidGenerator();

const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** Whether a string is a well-formed ULID (upper-case canonical form). */
export function isUlid(value: string): boolean {
  return ULID_PATTERN.test(value);
}

/** The creation time (ms since the Unix epoch) encoded in a ULID. */
export function ulidTime(id: string): number {
  if (!isUlid(id)) throw new RangeError(`ulid: not a ULID (length ${id.length})`);
  let time = 0;
  for (const char of id.slice(0, TIME_CHARS)) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}
