// Test-only helpers shared by this package's tests (not exported from index.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Envelope } from "@hix/proto";
import type { Submit } from "./intake.js";
import { parseProfile, type FacilityProfile, type FacilityProfileInput } from "./profile.js";

export function testProfile(overrides: Partial<FacilityProfileInput> = {}): FacilityProfile {
  return parseProfile({
    id: "test-hospital",
    name: "Test Hospital",
    routes: { recordTransfer: "test-clinic" },
    ...overrides,
  });
}

/**
 * A stand-in for HIX_IN with JetStream's dedupe rule (a repeated id is not stored again):
 * unit tests of the intake order need a sink they can make fail. The real bus is exercised
 * in services/adapter and tests/adapter.
 */
export function memorySink(): { submit: Submit; stored: Envelope[]; failNext: (n: number) => void } {
  const stored: Envelope[] = [];
  let failures = 0;
  return {
    stored,
    failNext: (n) => {
      failures = n;
    },
    submit: async (envelope) => {
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error("publish not acknowledged"), {
          code: "bus.publish_failed",
          retryable: true,
        });
      }
      if (stored.some((e) => e.id === envelope.id)) return { duplicate: true };
      stored.push(envelope);
      return { duplicate: false };
    },
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `hix-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
