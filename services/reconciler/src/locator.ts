/**
 * The record locator: given patient criteria, which facilities hold records for that person?
 * Answers with the records of the enterprise patient(s) the criteria match at `match` level
 * (guards applied) — never a below-threshold guess. A record the request names exactly (the
 * sender's own facility and local id, already in the index) is a certain anchor.
 */
import type pg from "pg";
import type { NatsConnection, Subscription } from "nats";
import { normalizeRecord } from "@hix/linkage";
import { LocateRequest, LocateResponse, type Holder } from "@hix/proto";
import type { Logger } from "@hix/runtime";
import type { Topology } from "@hix/bus";
import { blockingKeys, candidates, findRecord, type StoredRecord } from "./mpi-store.js";
import { patientToRecord } from "./patient-record.js";
import { bitsFor, explain, probability, type Rule } from "./rules.js";

type Db = Pick<pg.PoolClient, "query">;

export async function locate(db: Db, rule: Rule, request: LocateRequest): Promise<Holder[]> {
  const patient = request.patient;
  if (patient === undefined) return [];
  // Not below the rule's match threshold, whatever the caller asks for.
  const minBits = Math.max(
    rule.thresholds.match,
    request.minScore > 0 ? bitsFor(request.minScore) : -Infinity,
  );
  const best = new Map<string, number>(); // enterprise id → best probability
  if (patient.sourceFacility !== "" && patient.localPatientId !== "") {
    const named = await findRecord(db, patient.sourceFacility, patient.localPatientId);
    if (named !== undefined) best.set(named.enterpriseId, 1);
  }
  const record = patientToRecord(
    { ...patient, localPatientId: patient.localPatientId || "?" },
    patient.sourceFacility || "?",
  );
  const normalized = normalizeRecord(record);
  const found = await candidates(db, blockingKeys(normalized), undefined);
  for (const c of found) {
    const e = explain(normalized, normalizeRecord(c.record), rule);
    if (e.decision !== "match" || e.score < minBits) continue;
    const p = probability(e.score);
    if ((best.get(c.enterpriseId) ?? 0) < p) best.set(c.enterpriseId, p);
  }
  if (best.size === 0) return [];
  const { rows } = await db.query<{ facility_id: string; local_id: string; enterprise_id: string }>(
    "SELECT facility_id, local_id, enterprise_id FROM mpi_records WHERE enterprise_id = ANY($1::text[]) AND NOT retired",
    [[...best.keys()]],
  );
  const exclude = new Set(request.excludeFacilityIds);
  const holders = rows
    .filter((r) => !exclude.has(r.facility_id))
    .map((r) => ({
      facilityId: r.facility_id,
      localPatientId: r.local_id,
      score: best.get(r.enterprise_id) ?? 0,
    }))
    .sort(
      (x, y) =>
        y.score - x.score ||
        x.facilityId.localeCompare(y.facilityId) ||
        x.localPatientId.localeCompare(y.localPatientId),
    );
  return request.maxHolders > 0 ? holders.slice(0, request.maxHolders) : holders;
}

/** Holders for an exact (facility, local id) without scoring; used by tests and tools. */
export function holderOf(r: StoredRecord, score: number): Holder {
  return { facilityId: r.facilityId, localPatientId: r.localId, score };
}

export interface LocatorResponder {
  stop(): Promise<void>;
}

/**
 * Answers LocateRequest on `topology.rpcSubject("reconciler", "locate")` (core NATS request/reply,
 * queue group "reconciler" so replicas share requests). A request that does not decode, or a
 * failure, is answered with no holders and logged without content: the router then says so.
 */
export function startLocator(deps: {
  nc: NatsConnection;
  pool: pg.Pool;
  topology: Topology;
  rule: Rule;
  logger: Logger;
}): LocatorResponder {
  const log = deps.logger.child({ component: "locator" });
  const subject = deps.topology.rpcSubject("reconciler", "locate");
  const sub: Subscription = deps.nc.subscribe(subject, { queue: "reconciler" });
  const inFlight = new Set<Promise<void>>();
  const answer = async (data: Uint8Array, respond: (bytes: Uint8Array) => boolean): Promise<void> => {
    const started = performance.now();
    let holders: Holder[] = [];
    try {
      holders = await locate(deps.pool, deps.rule, LocateRequest.decode(data));
    } catch (err) {
      log.warn(
        { err: { name: err instanceof Error ? err.name : "unknown" }, bytes: data.byteLength },
        "locate request failed",
      );
    }
    respond(LocateResponse.encode({ holders }).finish());
    log.debug({ holders: holders.length, ms: Math.round(performance.now() - started) }, "locate answered");
  };
  const loop = (async () => {
    for await (const m of sub) {
      const p = answer(m.data, (bytes) => m.respond(bytes)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })();
  log.info({ subject }, "record locator listening");
  return {
    async stop() {
      await sub.drain();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
