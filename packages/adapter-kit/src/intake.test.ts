import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "@hix/hl7v2";
import { fixturePath } from "@hix/testkit";
import { ackCode, createHl7Intake, errLocation } from "./intake.js";
import { deterministicId, hl7TimeToMs } from "./message-id.js";
import { isUlid } from "@hix/proto";
import { memorySink, tempDir, testProfile } from "./test-support.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const tmp = await tempDir("intake");
  cleanups.push(tmp.remove);
  const sink = memorySink();
  const intake = createHl7Intake({
    profile: testProfile(),
    submit: sink.submit,
    quarantineDir: join(tmp.dir, "q"),
  });
  return { ...sink, intake, quarantineDir: join(tmp.dir, "q") };
}

const ADT_A04 = await readFile(fixturePath("hl7v2-ms-fhir-converter", "ADT-A04-01.hl7"), "utf8");
const ORU = await readFile(fixturePath("hl7v2-rethinkhealth-qa", "oru-r01-lab.hl7"), "utf8");

describe("HL7 v2 intake", () => {
  it("stores the message, then answers AA with MSA-2 = the original MSH-10", async () => {
    const s = await setup();
    const ack = await s.intake(ADT_A04);
    expect(ackCode(ack)).toBe("AA");
    expect(parse(ack).get("MSA-2")).toBe(parse(ADT_A04).controlId);
    expect(s.stored.length).toBeGreaterThan(0);
    expect(s.stored.every((e) => isUlid(e.id) && e.fromFacility === "test-hospital")).toBe(true);
    expect(s.stored[0]?.body?.$case).toBe("patientAnnouncement");
  });

  it("gives a resend of the same MSH-10 the same envelope ids, stored once, and answers AA again", async () => {
    const s = await setup();
    await s.intake(ORU);
    const count = s.stored.length;
    const ack = await s.intake(ORU.replace(/\|(\d{12,14})\|/, "|20990101000000|") /* resent later */);
    expect(ackCode(ack)).toBe("AA");
    expect(s.stored.length).toBe(count);
  });

  it("never answers when the bus does not confirm the publish", async () => {
    const s = await setup();
    s.failNext(1);
    await expect(s.intake(ADT_A04)).rejects.toMatchObject({ code: "bus.publish_failed" });
    expect(s.stored).toHaveLength(0);
    // The sender resends; now it is stored and acknowledged.
    expect(ackCode(await s.intake(ADT_A04))).toBe("AA");
  });

  it.each([
    ["no MSH", "PID|1||123^^^H^MR\r", "AR", "MSH"],
    ["no control id", "MSH|^~\\&|A|B|C|D|20240101||ADT^A04|||2.5\rPID|1||123^^^H^MR\r", "AR", "MSH^1^10"],
    [
      "impossible birth date",
      ADT_A04.replace(/^(PID(?:\|[^|\r\n]*){6})\|[^|\r\n]*/m, "$1|20230231"),
      "AE",
      "PID^1^7",
    ],
  ])(
    "refuses %s with %s, an ERR naming the place, and quarantines the original with its reason",
    async (_name, text, code, where) => {
      const s = await setup();
      const ack = await s.intake(text);
      expect(ackCode(ack)).toBe(code);
      const err = ack.split("\r").find((l) => l.startsWith("ERR"));
      expect(err).toBeDefined();
      expect(err).toContain(where);
      expect(s.stored).toHaveLength(0);
      const files = await readdir(s.quarantineDir);
      const original = files.find((f) => !f.endsWith(".reason.txt"));
      expect(original).toBeDefined();
      expect(await readFile(join(s.quarantineDir, original!), "utf8")).toBe(text);
      expect(files).toContain(`${original}.reason.txt`);
      expect(await readFile(join(s.quarantineDir, `${original}.reason.txt`), "utf8")).toMatch(/^code: /);
    },
  );
});

describe("ids and locations", () => {
  it("derives the same ULID from the same facility, sender and control id, and a different one otherwise", () => {
    const key = {
      facility: "f",
      sender: "APP^FAC",
      controlId: "123",
      time: hl7TimeToMs("20240102030405+0100"),
    };
    expect(deterministicId(key)).toBe(deterministicId({ ...key }));
    expect(isUlid(deterministicId(key))).toBe(true);
    expect(deterministicId(key)).not.toBe(deterministicId({ ...key, controlId: "124" }));
    expect(deterministicId(key)).not.toBe(deterministicId({ ...key, sender: "APP^OTHER" }));
    expect(deterministicId(key)).not.toBe(deterministicId(key, 1));
    expect(hl7TimeToMs("20240102030405+0100")).toBe(Date.UTC(2024, 0, 2, 2, 4, 5));
  });

  it.each([
    ["PID-7", { segment: "PID", field: 7 }],
    ["OBX[3]-5.1", { segment: "OBX", sequence: 3, field: 5, component: 1 }],
    ["PID-5[2].1", { segment: "PID", field: 5, repetition: 2, component: 1 }],
    ["line 3", undefined],
  ])("reads codec location %s as ERR parts", (location, parts) => {
    expect(errLocation(location)).toEqual(parts);
  });
});
