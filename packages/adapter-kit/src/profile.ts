/**
 * The facility profile: one validated JSON file per facility that says who it is, how it
 * talks (transports, formats), which identifier is its MRN, how its local codes map to
 * standard ones, its quirks, whom it discloses to, and an optional hooks module for
 * code-level overrides. Parsed once at start-up; every problem is reported together.
 * Relative paths in the file are resolved against the file's own folder.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { CsvMappingSchema } from "@hix/csv";
import { HixError } from "@hix/runtime";

/** A hix facility id: one NATS subject token. */
const facilityId = z.string().regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, '-' or '_'");
const port = z.number().int().min(0).max(65535);

export const INBOUND_FORMATS = ["hl7v2", "fhir", "ccda", "csv"] as const;
export type InboundFormat = (typeof INBOUND_FORMATS)[number];

export const OUTBOUND_FORMATS = ["hl7v2", "fhir", "canonical"] as const;
export type OutboundFormat = (typeof OUTBOUND_FORMATS)[number];

/** PurposeOfUse names as in the proto (without the PURPOSE_OF_USE_ prefix). */
export const PURPOSES = [
  "TREATMENT",
  "PAYMENT",
  "OPERATIONS",
  "REFERRAL",
  "PATIENT_REQUEST",
  "PUBLIC_HEALTH",
  "LEGAL",
  "EMERGENCY",
  "RESEARCH",
] as const;

const codeTarget = z.object({
  system: z.string().min(1),
  code: z.string().min(1),
  display: z.string().optional(),
});

const destination = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("folder"), dir: z.string().min(1) }),
  z.object({
    kind: z.literal("mllp"),
    host: z.string().min(1),
    port,
    ackTimeoutMs: z.number().int().positive().default(10_000),
  }),
  z.object({ kind: z.literal("fhir"), url: z.url() }),
]);

export const FacilityProfileSchema = z
  .object({
    /** hix facility id, as in the router's directory; the `<facility>` token of its subjects. */
    id: facilityId,
    /** Display name, for people. */
    name: z.string().min(1),
    /** Which identifier is the facility's MRN (becomes Patient.local_patient_id). */
    mrn: z
      .object({
        /** Identifier.system of the MRN: a URI/OID (FHIR) or the assigning authority (HL7 v2 CX-4.1). */
        system: z.string().default(""),
        /** HL7 v2 CX-5 identifier type code of the MRN (table 0203). */
        typeCode: z.string().default("MR"),
      })
      .prefault({}),
    /** Purpose of use stamped on what this facility submits unsolicited. */
    purposeOfUse: z.enum(PURPOSES).default("TREATMENT"),
    /** Where unsolicited content goes when the input does not say (the router needs a destination). */
    routes: z
      .object({
        /** Destination of pushed results and documents (ORU, MDM, FHIR Bundles, C-CDA). */
        recordTransfer: facilityId.optional(),
        /** Destination of referrals that do not name a hix facility. */
        referralPacket: facilityId.optional(),
      })
      .prefault({}),
    inbound: z
      .object({
        mllp: z.object({ host: z.string().default("0.0.0.0"), port }).optional(),
        inbox: z
          .object({
            dir: z.string().min(1),
            /** Format of files without a telling extension (.hl7, .json, .xml, .csv). */
            format: z.enum(INBOUND_FORMATS).optional(),
            pollMs: z.number().int().positive().default(1000),
          })
          .optional(),
        fhirHttp: z
          .object({
            host: z.string().default("0.0.0.0"),
            port,
            /** Largest request body accepted, in bytes. */
            maxBytes: z
              .number()
              .int()
              .positive()
              .default(10 * 1024 * 1024),
          })
          .optional(),
      })
      .prefault({}),
    /** Where what the router delivers for this facility (HIX_OUT) is written, and in which format. */
    outbound: z.object({ format: z.enum(OUTBOUND_FORMATS), destination }).optional(),
    /** Where the originals of refused messages are kept, with a `.reason.txt` beside each. */
    quarantineDir: z.string().default("quarantine"),
    /** Where this facility's records are read to answer RecordRequests. */
    recordStore: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("fhir-folder"), dir: z.string().min(1) }),
        /** PostgreSQL; the connection string comes from the service config (HIX_ADAPTER_DATABASE_URL). */
        z.object({
          kind: z.literal("postgres"),
          table: z
            .string()
            .regex(/^[a-z_][a-z0-9_]*$/)
            .default("adapter_records"),
        }),
      ])
      .optional(),
    /** Disclosure policy for RecordRequests. */
    policy: z
      .object({
        /** Purposes of use this facility answers; anything else is denied. */
        allowPurposes: z
          .array(z.enum(PURPOSES))
          .min(1)
          .default(["TREATMENT", "EMERGENCY", "REFERRAL", "PATIENT_REQUEST"]),
        /** Requesting facilities that are always denied. */
        denyFacilities: z.array(facilityId).default([]),
        /** Only these facilities are answered, when given. */
        allowFacilities: z.array(facilityId).optional(),
      })
      .prefault({}),
    /**
     * Local code → standard code, by the local code system as it arrives
     * (e.g. `{ "LOCAL-LAB": { "GLU": { "system": "http://loinc.org", "code": "2345-7" } } }`).
     * A mapped code is replaced; its local form is dropped from the canonical message.
     */
    codeMaps: z.record(z.string(), z.record(z.string(), codeTarget)).default({}),
    quirks: z
      .object({
        /** Sender writes names given-first in PID-5 (some practice systems do). */
        nameOrder: z.enum(["family_given", "given_family"]).default("family_given"),
        /** Force a message encoding when MSH-18 lies; utf8 otherwise. */
        encoding: z.enum(["utf8", "latin1"]).default("utf8"),
      })
      .prefault({}),
    /** CSV column mapping, required when the inbox takes CSV. */
    csv: CsvMappingSchema.optional(),
    /** A module (path) exporting hooks (see hooks.ts) for code-level overrides. */
    hooks: z.string().optional(),
  })
  .refine((p) => p.inbound.inbox?.format !== "csv" || p.csv !== undefined, {
    message: "csv mapping is required when the inbox format is csv",
    path: ["csv"],
  });

export type FacilityProfile = z.output<typeof FacilityProfileSchema>;
export type FacilityProfileInput = z.input<typeof FacilityProfileSchema>;

/** A profile as loaded: validated, with every path made absolute. */
export interface LoadedProfile {
  readonly profile: FacilityProfile;
  /** Absolute path of the profile file. */
  readonly file: string;
  /** Folder the profile's relative paths are resolved against. */
  readonly dir: string;
  /** Resolves a path written in the profile. */
  path(p: string): string;
}

export class ProfileError extends HixError {
  override name = "ProfileError";
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    super("adapter.profile_invalid", `facility profile ${file} is invalid: ${problems.join("; ")}`);
    this.problems = problems;
  }
}

/** Validates a parsed profile object; throws ProfileError listing every problem. */
export function parseProfile(value: unknown, file = "(profile)"): FacilityProfile {
  const result = FacilityProfileSchema.safeParse(value);
  if (!result.success) {
    throw new ProfileError(
      file,
      result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`),
    );
  }
  return result.data;
}

export async function loadProfile(file: string): Promise<LoadedProfile> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch (err) {
    throw new ProfileError(abs, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(abs, [`not JSON: ${(err as Error).message}`]);
  }
  const profile = parseProfile(json, abs);
  const dir = dirname(abs);
  return { profile, file: abs, dir, path: (p) => (isAbsolute(p) ? p : resolve(dir, p)) };
}
