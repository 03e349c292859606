// Guards against look-alikes. A high score between two members of one household is expected
// (same family name, address, phone), so some pairs must never be linked automatically no
// matter the score: twins, father and son with the same name, and records whose identifiers
// contradict each other. A guard caps the decision at `review` and says why.
import { CLOSE, DISAGREE, EXACT, FIELDS, MISSING, PHONETIC } from "./compare.js";
import type { NormalizedRecord } from "./types.js";

export type GuardCode =
  "possible-twins" | "possible-jr-sr" | "identifier-conflict" | "birth-date-unconfirmed";

export interface GuardFinding {
  readonly code: GuardCode;
  /** Why, without PHI (field names and levels only). */
  readonly reason: string;
}

const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<(typeof FIELDS)[number], number>;

// A generation: birth years this far apart between same-named household members mean parent and child.
const GENERATION_YEARS = 12;

/** Guard findings for a compared pair (`levels` at `offset`, as written by compareInto). */
export function checkGuards(
  a: NormalizedRecord,
  b: NormalizedRecord,
  levels: Uint8Array,
  offset = 0,
): GuardFinding[] {
  const findings: GuardFinding[] = [];
  const level = (field: keyof typeof F): number => levels[offset + F[field]]!;
  const given = level("given");
  const family = level("family");
  const household =
    family === EXACT ||
    family === CLOSE ||
    level("address") === EXACT ||
    level("address") === CLOSE ||
    level("phone") === EXACT;
  // A transposed day/month counts: twins' records are as error-prone as anyone's.
  const sameBirthDate = level("birthDate") === EXACT || level("birthDate") === CLOSE;
  // Same given name means identical or the same nickname root; a spelling difference is not.
  const sameGiven =
    given === EXACT || (given === CLOSE && a.givenRoots.some((r) => b.givenRoots.includes(r)));

  if (sameBirthDate && household) {
    if (given !== MISSING && !sameGiven) {
      findings.push({ code: "possible-twins", reason: "same birth date and household, given names differ" });
    } else if (family === DISAGREE || family === PHONETIC) {
      // Given and family swapped on one side and not the other leaves the family names differing.
      findings.push({ code: "possible-twins", reason: "same birth date and household, family names differ" });
    } else if (level("sex") === DISAGREE) {
      findings.push({ code: "possible-twins", reason: "same birth date and household, sex differs" });
    } else if (
      a.multipleBirthOrder !== undefined &&
      b.multipleBirthOrder !== undefined &&
      a.multipleBirthOrder !== b.multipleBirthOrder
    ) {
      findings.push({
        code: "possible-twins",
        reason: "same birth date and household, multiple-birth order differs",
      });
    }
  }

  const sameName = (given === EXACT || given === CLOSE) && (family === EXACT || family === CLOSE);
  if (sameName || (sameGiven && family === MISSING)) {
    if (a.suffix !== b.suffix && (a.suffix !== undefined || b.suffix !== undefined)) {
      findings.push({ code: "possible-jr-sr", reason: "same name, name suffix differs" });
    } else if (household && a.birth !== undefined && b.birth !== undefined) {
      const gap = Math.abs(a.birth.year - b.birth.year);
      if (gap >= GENERATION_YEARS) {
        findings.push({
          code: "possible-jr-sr",
          reason: `same name and household, birth years ${gap} apart`,
        });
      } else if (
        level("birthDate") !== EXACT &&
        level("birthDate") !== CLOSE &&
        level("birthDate") !== PHONETIC
      ) {
        findings.push({ code: "possible-jr-sr", reason: "same name and household, birth dates differ" });
      }
    }
  }

  const ssn = level("ssn");
  if (ssn !== MISSING && ssn !== EXACT && ssn !== CLOSE) {
    findings.push({ code: "identifier-conflict", reason: "both have an SSN and they differ" });
  }
  if (level("mrn") !== MISSING && level("mrn") !== EXACT && a.mrn !== undefined && b.mrn !== undefined) {
    // Same facility, two MRNs: a duplicate registration is possible, but it is the facility's
    // own decision to merge its charts, so it goes to review.
    findings.push({ code: "identifier-conflict", reason: "same facility, different MRNs" });
  }

  // Without agreeing birth dates, a same-named relative at the same address cannot be ruled
  // out; only an agreeing identifier makes an automatic link safe.
  const birth = level("birthDate");
  if ((birth === MISSING || birth === DISAGREE) && ssn !== EXACT && level("mrn") !== EXACT) {
    const why = birth === MISSING ? "birth date missing on one side" : "birth dates disagree";
    findings.push({ code: "birth-date-unconfirmed", reason: `${why} and no identifier agrees` });
  }
  return findings;
}
