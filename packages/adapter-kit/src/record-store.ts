/**
 * Where a facility's records are read from to answer RecordRequests. The adapter asks the
 * store for the patients matching the request's demographics and sends what they hold.
 *
 * Two stores come with the kit: a folder of FHIR R4 bundles (one file per patient, as many
 * EHR exports and Synthea produce) and a PostgreSQL table. Both match with `matchesPatient`.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import { fhirToCanonical } from "@hix/fhir";
import {
  ClinicalRecord,
  Patient,
  type ClinicalRecord as ClinicalRecordT,
  type Patient as PatientT,
} from "@hix/proto";
import { HixError } from "@hix/runtime";

export interface StoredRecord {
  readonly patient: PatientT;
  readonly record: ClinicalRecordT;
}

export interface RecordStore {
  /** Every local record whose patient matches the query (see matchesPatient). */
  find(query: PatientT): Promise<StoredRecord[]>;
  close?(): Promise<void>;
}

export class RecordStoreError extends HixError {
  override name = "RecordStoreError";
}

const norm = (s: string): string =>
  s
    .normalize("NFKD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");

/**
 * Whether a stored patient is the one asked for. Deliberately strict, because a wrong match
 * discloses someone else's records:
 *  - an identifier (system and value, system compared only when both give one) in common, and
 *    no contradicting birth date; or
 *  - same family name, same first given name and the same full birth date.
 * Probabilistic matching belongs to the reconciler (packages/linkage), not to a holder.
 */
export function matchesPatient(query: PatientT, stored: PatientT): boolean {
  const birth = (p: PatientT): string | undefined =>
    p.birthDate !== undefined && p.birthDate.year > 0
      ? `${p.birthDate.year}-${p.birthDate.month}-${p.birthDate.day}`
      : undefined;
  const qBirth = birth(query);
  const sBirth = birth(stored);
  const birthConflict = qBirth !== undefined && sBirth !== undefined && qBirth !== sBirth;
  const ids = (p: PatientT): { system: string; value: string }[] => [
    ...p.identifiers.map((i) => ({ system: i.system, value: i.value })),
    ...(p.localPatientId !== "" && p.sourceFacility !== ""
      ? [{ system: `hix:${p.sourceFacility}`, value: p.localPatientId }]
      : []),
  ];
  const storedIds = ids(stored);
  const idMatch = ids(query).some(
    (q) =>
      q.value !== "" &&
      storedIds.some(
        (s) => s.value === q.value && (q.system === "" || s.system === "" || q.system === s.system),
      ),
  );
  if (idMatch) return !birthConflict;
  if (qBirth === undefined || sBirth === undefined || birthConflict) return false;
  if (query.birthDate?.day === 0) return false; // a partial date is not enough on its own
  const qName = query.names[0];
  return stored.names.some(
    (n) =>
      qName !== undefined &&
      norm(n.family) !== "" &&
      norm(n.family) === norm(qName.family) &&
      norm(n.given[0] ?? "") !== "" &&
      norm(n.given[0] ?? "") === norm(qName.given[0] ?? ""),
  );
}

/**
 * A folder of FHIR R4 JSON files (Bundles or single Patient-compartment resources). Read on
 * each query, so the facility's export job can replace files at any time; each file is
 * converted with @hix/fhir. A file that does not convert is skipped and reported by `onSkip`.
 */
export function folderRecordStore(options: {
  dir: string;
  facilityId: string;
  mrnSystem?: string | undefined;
  onSkip?: (file: string, code: string) => void;
}): RecordStore {
  return {
    async find(query) {
      let names: string[];
      try {
        names = (await readdir(options.dir)).filter((n) => n.endsWith(".json")).sort();
      } catch (err) {
        throw new RecordStoreError("adapter.store_unavailable", `cannot read record folder ${options.dir}`, {
          retryable: true,
          cause: err,
        });
      }
      const found: StoredRecord[] = [];
      for (const name of names) {
        let bodies;
        try {
          bodies = fhirToCanonical(await readFile(join(options.dir, name), "utf8"), {
            facilityId: options.facilityId,
            ...(options.mrnSystem ? { mrnSystem: options.mrnSystem } : {}),
          }).bodies;
        } catch (err) {
          options.onSkip?.(name, err instanceof Error && "code" in err ? String(err.code) : "internal");
          continue;
        }
        for (const body of bodies) {
          const patient =
            body.$case === "recordTransfer" || body.$case === "patientAnnouncement"
              ? body.value.patient
              : undefined;
          if (patient === undefined || !matchesPatient(query, patient)) continue;
          const records =
            body.$case === "recordTransfer"
              ? body.value.records
              : [
                  ClinicalRecord.fromPartial({
                    sourceFacility: patient.sourceFacility,
                    localPatientId: patient.localPatientId,
                  }),
                ];
          for (const record of records) found.push({ patient, record });
        }
      }
      return found;
    },
  };
}

/** The table the PostgreSQL store reads; `ensurePostgresRecordTable` creates it. */
export function postgresRecordTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  local_patient_id text PRIMARY KEY,
  -- hix.v1.Patient and hix.v1.ClinicalRecord as proto3 JSON
  patient jsonb NOT NULL,
  record jsonb NOT NULL,
  -- identifier values and the normalized family name + birth date, for the candidate query
  identifier_values text[] NOT NULL DEFAULT '{}',
  name_birth_key text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ${table}_identifiers ON ${table} USING gin (identifier_values);
CREATE INDEX IF NOT EXISTS ${table}_name_birth ON ${table} (name_birth_key);`;
}

function nameBirthKey(p: PatientT): string | null {
  const name = p.names[0];
  if (name === undefined || p.birthDate === undefined || p.birthDate.year === 0) return null;
  return `${norm(name.family)}|${p.birthDate.year}-${p.birthDate.month}-${p.birthDate.day}`;
}

/**
 * A PostgreSQL table of (patient, record) rows. Candidates come from indexed columns
 * (identifier values, family name + birth date); `matchesPatient` decides.
 */
export function postgresRecordStore(options: { pool: pg.Pool; table: string }): RecordStore & {
  ensureTable(): Promise<void>;
  put(patient: PatientT, record: ClinicalRecordT): Promise<void>;
} {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.table))
    throw new RecordStoreError("adapter.store_config", `table name must be a plain SQL identifier`);
  const t = options.table;
  return {
    async ensureTable() {
      await options.pool.query(postgresRecordTableSql(t));
    },
    async put(patient, record) {
      await options.pool.query(
        `INSERT INTO ${t} (local_patient_id, patient, record, identifier_values, name_birth_key)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (local_patient_id) DO UPDATE SET patient = $2, record = $3, identifier_values = $4,
           name_birth_key = $5, updated_at = now()`,
        [
          patient.localPatientId,
          Patient.toJSON(patient),
          ClinicalRecord.toJSON(record),
          [...patient.identifiers.map((i) => i.value), patient.localPatientId].filter((v) => v !== ""),
          nameBirthKey(patient),
        ],
      );
    },
    async find(query) {
      const values = [...query.identifiers.map((i) => i.value), query.localPatientId].filter((v) => v !== "");
      let rows: { patient: unknown; record: unknown }[];
      try {
        rows = (
          await options.pool.query<{ patient: unknown; record: unknown }>(
            `SELECT patient, record FROM ${t} WHERE identifier_values && $1::text[] OR name_birth_key = $2`,
            [values, nameBirthKey(query)],
          )
        ).rows;
      } catch (err) {
        throw new RecordStoreError("adapter.store_unavailable", `cannot query record table ${t}`, {
          retryable: true,
          cause: err,
        });
      }
      return rows
        .map((r) => ({ patient: Patient.fromJSON(r.patient), record: ClinicalRecord.fromJSON(r.record) }))
        .filter((r) => matchesPatient(query, r.patient));
    },
  };
}
