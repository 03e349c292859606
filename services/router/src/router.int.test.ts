import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { listDeadLetters } from "@hix/bus";
import {
  LocateRequest,
  LocateResponse,
  PurposeOfUse,
  ReceiptStatus,
  RecordRequest,
  RecordTransfer,
  ReferralPacket,
  TransferOutcome,
  encodeEnvelope,
  newEnvelope,
  type Envelope,
  type Receipt,
} from "@hix/proto";
import { ledgerText, searchLedger, verifyLedger } from "./audit-ledger.js";
import { setFacilityStatus } from "./directory.js";
import { locateSubject } from "./locate.js";
import { DISCLOSURE_HEADER } from "./pipeline.js";
import { requestStatus, sweepExpired } from "./request-tracker.js";
import { eventually, routerFixture, type RouterFixture } from "./test-support/router-fixture.js";

let fx: RouterFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const patient = {
  sourceFacility: "hospital-a",
  localPatientId: "MRN-1001",
  names: [{ family: "Doe", given: ["Jane"] }],
};

function request(
  holder: { facilityId: string } | { locate: { minScore?: number } },
  deadline?: Date,
): Envelope {
  return newEnvelope({
    fromFacility: "hospital-a",
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "recordRequest",
      value: RecordRequest.fromPartial({
        patient,
        holder:
          "facilityId" in holder
            ? { $case: "facilityId", value: holder.facilityId }
            : { $case: "locate", value: { minScore: 0, maxHolders: 0, excludeFacilityIds: [] } },
        categories: [],
        reason: "",
        ...(deadline === undefined ? {} : { deadline }),
      }),
    },
  });
}

function transfer(from: string, to: string, inReplyTo: string, outcome = TransferOutcome.RECORDS): Envelope {
  return newEnvelope({
    fromFacility: from,
    toFacility: to,
    purposeOfUse: PurposeOfUse.TREATMENT,
    body: {
      $case: "recordTransfer",
      value: RecordTransfer.fromPartial({
        inReplyTo,
        patient: { sourceFacility: from, localPatientId: "C-77" },
        outcome,
      }),
    },
  });
}

const receiptsOf = async (f: RouterFixture, facility: string): Promise<Receipt[]> =>
  (await f.inbox(facility)).flatMap((d) =>
    d.envelope.body?.$case === "receipt" ? [d.envelope.body.value] : [],
  );

/** Answers locate requests the way the reconciler will (the contract: LocateRequest → LocateResponse). */
function locateResponder(f: RouterFixture, holders: string[]): { seen: LocateRequest[] } {
  const seen: LocateRequest[] = [];
  f.nc.subscribe(locateSubject(f.topology), {
    callback: (_err, msg) => {
      seen.push(LocateRequest.decode(msg.data));
      msg.respond(
        LocateResponse.encode({
          holders: holders.map((facilityId) => ({
            facilityId,
            localPatientId: `L-${facilityId}`,
            score: 0.97,
          })),
        }).finish(),
      );
    },
  });
  return { seen };
}

describe("router: record requests", () => {
  it("delivers a request to the named clinic, routes its transfer back, and closes the request", async () => {
    fx = await routerFixture("named");
    await fx.startRouter();
    const req = request({ facilityId: "clinic-b" });
    await fx.submit("hospital-a", req);

    const atClinic = await eventually(async () => (await fx!.inbox("clinic-b"))[0]);
    expect(atClinic.envelope.id).toBe(req.id);
    expect(atClinic.envelope.toFacility).toBe("clinic-b");
    expect(atClinic.subject).toBe(fx.topology.outSubject("clinic-b", "record_request"));
    expect(atClinic.headers?.get(DISCLOSURE_HEADER)).toBe("auto");
    const routed = await eventually(async () => (await receiptsOf(fx!, "hospital-a"))[0]);
    expect(routed).toMatchObject({
      regardingId: req.id,
      status: ReceiptStatus.ROUTED,
      facilityId: "clinic-b",
    });
    expect((await requestStatus(fx.pool, req.id))?.holders).toMatchObject([
      { holder: "clinic-b", state: "pending" },
    ]);

    const answer = transfer("clinic-b", "hospital-a", req.id);
    await fx.submit("clinic-b", answer);
    const back = await eventually(async () =>
      (await fx!.inbox("hospital-a")).find((d) => d.envelope.body?.$case === "recordTransfer"),
    );
    expect(back.envelope.id).toBe(answer.id);
    const answered = await eventually(async () =>
      (await receiptsOf(fx!, "hospital-a")).find((r) => r.status === ReceiptStatus.ANSWERED),
    );
    expect(answered).toMatchObject({ regardingId: req.id, facilityId: "clinic-b", code: "answer.records" });
    const status = await requestStatus(fx.pool, req.id);
    expect(status?.status).toBe("complete");
    expect(status?.holders).toMatchObject([
      { holder: "clinic-b", state: "records", answerEnvelopeId: answer.id },
    ]);

    const rows = await searchLedger(fx.pool, {});
    expect(rows.map((r) => [r.envelopeId, r.sender, r.receiver, r.kind, r.outcome])).toEqual([
      [req.id, "hospital-a", "clinic-b", "record_request", "disclosed"],
      [answer.id, "clinic-b", "hospital-a", "record_transfer", "disclosed"],
    ]);
    expect(rows[0]!.patientRefHash?.byteLength).toBe(32);
    expect(await verifyLedger(fx.pool)).toEqual({ ok: true, rows: 2 });
    // No PHI in the logs: the patient's name never appears.
    expect(JSON.stringify(fx.logLines)).not.toContain("Doe");
  });

  it("fans a locate request out to every holder the locator names, and expires the silent one", async () => {
    fx = await routerFixture("locate");
    const locator = locateResponder(fx, ["clinic-b", "clinic-c", "hospital-a"]);
    await fx.startRouter();
    const req = request({ locate: {} }, new Date(Date.now() + 1500));
    await fx.submit("hospital-a", req);

    const atB = await eventually(async () => (await fx!.inbox("clinic-b"))[0]);
    const atC = await eventually(async () => (await fx!.inbox("clinic-c"))[0]);
    expect([atB.envelope.id, atC.envelope.id]).toEqual([req.id, req.id]);
    expect(locator.seen[0]?.excludeFacilityIds).toContain("hospital-a");
    expect(locator.seen[0]?.patient?.localPatientId).toBe("MRN-1001");
    // The requester is never sent its own request, even if the locator names it.
    expect((await fx.inbox("hospital-a")).filter((d) => d.envelope.body?.$case === "recordRequest")).toEqual(
      [],
    );
    const routed = await eventually(async () => {
      const r = (await receiptsOf(fx!, "hospital-a")).filter((x) => x.status === ReceiptStatus.ROUTED);
      return r.length === 2 ? r : undefined;
    });
    expect(routed.map((r) => r.facilityId).sort()).toEqual(["clinic-b", "clinic-c"]);

    await fx.submit("clinic-b", transfer("clinic-b", "hospital-a", req.id, TransferOutcome.NO_MATCH));
    await eventually(async () =>
      (await requestStatus(fx!.pool, req.id))?.holders.some((h) => h.state === "no_match"),
    );
    await new Promise((r) => setTimeout(r, 1600));
    expect(await sweepExpired({ pool: fx.pool, js: fx.js, topology: fx.topology })).toBe(1);
    expect(await sweepExpired({ pool: fx.pool, js: fx.js, topology: fx.topology })).toBe(0);
    const expired = await eventually(async () =>
      (await receiptsOf(fx!, "hospital-a")).filter((r) => r.status === ReceiptStatus.EXPIRED),
    );
    expect(expired).toMatchObject([
      { regardingId: req.id, facilityId: "clinic-c", code: "router.holder_silent" },
    ]);
    const status = await requestStatus(fx.pool, req.id);
    expect(status?.status).toBe("expired");
    expect(status?.holders.map((h) => [h.holder, h.state])).toEqual([
      ["clinic-b", "no_match"],
      ["clinic-c", "expired"],
    ]);
  });

  it("says the locator is unavailable when nobody answers, instead of guessing", async () => {
    fx = await routerFixture("nolocator");
    await fx.startRouter();
    const req = request({ locate: {} });
    await fx.submit("hospital-a", req);
    const receipt = await eventually(async () => (await receiptsOf(fx!, "hospital-a"))[0]);
    expect(receipt).toMatchObject({
      regardingId: req.id,
      status: ReceiptStatus.REJECTED,
      code: "router.locator_unavailable",
    });
    const dead = await eventually(async () => (await listDeadLetters(fx!.jsm, fx!.topology))[0]);
    expect(dead.code).toBe("router.locator_unavailable");
    expect((await searchLedger(fx.pool, { envelopeId: req.id })).map((r) => r.outcome)).toEqual(["failed"]);
  });
});

describe("router: referral packets", () => {
  it("delivers a referral and routes the hospital's acceptance back to the practice", async () => {
    fx = await routerFixture("referral");
    await fx.startRouter();
    const referral = newEnvelope({
      fromFacility: "practice-d",
      purposeOfUse: PurposeOfUse.REFERRAL,
      body: {
        $case: "referralPacket",
        value: ReferralPacket.fromPartial({
          referralId: "REF-1",
          referringFacilityId: "practice-d",
          receivingFacilityId: "hospital-a",
          patient: { sourceFacility: "practice-d", localPatientId: "P-9" },
          reason: "cardiology opinion",
          attachments: [
            {
              title: "ECG",
              mediaType: "application/pdf",
              content: { $case: "inline", value: Buffer.from("%PDF-1.4 test") },
            },
          ],
        }),
      },
    });
    await fx.submit("practice-d", referral);
    const atHospital = await eventually(async () => (await fx!.inbox("hospital-a"))[0]);
    expect(atHospital.envelope.body?.$case).toBe("referralPacket");
    expect(atHospital.envelope.id).toBe(referral.id);

    const acceptance = newEnvelope({
      fromFacility: "hospital-a",
      purposeOfUse: PurposeOfUse.REFERRAL,
      correlationId: referral.id,
      causationId: referral.id,
      body: {
        $case: "receipt",
        value: {
          regardingId: referral.id,
          status: ReceiptStatus.ACCEPTED,
          code: "referral.accepted",
          reason: "appointment booked",
          facilityId: "hospital-a",
        },
      },
    });
    await fx.submit("hospital-a", acceptance);
    const got = await eventually(async () =>
      (await receiptsOf(fx!, "practice-d")).find((r) => r.status === ReceiptStatus.ACCEPTED),
    );
    expect(got).toMatchObject({
      regardingId: referral.id,
      code: "referral.accepted",
      facilityId: "hospital-a",
    });

    // A facility the referral never reached cannot send "receipts" about it.
    const forged = newEnvelope({
      fromFacility: "clinic-c",
      toFacility: "practice-d",
      purposeOfUse: PurposeOfUse.REFERRAL,
      body: {
        $case: "receipt",
        value: {
          regardingId: referral.id,
          status: ReceiptStatus.REJECTED,
          code: "referral.declined",
          reason: "",
          facilityId: "clinic-c",
        },
      },
    });
    await fx.submit("clinic-c", forged);
    const refused = await eventually(async () => (await receiptsOf(fx!, "clinic-c"))[0]);
    expect(refused).toMatchObject({
      regardingId: forged.id,
      status: ReceiptStatus.REJECTED,
      code: "router.receipt_unrelated",
    });
    expect((await receiptsOf(fx, "practice-d")).filter((r) => r.code === "referral.declined")).toEqual([]);
  });
});

describe("router: refusals", () => {
  const cases: Array<{
    name: string;
    submitter: string;
    make: () => { envelope?: Envelope; bytes?: Uint8Array; kind?: string };
    status: ReceiptStatus;
    code: string;
    outcome: string;
  }> = [
    {
      name: "a request to a suspended facility",
      submitter: "hospital-a",
      make: () => ({ envelope: request({ facilityId: "clinic-sus" }) }),
      status: ReceiptStatus.REJECTED,
      code: "router.destination_suspended",
      outcome: "rejected",
    },
    {
      name: "a spoofed sender",
      submitter: "clinic-c",
      make: () => ({ envelope: request({ facilityId: "clinic-b" }) }), // claims hospital-a
      status: ReceiptStatus.REJECTED,
      code: "router.sender_mismatch",
      outcome: "rejected",
    },
    {
      name: "an undecodable message",
      submitter: "hospital-a",
      make: () => ({ bytes: Buffer.from("MSH|^~\\&|not protobuf"), kind: "record_request" }),
      status: ReceiptStatus.REJECTED,
      code: "router.undecodable",
      outcome: "rejected",
    },
    {
      name: "an oversize message",
      submitter: "hospital-a",
      make: () => ({ bytes: new Uint8Array(70_000), kind: "record_transfer" }),
      status: ReceiptStatus.REJECTED,
      code: "router.too_large",
      outcome: "rejected",
    },
    {
      name: "an expired deadline",
      submitter: "hospital-a",
      make: () => ({ envelope: request({ facilityId: "clinic-b" }, new Date(Date.now() - 60_000)) }),
      status: ReceiptStatus.EXPIRED,
      code: "router.deadline_passed",
      outcome: "rejected",
    },
    {
      name: "a purpose the holder's policy refuses",
      submitter: "hospital-a",
      make: () => {
        const e = request({ facilityId: "clinic-b" });
        return {
          envelope: newEnvelope({
            ...e,
            fromFacility: "hospital-a",
            purposeOfUse: PurposeOfUse.RESEARCH,
            body: e.body!,
          }),
        };
      },
      status: ReceiptStatus.REJECTED,
      code: "router.policy_refuses_purpose",
      outcome: "denied",
    },
    {
      name: "a receipt batch from a facility",
      submitter: "hospital-a",
      make: () => ({
        envelope: newEnvelope({
          fromFacility: "hospital-a",
          toFacility: "clinic-b",
          purposeOfUse: PurposeOfUse.TREATMENT,
          body: { $case: "receiptBatch", value: { receipts: [] } },
        }),
        kind: "receipt",
      }),
      status: ReceiptStatus.REJECTED,
      code: "router.kind_not_routable",
      outcome: "rejected",
    },
  ];

  it.each(cases)("$name → $code receipt, dead letter and audit row, nothing delivered", async (c) => {
    fx = await routerFixture("refuse");
    await fx.startRouter({ maxMessageBytes: 64 * 1024 });
    const { envelope, bytes, kind } = c.make();
    const msgId = envelope?.id ?? `raw-${Date.now()}`;
    if (envelope !== undefined)
      await fx.submitBytes(c.submitter, kind ?? "record_request", encodeEnvelope(envelope), msgId);
    else await fx.submitBytes(c.submitter, kind!, bytes!, msgId);

    const receipt = await eventually(async () => (await receiptsOf(fx!, c.submitter))[0]);
    expect(receipt).toMatchObject({ regardingId: msgId, status: c.status, code: c.code });
    expect(receipt.reason.length).toBeGreaterThan(20);
    const dead = await eventually(async () => (await listDeadLetters(fx!.jsm, fx!.topology))[0]);
    expect(dead).toMatchObject({
      code: c.code,
      msgId,
      originalSubject: fx.topology.inSubject(c.submitter, (kind ?? "record_request") as never),
    });
    const rows = await searchLedger(fx.pool, { envelopeId: msgId });
    expect(rows.map((r) => [r.sender, r.outcome, r.code])).toEqual([[c.submitter, c.outcome, c.code]]);
    for (const f of ["clinic-b", "clinic-sus", "hospital-a", "clinic-c"]) {
      expect((await fx.inbox(f)).filter((d) => d.envelope.body?.$case !== "receipt")).toEqual([]);
    }
    expect(fx.router!.stats.deadLettered).toBe(1);
  });

  it("records a refused message whose ids no ledger can hold under a digest, and the messages beside it flow", async () => {
    fx = await routerFixture("unfit");
    await fx.startRouter();
    // An id of 20,000 random characters (over PostgreSQL's index row limit) and a correlation
    // id with a NUL (which its text type cannot store), submitted with a good request.
    const bad: Envelope = {
      ...request({ facilityId: "clinic-b" }),
      id: randomBytes(10_000).toString("hex"),
      correlationId: "conv\u0000001",
    };
    const good = request({ facilityId: "clinic-b" });
    await Promise.all([
      fx.submitBytes("hospital-a", "record_request", encodeEnvelope(bad), "raw-unfit"),
      fx.submit("hospital-a", good),
    ]);

    const digest = ledgerText(bad.id);
    expect(digest).toMatch(/^#[0-9a-f]{32}$/);
    const refused = await eventually(async () =>
      (await receiptsOf(fx!, "hospital-a")).find((r) => r.status === ReceiptStatus.REJECTED),
    );
    expect(refused).toMatchObject({ regardingId: digest, code: "router.invalid" });
    expect(refused.reason).toBe(`envelope ${digest}: id must be a ULID (26 characters, Crockford base32)`);
    await eventually(async () => (await fx!.inbox("clinic-b")).length === 1);
    expect((await fx.inbox("clinic-b"))[0]!.envelope.id).toBe(good.id);
    await eventually(() => fx!.router!.stats.acked === 1 && fx!.router!.stats.deadLettered === 1);
    expect(fx.router!.stats.retried).toBe(0); // the good message's audit row was never held up
    const rows = await searchLedger(fx.pool, { since: new Date(0) });
    expect(rows.map((r) => [r.envelopeId, r.outcome]).sort()).toEqual(
      [
        [digest, "rejected"],
        [good.id, "disclosed"],
      ].sort(),
    );
    expect(await verifyLedger(fx.pool)).toEqual({ ok: true, rows: 2 });
  });

  it("sees a suspension made while it runs, without a restart", async () => {
    fx = await routerFixture("suspend");
    await fx.startRouter();
    await fx.submit("hospital-a", request({ facilityId: "clinic-b" }));
    await eventually(async () => (await fx!.inbox("clinic-b")).length === 1);
    await setFacilityStatus(fx.pool, "clinic-b", "suspended");
    await eventually(() =>
      fx!.logLines.some((l) => l["msg"] === "directory entry reloaded" && l["facility"] === "clinic-b"),
    );
    const second = request({ facilityId: "clinic-b" });
    await fx.submit("hospital-a", second);
    const receipt = await eventually(async () =>
      (await receiptsOf(fx!, "hospital-a")).find((r) => r.regardingId === second.id),
    );
    expect(receipt.code).toBe("router.destination_suspended");
    expect(await fx.inbox("clinic-b")).toHaveLength(1);
  });
});

describe("audit ledger", () => {
  it("names the row an edit broke, and refuses updates while the trigger is on", async () => {
    fx = await routerFixture("ledger");
    await fx.startRouter();
    for (let i = 0; i < 3; i++) await fx.submit("hospital-a", request({ facilityId: "clinic-b" }));
    await eventually(async () => (await searchLedger(fx!.pool, {})).length === 3);
    expect((await verifyLedger(fx.pool)).ok).toBe(true);
    await expect(
      fx.pool.query("UPDATE audit_ledger SET receiver = 'clinic-c' WHERE seq = 2"),
    ).rejects.toThrow(/append-only/);
    await fx.pool.query("ALTER TABLE audit_ledger DISABLE TRIGGER audit_ledger_no_update");
    await fx.pool.query("UPDATE audit_ledger SET receiver = 'clinic-c' WHERE seq = 2");
    const result = await verifyLedger(fx.pool);
    expect(result.ok).toBe(false);
    expect(result.broken).toMatchObject({ seq: 2, problem: expect.stringMatching(/edited/) });
  });
});
