import { type Encounter, EncounterStatus } from "@hix/proto";
import { readCode, readPractitioner, v2Table, writeCode, writePractitioner } from "./datatypes.js";
import { composites, first, instant, loc, reps, type Seg, text, value } from "./read.js";
import { dtm, esc, Fields, rep } from "./write.js";

/**
 * PV1 → Encounter (HL7 v2.5.1 §3.4.3): id PV1-19.1 visit number, class PV1-2 (table 0004),
 * location PV1-3 as text (point of care, room, bed … joined by spaces), participants PV1-7
 * attending (every repetition), period PV1-44 admit / PV1-45 discharge. The status follows
 * from the period: discharged → finished, admitted → in progress, else not stated.
 */
export function readEncounter(pv1: Seg): Encounter {
  const d = pv1.segment.delimiters;
  const location = (reps(pv1, 3)[0] ?? "")
    .split(d.component)
    .map((c) => text(c.split(d.subcomponent)[0], d))
    .filter((c) => c !== "")
    .join(" ");
  const start = instant(value(pv1, 44), loc(pv1, 44));
  const end = instant(value(pv1, 45), loc(pv1, 45));
  const e: Encounter = {
    id: value(pv1, 19),
    status:
      end !== undefined
        ? EncounterStatus.FINISHED
        : start !== undefined
          ? EncounterStatus.IN_PROGRESS
          : EncounterStatus.UNSPECIFIED,
    participants: composites(pv1, 7).flatMap((c) => readPractitioner(c) ?? []),
    reasons: [],
    location,
  };
  const cls = readCode(first(pv1, 2), v2Table("0004"));
  if (cls !== undefined) e.classCode = cls;
  if (start !== undefined || end !== undefined) {
    e.period = {};
    if (start !== undefined) e.period.start = start;
    if (end !== undefined) e.period.end = end;
  }
  return e;
}

/** Encounter → PV1 (the inverse of readEncounter; the location goes to PV1-3.1 as one text). */
export function writePv1(e: Encounter): string {
  return new Fields()
    .set(1, "1")
    .set(2, writeCode(e.classCode))
    .set(3, esc(e.location))
    .set(7, rep(e.participants.map(writePractitioner)))
    .set(19, esc(e.id))
    .set(44, dtm(e.period?.start))
    .set(45, dtm(e.period?.end))
    .toSegment("PV1");
}
