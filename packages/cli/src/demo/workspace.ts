// Builds the demo's three facilities from the shared public sample data: a hospital on
// HL7 v2 over MLLP, a clinic with FHIR R4 (a Synthea patient's chart), and a private
// practice exporting CSV and C-CDA. Everything goes into a fresh folder per run.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { CANONICAL_CSV_COLUMNS, CANONICAL_CSV_MAPPING } from "@hix/csv";
import { parse, serialize } from "@hix/hl7v2";
import { HixError } from "@hix/runtime";
import { REPO_ROOT } from "../stack/paths.js";

export const FACILITIES = { hospital: "hospital", clinic: "clinic", practice: "practice" } as const;

/** The patient the hospital looks for: Synthea's Cecelia Romaguera, charted at the clinic and the practice. */
const SYNTHEA_FILE = "fhir-r4-synthea/Cecelia952_Romaguera67_f1731e33-dc55-4ee8-72d7-cece2e49bedd.json";
const PRACTICE_MRN = "OSP-20417";

export interface DemoWorkspace {
  readonly root: string;
  readonly exchangeFile: string;
  readonly mllpPort: number;
  readonly fhirPort: number;
  /** The patient the hospital locates, as FHIR Patient JSON (criteria for the request). */
  readonly soughtPatient: Record<string, unknown>;
  /** Patient-only Bundles the clinic posts (its registrations; two are the same person). */
  readonly clinicRegistrations: readonly string[];
  /** The practice's patient export (CSV, the canonical hix header). */
  readonly practiceExport: string;
  /** The practice's referral (C-CDA Referral Note). */
  readonly referralNote: Buffer;
  /** ADT messages the hospital sends: a registration, then an update that changes identity facts. */
  readonly hospitalAdt: { readonly register: string; readonly conflictingUpdate: string };
  /** An HL7 message the hospital's system garbles (an impossible birth month). */
  readonly malformedHl7: string;
  readonly dirs: Record<
    "hospitalOutbox" | "hospitalQuarantine" | "practiceInbox" | "practiceOutbox" | "clinicOutbox",
    string
  >;
}

export function sharedDataDir(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env["HIX_SHARED_DATA"] ?? join(REPO_ROOT, "..", "shared", "data");
  if (!existsSync(join(dir, SYNTHEA_FILE))) {
    throw new HixError(
      "demo.no_sample_data",
      `the demo builds its facilities from the shared sample data, not found in ${dir}; set HIX_SHARED_DATA`,
    );
  }
  return dir;
}

export async function buildWorkspace(
  root: string,
  shared: string,
  options: { natsUrl: string; databaseUrl: string | undefined; prefix: string; auditPatientKey: string },
): Promise<DemoWorkspace> {
  rmSync(root, { recursive: true, force: true });
  const dir = (...parts: string[]): string => {
    const path = join(root, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const [mllpPort, fhirPort, pgPort] = [await freePort(), await freePort(), await freePort()];

  // ---------------------------------------------------------------- the clinic (FHIR R4)
  const chart = JSON.parse(readFileSync(join(shared, SYNTHEA_FILE), "utf8")) as Bundle;
  const patient = chart.entry.find((e) => e.resource.resourceType === "Patient")!.resource;
  const keep = (type: string, n: number): BundleEntry[] =>
    chart.entry.filter((e) => e.resource.resourceType === type).slice(0, n);
  // A chart small enough for one message: conditions, recent observations, immunizations.
  const clinicChart: Bundle = {
    resourceType: "Bundle",
    type: "collection",
    entry: [
      { fullUrl: `urn:uuid:${String(patient["id"])}`, resource: patient },
      ...keep("Encounter", 3),
      ...keep("Condition", 6),
      ...keep("Observation", 12),
      ...keep("Immunization", 4),
    ],
  };
  writeFileSync(join(dir("clinic", "records"), "romaguera.json"), JSON.stringify(clinicChart, null, 2));
  const registration = (p: Record<string, unknown>): string =>
    JSON.stringify({ resourceType: "Bundle", type: "collection", entry: [{ resource: p }] });
  // The clinic's front desk registered Cecelia twice: a second file under a new MRN with her name misspelt.
  const duplicate = structuredClone(patient);
  duplicate["id"] = "dup-4471";
  duplicate["identifier"] = [
    {
      type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MR" }] },
      system: "https://github.com/synthetichealth/synthea",
      value: "dup-4471",
    },
  ];
  duplicate["name"] = [{ use: "official", family: "Romaguera67", given: ["Cecilia952"] }];
  writeProfile(dir("clinic"), {
    id: FACILITIES.clinic,
    name: "Riverside Clinic (FHIR R4)",
    mrn: { system: "https://github.com/synthetichealth/synthea", typeCode: "MR" },
    inbound: { fhirHttp: { host: "127.0.0.1", port: fhirPort } },
    outbound: { format: "fhir", destination: { kind: "folder", dir: "outbox" } },
    quarantineDir: "quarantine",
    recordStore: { kind: "fhir-folder", dir: "records" },
    policy: { allowPurposes: ["TREATMENT", "EMERGENCY", "REFERRAL", "PATIENT_REQUEST"] },
  });

  // ---------------------------------------------------------------- the practice (CSV + C-CDA)
  const practicePatient = structuredClone(patient);
  practicePatient["id"] = PRACTICE_MRN;
  practicePatient["identifier"] = [
    {
      type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MR" }] },
      system: "urn:oid:2.16.840.1.113883.19.5",
      value: PRACTICE_MRN,
    },
  ];
  const practiceChart: Bundle = {
    resourceType: "Bundle",
    type: "collection",
    entry: [
      { fullUrl: `urn:uuid:${PRACTICE_MRN}`, resource: practicePatient },
      ...keep("Condition", 10).slice(6),
      ...keep("Observation", 20).slice(12),
    ].map((e) =>
      e.resource.resourceType === "Patient"
        ? e
        : { ...e, resource: { ...e.resource, subject: { reference: `urn:uuid:${PRACTICE_MRN}` } } },
    ),
  };
  writeFileSync(join(dir("practice", "records"), "romaguera.json"), JSON.stringify(practiceChart, null, 2));
  const name = (patient["name"] as { given: string[]; family: string }[])[0]!;
  const address = (
    patient["address"] as { line: string[]; city: string; state: string; postalCode?: string }[]
  )[0]!;
  const ssn =
    (patient["identifier"] as { type?: { coding?: { code?: string }[] }; value: string }[]).find(
      (i) => i.type?.coding?.[0]?.code === "SS",
    )?.value ?? "";
  const febrl = readFileSync(join(shared, "febrl", "dataset1.csv"), "utf8")
    .split("\n")
    .slice(1, 6);
  const rows = [
    [
      "P-1",
      FACILITIES.practice,
      PRACTICE_MRN,
      name.given[0]!,
      "",
      name.family,
      String(patient["birthDate"]),
      "F",
      address.line[0] ?? "",
      address.city,
      address.state,
      address.postalCode ?? "",
      "",
      ssn,
    ],
    // A few of the practice's other patients, from the FEBRL test set.
    ...febrl.map((line, i) => {
      const f = line.split(", ").map((v) => v.trim());
      const dob = f[9] ?? "";
      return [
        `P-${i + 2}`,
        FACILITIES.practice,
        `OSP-3${i}00`,
        f[1] ?? "",
        "",
        f[2] ?? "",
        dob.length === 8 ? `${dob.slice(0, 4)}-${dob.slice(4, 6)}-${dob.slice(6)}` : "",
        "",
        `${f[3] ?? ""} ${f[4] ?? ""}`.trim(),
        f[6] ?? "",
        f[8] ?? "",
        f[7] ?? "",
        "",
        "",
      ];
    }),
  ];
  const header = CANONICAL_CSV_COLUMNS.join(",");
  const practiceExport = [header, ...rows.map((r) => r.map(csvCell).join(","))].join("\n") + "\n";
  writeProfile(dir("practice"), {
    id: FACILITIES.practice,
    name: "Oak Street Practice (CSV export, C-CDA documents)",
    mrn: { system: "urn:oid:2.16.840.1.113883.19.5", typeCode: "MR" },
    routes: { referralPacket: FACILITIES.hospital },
    inbound: { inbox: { dir: "inbox", pollMs: 250 } },
    outbound: { format: "fhir", destination: { kind: "folder", dir: "outbox" } },
    quarantineDir: "quarantine",
    recordStore: { kind: "fhir-folder", dir: "records" },
    policy: { allowPurposes: ["TREATMENT", "REFERRAL"] },
    // The export uses the hix canonical header, so its mapping is the canonical one.
    csv: { ...CANONICAL_CSV_MAPPING, mrnSystem: "urn:oid:2.16.840.1.113883.19.5" },
  });

  // ---------------------------------------------------------------- the hospital (HL7 v2 over MLLP)
  const adt = readFileSync(join(shared, "hl7v2-ms-fhir-converter", "ADT-A04-02.hl7"), "utf8").replace(
    /^\uFEFF/,
    "",
  );
  const register = parse(adt);
  register.setRaw("MSH-10", "DEMO-A04-1");
  const update = parse(adt);
  update.setRaw("MSH-9", "ADT^A08^ADT_A01");
  update.setRaw("MSH-10", "DEMO-A08-1");
  update.set("PID-7", "19770304"); // a different birth date …
  update.set("PID-8", "F"); // … and sex: a different person in the same file?
  const malformed = parse(adt);
  malformed.setRaw("MSH-10", "DEMO-A04-BAD");
  malformed.setRaw("PID-7", "19881318"); // month 13
  writeProfile(dir("hospital"), {
    id: FACILITIES.hospital,
    name: "Good Health Hospital (HL7 v2 over MLLP)",
    mrn: { system: "GOOD HEALTH HOSPITAL", typeCode: "MR" },
    inbound: { mllp: { host: "127.0.0.1", port: mllpPort } },
    outbound: { format: "hl7v2", destination: { kind: "folder", dir: "outbox" } },
    quarantineDir: "quarantine",
    policy: { allowPurposes: ["TREATMENT", "EMERGENCY", "REFERRAL"] },
  });

  const exchangeFile = join(root, "exchange.json");
  writeFileSync(
    exchangeFile,
    JSON.stringify(
      {
        natsUrl: options.natsUrl,
        ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
        embeddedPostgresPort: pgPort,
        topologyPrefix: options.prefix,
        dataDir: "data",
        auditPatientKey: options.auditPatientKey,
        facilities: [
          {
            id: FACILITIES.hospital,
            name: "Good Health Hospital",
            profile: "hospital/profile.json",
            formats: ["hl7v2"],
            policy: { treatment: "auto", referral: "auto" },
          },
          {
            id: FACILITIES.clinic,
            name: "Riverside Clinic",
            profile: "clinic/profile.json",
            formats: ["fhir_r4"],
            policy: { treatment: "auto", research: "refuse" },
          },
          {
            id: FACILITIES.practice,
            name: "Oak Street Practice",
            profile: "practice/profile.json",
            formats: ["csv", "ccda"],
            policy: { treatment: "auto", referral: "auto" },
          },
        ],
      },
      null,
      2,
    ),
  );

  return {
    root,
    exchangeFile,
    mllpPort,
    fhirPort,
    soughtPatient: {
      resourceType: "Patient",
      name: patient["name"],
      birthDate: patient["birthDate"],
      gender: patient["gender"],
      address: patient["address"],
    },
    clinicRegistrations: [registration(patient), registration(duplicate)],
    practiceExport,
    referralNote: readFileSync(join(shared, "ccda-hl7-examples", "Referral_Note.xml")),
    hospitalAdt: { register: serialize(register), conflictingUpdate: serialize(update) },
    malformedHl7: serialize(malformed),
    dirs: {
      hospitalOutbox: dir("hospital", "outbox"),
      hospitalQuarantine: dir("hospital", "quarantine"),
      practiceInbox: dir("practice", "inbox"),
      practiceOutbox: dir("practice", "outbox"),
      clinicOutbox: dir("clinic", "outbox"),
    },
  };
}

interface BundleEntry {
  fullUrl?: string;
  resource: Record<string, unknown> & { resourceType: string };
}
interface Bundle {
  resourceType: "Bundle";
  type: string;
  entry: BundleEntry[];
}

function writeProfile(folder: string, profile: Record<string, unknown>): void {
  writeFileSync(join(folder, "profile.json"), JSON.stringify(profile, null, 2));
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}
