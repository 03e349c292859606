/**
 * `hix adapter new <name>`: a starting folder for a facility adapter — profile, hooks,
 * sample fixtures (synthetic: invented people, no real data), a malformed example, and a
 * test that runs the conformance suite. Refuses to write into a folder that has files.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { HixError } from "@hix/runtime";

const ADT_A04 = [
  "MSH|^~\\&|REGADT|{{ID}}|HIX|HIX|20240301101500||ADT^A04^ADT_A01|{{ID}}-0001|P|2.5.1",
  "EVN|A04|20240301101500",
  "PID|1||MRN10001^^^{{ID}}^MR||Example^Alex^Q||19800229|F|||1 Sample Street^^Springfield^IL^62701^USA||(555)555-0100",
  "PV1|1|O|CLINIC^^^{{ID}}||||1234^Doctor^Dana",
].join("\r");

const ORU_R01 = [
  "MSH|^~\\&|LAB|{{ID}}|HIX|HIX|20240302083000||ORU^R01^ORU_R01|{{ID}}-0002|P|2.5.1",
  "PID|1||MRN10001^^^{{ID}}^MR||Example^Alex^Q||19800229|F",
  "OBR|1|ORD1|FIL1|2345-7^Glucose^LN|||20240302080000",
  "OBX|1|NM|2345-7^Glucose^LN||95|mg/dL|70-99|N|||F|||20240302080000",
].join("\r");

const BAD_DATE = [
  "MSH|^~\\&|REGADT|{{ID}}|HIX|HIX|20240301101500||ADT^A04^ADT_A01|{{ID}}-0003|P|2.5.1",
  "EVN|A04|20240301101500",
  "PID|1||MRN10002^^^{{ID}}^MR||Example^Sam||20230231|M",
].join("\r");

const BUNDLE = {
  resourceType: "Bundle",
  type: "collection",
  entry: [
    {
      fullUrl: "urn:uuid:9b7c5f7e-0000-4000-8000-000000000001",
      resource: {
        resourceType: "Patient",
        id: "MRN10003",
        identifier: [{ system: "urn:hix:{{ID}}:mrn", value: "MRN10003" }],
        name: [{ family: "Example", given: ["Robin"] }],
        gender: "other",
        birthDate: "1975-06",
      },
    },
  ],
};

const HOOKS = `// Code-level overrides for {{ID}} (see docs/adapters.md, "Hooks"). Each hook returns the
// changed value, or undefined to keep it. Keep them pure and fast; never log patient data.
export const hooks = {
  // beforeConvert(input, format) { return input; },
  // afterConvert(conversion, format) { return conversion; },
  // beforeRender(bodies, format) { return bodies; },
};
`;

const TEST = `// Runs the hix conformance suite over this folder: \`node --test\` (or \`hix adapter test .\`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

test("{{ID}} adapter passes the hix conformance suite", () => {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const hix = process.env.HIX_BIN ?? "hix";
  const r = spawnSync(hix, ["adapter", "test", dir], { encoding: "utf8", shell: process.platform === "win32" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
`;

const README = `# {{ID}} adapter

- \`profile.json\` — who the facility is, its MRN, transports, formats, code maps, policy.
- \`hooks.mjs\` — code-level overrides, when the profile cannot say it.
- \`fixtures/\` — samples the facility sends (replace these synthetic ones with de-identified
  real messages); \`fixtures/malformed/\` — inputs that must be refused.
- \`conformance.test.mjs\` — runs \`hix adapter test\` on this folder.

Run: \`hix adapter test .\`, then \`HIX_ADAPTER_PROFILE=$PWD/profile.json pnpm --filter @hix/adapter start\`.
See docs/adapters.md.
`;

export class ScaffoldError extends HixError {
  override name = "ScaffoldError";
}

/** Writes a new adapter folder for facility `id` into `dir`; returns the files written. */
export async function scaffoldAdapter(dir: string, id: string): Promise<string[]> {
  if (!/^[A-Za-z0-9_-]+$/.test(id))
    throw new ScaffoldError(
      "adapter.bad_name",
      "the adapter name becomes the facility id: use letters, digits, '-' or '_'",
    );
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0)
    throw new ScaffoldError("adapter.dir_not_empty", `${dir} is not empty; choose a new folder`);
  const fill = (s: string): string => s.replaceAll("{{ID}}", id);
  const profile = {
    id,
    name: `${id} (edit me)`,
    mrn: { system: `urn:hix:${id}:mrn`, typeCode: "MR" },
    purposeOfUse: "TREATMENT",
    routes: {},
    inbound: { mllp: { port: 2575 }, inbox: { dir: "inbox", pollMs: 1000 } },
    outbound: { format: "fhir", destination: { kind: "folder", dir: "outbox" } },
    quarantineDir: "quarantine",
    recordStore: { kind: "fhir-folder", dir: "records" },
    policy: { allowPurposes: ["TREATMENT", "EMERGENCY", "REFERRAL", "PATIENT_REQUEST"] },
    codeMaps: {},
    hooks: "hooks.mjs",
  };
  const files: [string, string][] = [
    ["profile.json", `${JSON.stringify(profile, null, 2)}\n`],
    ["hooks.mjs", fill(HOOKS)],
    ["fixtures/adt-a04.hl7", `${fill(ADT_A04)}\r`],
    ["fixtures/oru-r01.hl7", `${fill(ORU_R01)}\r`],
    ["fixtures/patient-bundle.json", `${fill(JSON.stringify(BUNDLE, null, 2))}\n`],
    ["fixtures/malformed/impossible-birth-date.hl7", `${fill(BAD_DATE)}\r`],
    ["records/.keep", ""],
    ["conformance.test.mjs", fill(TEST)],
    ["README.md", fill(README)],
  ];
  for (const [name, content] of files) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return files.map(([name]) => name);
}
