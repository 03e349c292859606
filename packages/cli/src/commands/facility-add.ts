import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ContactPointSystem,
  DataFormat,
  DisclosureAction,
  Facility,
  FacilityStatus,
  PurposeOfUse,
  SignatureAlgorithm,
  dataFormatFromJSON,
  purposeOfUseFromJSON,
  signatureAlgorithmFromJSON,
} from "@hix/proto";
import { saveFacility } from "@hix/router";
import { EXIT, UsageError, type Command } from "../command.js";
import { DATABASE_OPTIONS, DATABASE_OPTIONS_HELP, openDatabase } from "./facility-database.js";

const ACTIONS: Readonly<Record<string, DisclosureAction>> = {
  auto: DisclosureAction.AUTO_ANSWER,
  review: DisclosureAction.REVIEW,
  refuse: DisclosureAction.REFUSE,
};

export const facilityAdd: Command = {
  path: ["facility", "add"],
  summary: "add a facility to the directory (or replace its entry)",
  help: `usage: hix facility add ID --name NAME [options]

Adds a facility to the exchange's directory, or replaces every field of an existing entry.
Routers see the change at once (LISTEN/NOTIFY), without a restart.

options:
  --name NAME               display name (required)
  --status active|suspended default active
  --format F[,F…]           formats its adapter speaks: hl7v2, fhir_r4, ccda, csv
  --policy P=A[,P=A…]       disclosure rule per purpose of use, A = auto | review | refuse,
                            P = treatment, payment, operations, referral, patient_request,
                            public_health, legal, emergency, research, coverage, continuity_of_care
  --default-action A        action for purposes with no rule (default review)
  --contact-name NAME       who to call about the exchange
  --contact-email ADDRESS
  --contact-phone NUMBER
  --signing-key-file PATH   public key that verifies its signatures (raw Ed25519 or SPKI DER)
  --signing-key-id ID
  --signing-algorithm ALG   ed25519 | ecdsa_p256_sha256
${DATABASE_OPTIONS_HELP}

example:
  hix facility add clinic-north --name "North Valley Clinic" --format hl7v2 \\
      --policy treatment=auto,research=refuse --contact-email him@northvalley.example`,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        ...DATABASE_OPTIONS,
        name: { type: "string" },
        status: { type: "string" },
        format: { type: "string" },
        policy: { type: "string" },
        "default-action": { type: "string" },
        "contact-name": { type: "string" },
        "contact-email": { type: "string" },
        "contact-phone": { type: "string" },
        "signing-key-file": { type: "string" },
        "signing-key-id": { type: "string" },
        "signing-algorithm": { type: "string" },
      },
    });
    const id = positionals[0];
    if (id === undefined || positionals.length > 1) throw new UsageError("give exactly one facility id");
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id))
      throw new UsageError(
        `facility id ${JSON.stringify(id.slice(0, 80))} must be 1-64 lower-case letters, digits, - or _`,
      );
    if (values.name === undefined || values.name === "") throw new UsageError("--name is required");
    const status = values.status ?? "active";
    if (status !== "active" && status !== "suspended")
      throw new UsageError("--status must be active or suspended");
    const telecom = [
      ...(values["contact-email"] === undefined
        ? []
        : [{ system: ContactPointSystem.EMAIL, value: values["contact-email"] }]),
      ...(values["contact-phone"] === undefined
        ? []
        : [{ system: ContactPointSystem.PHONE, value: values["contact-phone"] }]),
    ];
    const facility = Facility.fromPartial({
      id,
      name: values.name,
      status: status === "active" ? FacilityStatus.ACTIVE : FacilityStatus.SUSPENDED,
      contact: { name: values["contact-name"] ?? "", telecom },
      formats: list(values.format).map(parseFormat),
      signingPublicKey:
        values["signing-key-file"] === undefined
          ? Buffer.alloc(0)
          : readFileSync(resolve(io.cwd, values["signing-key-file"])),
      signingKeyId: values["signing-key-id"] ?? "",
      signingAlgorithm:
        values["signing-algorithm"] === undefined
          ? SignatureAlgorithm.UNSPECIFIED
          : parseAlgorithm(values["signing-algorithm"]),
      disclosurePolicy: {
        rules: list(values.policy).map(parseRule),
        defaultAction: parseAction(values["default-action"] ?? "review"),
      },
    });
    const pool = await openDatabase(values, io);
    try {
      await saveFacility(pool, facility);
    } finally {
      await pool.end();
    }
    io.stdout.write(`facility ${id} saved (${status})\n`);
    return EXIT.ok;
  },
};

const list = (value: string | undefined): string[] =>
  value === undefined
    ? []
    : value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");

function parseFormat(text: string): DataFormat {
  const format = dataFormatFromJSON(`DATA_FORMAT_${text.toUpperCase()}`);
  if (format === DataFormat.UNRECOGNIZED)
    throw new UsageError(`unknown format ${JSON.stringify(text)} (hl7v2, fhir_r4, ccda, csv)`);
  return format;
}

function parseAction(text: string): DisclosureAction {
  const action = ACTIONS[text.toLowerCase()];
  if (action === undefined)
    throw new UsageError(`unknown action ${JSON.stringify(text)} (auto, review, refuse)`);
  return action;
}

function parseRule(text: string): { purpose: PurposeOfUse; action: DisclosureAction } {
  const [purposeText, actionText] = text.split("=");
  if (purposeText === undefined || actionText === undefined)
    throw new UsageError(`policy rule ${JSON.stringify(text)} is not PURPOSE=ACTION`);
  const purpose = purposeOfUseFromJSON(`PURPOSE_OF_USE_${purposeText.toUpperCase()}`);
  if (purpose === PurposeOfUse.UNRECOGNIZED || purpose === PurposeOfUse.UNSPECIFIED)
    throw new UsageError(`unknown purpose of use ${JSON.stringify(purposeText)}`);
  return { purpose, action: parseAction(actionText) };
}

function parseAlgorithm(text: string): SignatureAlgorithm {
  const algorithm = signatureAlgorithmFromJSON(`SIGNATURE_ALGORITHM_${text.toUpperCase()}`);
  if (algorithm === SignatureAlgorithm.UNRECOGNIZED)
    throw new UsageError(`unknown signing algorithm ${JSON.stringify(text)}`);
  return algorithm;
}
