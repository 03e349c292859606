import { randomBytes } from "node:crypto";

// ULID (https://github.com/ulid/spec): 48-bit Unix time in milliseconds, then 80
// random bits, written as 26 characters of Crockford base32 (10 for time, 16 for
// randomness). Ids sort lexicographically by creation time, which keeps streams,
// audit rows and logs in order without a separate sequence.

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_CHARS = 10;
const MAX_TIME = 2 ** 48 - 1;
// The 80 random bits are kept as two 40-bit halves in plain numbers (exact below 2^53): the
// router makes several ids per message, and BigInt arithmetic allocated on every step.
const HALF = 2 ** 40;

const CROCKFORD_CODES = Array.from(CROCKFORD, (c) => c.charCodeAt(0));

/**
 * The 26 character codes of an id being written. One string is made from them at the end:
 * prepending a character at a time made 26 intermediate strings per id (the router makes two
 * ids a message).
 */
const codes: number[] = new Array<number>(26).fill(0);

/** Writes `length` Crockford base32 digits of a non-negative integer below 2^53 at `at`. */
function put(value: number, at: number, length: number): void {
  for (let i = at + length - 1; i >= at; i--) {
    codes[i] = CROCKFORD_CODES[value % 32]!;
    value = Math.floor(value / 32);
  }
}

/** 10 random bytes: slices of one pooled draw from the system's CSPRNG. */
export type RandomSource = () => Uint8Array;

const POOL_BYTES = 4000;
let pool = Buffer.alloc(0);
let poolAt = 0;
const pooledRandom: RandomSource = () => {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  poolAt += 10;
  return pool.subarray(poolAt - 10, poolAt);
};

const uint40 = (bytes: Uint8Array, at: number): number =>
  bytes[at]! * 2 ** 32 +
  bytes[at + 1]! * 2 ** 24 +
  bytes[at + 2]! * 2 ** 16 +
  bytes[at + 3]! * 2 ** 8 +
  bytes[at + 4]!;

/**
 * Makes a monotonic ULID generator over the given clock. Within one millisecond
 * (or when the clock steps back) it increments the previous random part by one
 * instead of drawing a new one, so ids from one generator sort in creation order.
 */
export function ulidGenerator(
  now: () => number = Date.now,
  random: RandomSource = pooledRandom,
): () => string {
  let lastTime = -1;
  let hi = 0; // upper 40 random bits
  let lo = 0; // lower 40 random bits
  const draw = (): void => {
    const bytes = random();
    hi = uint40(bytes, 0);
    lo = uint40(bytes, 5);
  };
  return () => {
    let time = now();
    if (!Number.isInteger(time) || time < 0 || time > MAX_TIME) {
      throw new RangeError(`ulid: clock value ${time} is outside 0..2^48-1 ms`);
    }
    if (time <= lastTime) {
      // Same millisecond, or the clock went back: keep the last time and count up.
      time = lastTime;
      if (++lo === HALF) {
        lo = 0;
        if (++hi === HALF) {
          // 2^80 ids in one millisecond cannot happen in practice; moving to the
          // next millisecond keeps the order rather than failing.
          time += 1;
          draw();
        }
      }
    } else {
      draw();
    }
    lastTime = time;
    put(time, 0, TIME_CHARS);
    put(hi, TIME_CHARS, 8);
    put(lo, TIME_CHARS + 8, 8);
    return String.fromCharCode(...codes);
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
