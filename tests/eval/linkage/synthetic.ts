// A deterministic synthetic population with known truth, built to hit what FEBRL lacks:
// twins, Jr/Sr pairs and spouses sharing a household, married-name changes, nicknames,
// swapped given/family names, swapped day/month, moves, typos and placeholder values.
import { jaroWinkler, NICKNAMES, nicknameRoots, type LinkageRecord, type LinkResult } from "@hix/linkage";
import type { LabelledRecord } from "./datasets.js";
import { CITIES, FAMILY, FEMALE, MALE, STREETS } from "./syntheticNames.js";

/** mulberry32: small seeded PRNG, enough for reproducible test data. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Person {
  entity: string;
  sex: "M" | "F";
  given: string;
  middle: string | undefined;
  family: string;
  suffix: string | undefined;
  dob: { y: number; m: number; d: number };
  multipleBirthOrder: number | undefined;
  address: string;
  city: string;
  state: string;
  zip: string;
  phone: string;
  ssn: string | undefined;
  email: string | undefined;
}

export type LookAlikeKind = "twins" | "jr-sr";

export interface SyntheticSet {
  readonly data: LabelledRecord[];
  /** Entity pairs that must never auto-link: key `E1|E2` (sorted). */
  readonly lookAlikes: ReadonlyMap<string, LookAlikeKind>;
}

const NICK_OF: ReadonlyMap<string, readonly string[]> = new Map(Object.entries(NICKNAMES));

export function generateSynthetic(options: { seed: number; entities: number }): SyntheticSet {
  const rnd = prng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const digits = (n: number): string => Array.from({ length: n }, () => String(int(0, 9))).join("");
  const title = (s: string): string => s.charAt(0) + s.slice(1).toLowerCase();
  const people: Person[] = [];
  const lookAlikes = new Map<string, LookAlikeKind>();
  let next = 0;

  const home = (): Pick<Person, "address" | "city" | "state" | "zip" | "phone"> => {
    const [city, state, zip, area] = pick(CITIES);
    return {
      address: `${int(1, 9999)} ${pick(STREETS)}`,
      city,
      state,
      zip: String(Number(zip) + int(0, 30)).padStart(5, "0"),
      phone: `${area}${int(200, 999)}${digits(4)}`,
    };
  };
  const ssn = (): string | undefined =>
    rnd() < 0.6
      ? `${int(1, 665)}`.padStart(3, "0") +
        String(int(1, 99)).padStart(2, "0") +
        String(int(1, 9999)).padStart(4, "0")
      : undefined;
  const email = (given: string, family: string): string | undefined =>
    rnd() < 0.4
      ? `${given.toLowerCase()}.${family.toLowerCase().replace(/[^a-z]/g, "")}${int(1, 99)}@${pick(["mail.com", "example.org", "post.net"])}`
      : undefined;
  const person = (overrides: Partial<Person>): Person => {
    const sex = overrides.sex ?? (rnd() < 0.5 ? "M" : "F");
    const given = overrides.given ?? pick(sex === "M" ? MALE : FEMALE);
    const family = overrides.family ?? pick(FAMILY);
    const p: Person = {
      entity: `E${next++}`,
      sex,
      given,
      middle: rnd() < 0.6 ? pick(sex === "M" ? MALE : FEMALE) : undefined,
      family,
      suffix: undefined,
      dob: { y: int(1935, 2020), m: int(1, 12), d: int(1, 28) },
      multipleBirthOrder: undefined,
      ...home(),
      ssn: ssn(),
      email: email(given, family),
      ...overrides,
    };
    people.push(p);
    return p;
  };
  const mark = (a: Person, b: Person, kind: LookAlikeKind): void => {
    lookAlikes.set([a.entity, b.entity].sort().join("|"), kind);
  };

  while (people.length < options.entities) {
    const p = person({});
    const roll = rnd();
    if (roll < 0.04) {
      // Twins: same birth date and household, different given names; order known half the time.
      const sex = rnd() < 0.5 ? p.sex : p.sex === "M" ? "F" : "M";
      let given = pick(sex === "M" ? MALE : FEMALE);
      // Parents do not name twins Stephen and Steven or Larry and Lawrence; no system could
      // tell such twins apart from one person's records, so the generator does not either.
      const alike = (x: string, y: string): boolean =>
        x === y || jaroWinkler(x, y) >= 0.92 || nicknameRoots(x).some((r) => nicknameRoots(y).includes(r));
      while (alike(given, p.given)) given = pick(sex === "M" ? MALE : FEMALE);
      const known = rnd() < 0.5;
      if (known) p.multipleBirthOrder = 1;
      const twin = person({
        sex,
        given,
        family: p.family,
        dob: { ...p.dob },
        address: p.address,
        city: p.city,
        state: p.state,
        zip: p.zip,
        phone: p.phone,
        ...(known ? { multipleBirthOrder: 2 } : {}),
      });
      mark(p, twin, "twins");
    } else if (roll < 0.08) {
      // Jr/Sr: same given, middle and family name, same household, a generation apart.
      p.sex = "M";
      p.given = pick(MALE);
      p.dob.y = int(1975, 2000);
      const father = person({
        sex: "M",
        given: p.given,
        middle: p.middle,
        family: p.family,
        dob: { y: p.dob.y - int(20, 40), m: int(1, 12), d: int(1, 28) },
        address: p.address,
        city: p.city,
        state: p.state,
        zip: p.zip,
        phone: p.phone,
        suffix: rnd() < 0.3 ? "Sr" : undefined,
      });
      if (rnd() < 0.5) p.suffix = "Jr";
      mark(p, father, "jr-sr");
    } else if (roll < 0.13) {
      // Spouse: same family name and household.
      person({
        sex: p.sex === "M" ? "F" : "M",
        family: p.family,
        address: p.address,
        city: p.city,
        state: p.state,
        zip: p.zip,
        phone: p.phone,
      });
    }
  }

  const typo = (s: string): string => {
    if (s.length < 3) return s;
    const i = int(1, s.length - 2);
    const letter = String.fromCharCode(97 + int(0, 25));
    switch (int(0, 3)) {
      case 0:
        return s.slice(0, i) + letter + s.slice(i + 1);
      case 1:
        return s.slice(0, i) + s.slice(i + 1);
      case 2:
        return s.slice(0, i) + letter + s.slice(i);
      default:
        return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
    }
  };

  const data: LabelledRecord[] = [];
  for (const p of people) {
    const copies = 1 + (rnd() < 0.5 ? 0 : rnd() < 0.5 ? 1 : rnd() < 0.6 ? 2 : 3);
    for (let k = 0; k < copies; k++) {
      let given: string | undefined = title(p.given);
      let family: string | undefined = p.family;
      let middle = p.middle === undefined ? undefined : rnd() < 0.5 ? p.middle[0] : title(p.middle);
      let dob: string | undefined =
        `${p.dob.y}-${String(p.dob.m).padStart(2, "0")}-${String(p.dob.d).padStart(2, "0")}`;
      let { address, city, zip, phone } = p;
      let ssnValue = p.ssn;
      let emailValue = p.email;
      let suffix = p.suffix;
      const corruptions = k === 0 ? 0 : int(1, 3);
      for (let c = 0; c < corruptions; c++) {
        switch (int(0, 12)) {
          case 0:
            given = given === undefined ? given : typo(given);
            break;
          case 1:
            family = family === undefined ? family : typo(family);
            break;
          case 2: {
            const nicks = NICK_OF.get(p.given);
            if (nicks !== undefined && nicks.length > 0) given = title(pick(nicks));
            break;
          }
          case 3:
            [given, family] = [family, given];
            break;
          case 4:
            if (p.dob.d <= 12 && p.dob.d !== p.dob.m)
              dob = `${p.dob.y}-${String(p.dob.d).padStart(2, "0")}-${String(p.dob.m).padStart(2, "0")}`;
            break;
          case 5:
            ({ address, city, zip, phone } = { ...home(), phone: rnd() < 0.5 ? phone : home().phone });
            break;
          case 6:
            if (p.sex === "F") family = rnd() < 0.3 ? `${p.family}-${pick(FAMILY)}` : pick(FAMILY);
            break;
          case 7:
            ssnValue = rnd() < 0.5 ? undefined : "999-99-9999";
            emailValue = undefined;
            break;
          case 8:
            if (ssnValue !== undefined && ssnValue.length === 9)
              ssnValue = typo(ssnValue).replace(/[a-z]/g, "5");
            break;
          case 9:
            phone = `+1 (${phone.slice(0, 3)}) ${phone.slice(3, 6)}-${phone.slice(6)}`;
            middle = undefined;
            break;
          case 10:
            family = family?.toUpperCase();
            given = given?.toUpperCase().replace(/E/, "É");
            suffix = undefined;
            break;
          case 11:
            dob = rnd() < 0.5 ? undefined : "1900-01-01";
            break;
          default:
            address = typo(address);
            break;
        }
      }
      const record: LinkageRecord = {
        id: `${p.entity}.${k}`,
        sex: p.sex,
        addressLine: address,
        city,
        state: p.state,
        postalCode: zip,
        phone,
        ...(given === undefined ? {} : { given }),
        ...(family === undefined ? {} : { family }),
        ...(middle === undefined ? {} : { middle }),
        ...(dob === undefined ? {} : { birthDate: dob }),
        ...(ssnValue === undefined ? {} : { ssn: ssnValue }),
        ...(emailValue === undefined ? {} : { email: emailValue }),
        ...(suffix === undefined ? {} : { suffix }),
        ...(p.multipleBirthOrder === undefined ? {} : { multipleBirthOrder: p.multipleBirthOrder }),
      };
      data.push({ record, entity: p.entity });
    }
  }
  return { data, lookAlikes };
}

const entityOf = (id: string): string => id.slice(0, id.indexOf("."));

/** Auto-links (pairs decided `match`, and clusters) joining twins or Jr/Sr look-alikes. */
export function lookAlikeAutoLinks(
  result: LinkResult,
  lookAlikes: ReadonlyMap<string, LookAlikeKind>,
): Record<string, number> {
  const counts = {
    lookAlikeEntityPairs: lookAlikes.size,
    twinMatchPairs: 0,
    jrSrMatchPairs: 0,
    twinClusters: 0,
    jrSrClusters: 0,
  };
  const kindOf = (a: string, b: string): LookAlikeKind | undefined =>
    lookAlikes.get([entityOf(a), entityOf(b)].sort().join("|"));
  for (const p of result.pairs) {
    if (p.decision !== "match") continue;
    const kind = kindOf(p.a, p.b);
    if (kind === "twins") counts.twinMatchPairs++;
    if (kind === "jr-sr") counts.jrSrMatchPairs++;
  }
  for (const c of result.clusters) {
    const entities = [...new Set(c.ids.map(entityOf))].sort();
    for (let x = 0; x < entities.length; x++) {
      for (let y = x + 1; y < entities.length; y++) {
        const kind = lookAlikes.get(`${entities[x]}|${entities[y]}`);
        if (kind === "twins") counts.twinClusters++;
        if (kind === "jr-sr") counts.jrSrClusters++;
      }
    }
  }
  return counts;
}
