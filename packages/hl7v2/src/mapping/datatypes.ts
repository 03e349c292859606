import {
  type Address,
  AddressUse,
  type Code,
  type ContactPoint,
  ContactPointSystem,
  ContactPointUse,
  DatePrecision,
  type HumanName,
  type Identifier,
  NameUse,
  type PartialDate,
  type Period,
  type Practitioner,
} from "@hix/proto";
import { type Composite, instant } from "./read.js";
import { comp, dtm, esc, sub } from "./write.js";

// HL7 v2 composite data types ⇄ canonical building blocks (HL7 v2.5.1 chapter 2A;
// CWE §2.A.13, CX §2.A.17, XPN §2.A.88, XAD §2.A.85, XTN §2.A.89, XCN §2.A.86).
// Each reader has a writer that gives it back: read(write(x)) equals x for what HL7 can carry.

// ---- code systems: HL7 v2 table 0396 mnemonics ⇄ FHIR system URIs ----

const SYSTEMS: Record<string, string> = {
  LN: "http://loinc.org",
  SCT: "http://snomed.info/sct",
  SNM: "http://snomed.info/sct",
  I10: "http://hl7.org/fhir/sid/icd-10",
  I10C: "http://hl7.org/fhir/sid/icd-10-cm",
  I9C: "http://hl7.org/fhir/sid/icd-9-cm",
  UCUM: "http://unitsofmeasure.org",
  RXNORM: "http://www.nlm.nih.gov/research/umls/rxnorm",
  CVX: "http://hl7.org/fhir/sid/cvx",
  NDC: "http://hl7.org/fhir/sid/ndc",
  CPT: "http://www.ama-assn.org/go/cpt",
};
const MNEMONICS: Record<string, string> = Object.fromEntries(
  Object.entries(SYSTEMS)
    .filter(([k]) => k !== "SNM")
    .map(([k, v]) => [v, k]),
);
const V2_TABLE = /^HL7(\d{4})$/i;
const V2_TABLE_URI = /^http:\/\/terminology\.hl7\.org\/CodeSystem\/v2-(\d{4})$/;

/** CWE-3 coding system → Code.system: a URI where one is known (LN → http://loinc.org, HL70078 → v2-0078), else as received. */
export function systemUri(mnemonic: string): string {
  const known = SYSTEMS[mnemonic.toUpperCase()];
  if (known !== undefined) return known;
  const table = V2_TABLE.exec(mnemonic);
  if (table !== null) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  return mnemonic;
}

/** Code.system → CWE-3 mnemonic (inverse of `systemUri`). */
export function systemMnemonic(uri: string): string {
  const known = MNEMONICS[uri];
  if (known !== undefined) return known;
  const table = V2_TABLE_URI.exec(uri);
  if (table !== null) return `HL7${table[1]}`;
  return uri;
}

/** The URI of HL7 v2 table `nnnn`, the system of codes read from fields bound to that table. */
export function v2Table(nnnn: string): string {
  return `http://terminology.hl7.org/CodeSystem/v2-${nnnn}`;
}

// ---- CWE / CE / CNE ----

/** CWE: identifier ^ text ^ coding system … ^ version (CWE-7). Undefined when neither code nor text is valued. */
export function readCode(c: Composite, defaultSystem = ""): Code | undefined {
  const code = c.c(1);
  const display = c.c(2);
  if (code === "" && display === "") return undefined;
  const system = c.c(3);
  return {
    system: system !== "" ? systemUri(system) : code !== "" ? defaultSystem : "",
    code,
    display,
    version: c.c(7),
  };
}

export function writeCode(code: Code | undefined): string {
  if (code === undefined) return "";
  return comp(
    esc(code.code),
    esc(code.display),
    esc(systemMnemonic(code.system)),
    "",
    "",
    "",
    esc(code.version),
  );
}

// ---- CX identifiers ----

/**
 * CX: ID ^ check digit ^ scheme ^ assigning authority (HD: namespace & universal id & type) ^
 * type code (table 0203) ^ assigning facility ^ effective date ^ expiration date.
 * `system` is the authority's universal id (an OID) when given, else its namespace id;
 * `assigner` the namespace id, or the assigning facility when there is no authority.
 */
export function readIdentifier(c: Composite, location: string): Identifier | undefined {
  const value = c.c(1);
  if (value === "") return undefined;
  const namespace = c.sub(4, 1);
  const universal = c.sub(4, 2);
  const id: Identifier = {
    value,
    system: universal !== "" ? universal : namespace,
    assigner: namespace !== "" ? namespace : c.sub(6, 1),
    typeCode: c.c(5),
  };
  const period = readPeriod(c.c(7), c.c(8), location);
  if (period !== undefined) id.period = period;
  return id;
}

export function writeIdentifier(id: Identifier): string {
  // The inverse of readIdentifier: an assigner without a system came from CX-6.
  const authority =
    id.system === ""
      ? ""
      : id.system === id.assigner
        ? esc(id.assigner)
        : sub(esc(id.assigner), esc(id.system), /^\d+(\.\d+)+$/.test(id.system) ? "ISO" : "URI");
  const facility = id.system === "" ? esc(id.assigner) : "";
  return comp(
    esc(id.value),
    "",
    "",
    authority,
    esc(id.typeCode),
    facility,
    dtm(id.period?.start),
    dtm(id.period?.end),
  );
}

export function readPeriod(startRaw: string, endRaw: string, location: string): Period | undefined {
  const start = instant(startRaw, location);
  const end = instant(endRaw, location);
  if (start === undefined && end === undefined) return undefined;
  const p: Period = {};
  if (start !== undefined) p.start = start;
  if (end !== undefined) p.end = end;
  return p;
}

// ---- XPN names (name type code: HL7 table 0200) ----

const NAME_USES: Record<string, NameUse> = {
  L: NameUse.OFFICIAL,
  D: NameUse.USUAL,
  M: NameUse.MAIDEN,
  N: NameUse.NICKNAME,
  A: NameUse.NICKNAME,
  B: NameUse.BIRTH,
  S: NameUse.ANONYMOUS,
  TEMP: NameUse.TEMP,
  NOUSE: NameUse.OLD,
  BAD: NameUse.OLD,
};
const NAME_TYPE_CODES: Partial<Record<NameUse, string>> = {
  [NameUse.OFFICIAL]: "L",
  [NameUse.USUAL]: "D",
  [NameUse.MAIDEN]: "M",
  [NameUse.NICKNAME]: "N",
  [NameUse.BIRTH]: "B",
  [NameUse.ANONYMOUS]: "S",
  [NameUse.TEMP]: "TEMP",
  [NameUse.OLD]: "NOUSE",
};

/**
 * XPN: family (FN-1 surname) ^ given ^ further given names (space-separated) ^ suffix ^ prefix
 * ^ degree ^ name type code. The degree (e.g. MD) is kept as a second suffix, as FHIR does.
 */
export function readName(c: Composite): HumanName | undefined {
  const family = c.sub(1, 1);
  const given = [c.c(2), ...c.c(3).split(/\s+/)].filter((g) => g !== "");
  if (family === "" && given.length === 0) return undefined;
  return {
    use: NAME_USES[c.c(7).toUpperCase()] ?? NameUse.UNSPECIFIED,
    family,
    given,
    prefix: c.c(5) === "" ? [] : [c.c(5)],
    suffix: [c.c(4), c.c(6)].filter((s) => s !== ""),
    text: "",
  };
}

export function writeName(n: HumanName): string {
  return comp(
    esc(n.family),
    esc(n.given[0]),
    esc(n.given.slice(1).join(" ")),
    esc(n.suffix[0]),
    esc(n.prefix.join(" ")),
    esc(n.suffix.slice(1).join(" ")),
    NAME_TYPE_CODES[n.use] ?? "",
  );
}

// ---- XAD addresses (address type: HL7 table 0190) ----

const ADDRESS_USES: Record<string, AddressUse> = {
  H: AddressUse.HOME,
  O: AddressUse.WORK,
  B: AddressUse.WORK,
  C: AddressUse.TEMP,
  BA: AddressUse.OLD,
  M: AddressUse.MAILING,
  N: AddressUse.BIRTH,
  BDL: AddressUse.BIRTH,
  BR: AddressUse.BIRTH,
};
const ADDRESS_TYPES: Partial<Record<AddressUse, string>> = {
  [AddressUse.HOME]: "H",
  [AddressUse.WORK]: "O",
  [AddressUse.TEMP]: "C",
  [AddressUse.OLD]: "BA",
  [AddressUse.MAILING]: "M",
  [AddressUse.BIRTH]: "N",
};

/** XAD: street (SAD-1) ^ other designation ^ city ^ state ^ postal code ^ country ^ type ^ … ^ county (XAD-9). */
export function readAddress(c: Composite): Address | undefined {
  const a: Address = {
    use: ADDRESS_USES[c.c(7).toUpperCase()] ?? AddressUse.UNSPECIFIED,
    lines: [c.sub(1, 1), c.c(2)].filter((l) => l !== ""),
    city: c.c(3),
    state: c.c(4),
    postalCode: c.c(5),
    country: c.c(6),
    district: c.c(9),
  };
  if (a.lines.length === 0 && a.city === "" && a.state === "" && a.postalCode === "" && a.country === "") {
    return undefined;
  }
  return a;
}

export function writeAddress(a: Address): string {
  return comp(
    esc(a.lines[0]),
    esc(a.lines.slice(1).join(", ")),
    esc(a.city),
    esc(a.state),
    esc(a.postalCode),
    esc(a.country),
    ADDRESS_TYPES[a.use] ?? "",
    "",
    esc(a.district),
  );
}

// ---- XTN telecom (use: table 0201, equipment: table 0202) ----

/**
 * XTN: number (XTN-1, deprecated but what most senders fill) ^ use code ^ equipment type ^
 * e-mail (XTN-4) ^ country ^ area ^ local number ^ extension … ^ unformatted number (XTN-12).
 * The value is XTN-1, else the e-mail, else XTN-12, else the number put together from its parts.
 * `defaultUse` is what the field means when XTN-2 is empty (PID-13 home, PID-14 work).
 */
export function readTelecom(c: Composite, defaultUse: ContactPointUse): ContactPoint | undefined {
  const useCode = c.c(2).toUpperCase();
  const equipment = c.c(3).toUpperCase();
  const email = c.c(4);
  const parts = [c.c(5) === "" ? "" : `+${c.c(5)}`, c.c(6) === "" ? "" : `(${c.c(6)})`, c.c(7)]
    .filter((p) => p !== "")
    .join(" ");
  const composed = parts === "" ? "" : c.c(8) === "" ? parts : `${parts} x${c.c(8)}`;
  const value = [c.c(1), email, c.c(12), composed].find((v) => v !== "") ?? "";
  if (value === "") return undefined;
  let system = ContactPointSystem.PHONE;
  if (
    equipment === "INTERNET" ||
    equipment === "X.400" ||
    useCode === "NET" ||
    (equipment === "" && value.includes("@"))
  ) {
    system = ContactPointSystem.EMAIL;
  } else if (equipment === "FX") system = ContactPointSystem.FAX;
  else if (equipment === "BP" || useCode === "BPN") system = ContactPointSystem.PAGER;
  let use = defaultUse;
  if (equipment === "CP") use = ContactPointUse.MOBILE;
  else if (useCode === "PRN" || useCode === "ORN") use = ContactPointUse.HOME;
  else if (useCode === "WPN") use = ContactPointUse.WORK;
  else if (useCode === "VHN") use = ContactPointUse.TEMP;
  return { system, value, use, rank: 0 };
}

export function writeTelecom(t: ContactPoint): string {
  const email = t.system === ContactPointSystem.EMAIL;
  const useCode = email
    ? "NET"
    : t.use === ContactPointUse.WORK
      ? "WPN"
      : t.use === ContactPointUse.TEMP
        ? "VHN"
        : t.system === ContactPointSystem.PAGER
          ? "BPN"
          : "PRN";
  const equipment = email
    ? "Internet"
    : t.system === ContactPointSystem.FAX
      ? "FX"
      : t.system === ContactPointSystem.PAGER
        ? "BP"
        : t.use === ContactPointUse.MOBILE
          ? "CP"
          : "PH";
  return email ? comp("", useCode, equipment, esc(t.value)) : comp(esc(t.value), useCode, equipment);
}

// ---- XCN practitioners ----

/** XCN: ID ^ family ^ given ^ middle ^ suffix ^ prefix ^ degree … ^ assigning authority (XCN-9) … ^ type (XCN-13). */
export function readPractitioner(c: Composite): Practitioner | undefined {
  const idValue = c.c(1);
  const family = c.sub(2, 1);
  const given = [c.c(3), ...c.c(4).split(/\s+/)].filter((g) => g !== "");
  if (idValue === "" && family === "" && given.length === 0) return undefined;
  const p: Practitioner = { identifiers: [], telecom: [], facilityId: "" };
  if (idValue !== "") {
    const namespace = c.sub(9, 1);
    const universal = c.sub(9, 2);
    p.identifiers.push({
      value: idValue,
      system: universal !== "" ? universal : namespace,
      assigner: namespace,
      typeCode: c.c(13),
    });
  }
  if (family !== "" || given.length > 0) {
    p.name = {
      use: NameUse.UNSPECIFIED,
      family,
      given,
      prefix: c.c(6) === "" ? [] : [c.c(6)],
      suffix: [c.c(5), c.c(7)].filter((s) => s !== ""),
      text: "",
    };
  }
  return p;
}

export function writePractitioner(p: Practitioner | undefined): string {
  if (p === undefined) return "";
  const id = p.identifiers[0];
  const n = p.name;
  const authority =
    id === undefined || id.system === ""
      ? ""
      : id.system === id.assigner
        ? esc(id.assigner)
        : sub(esc(id.assigner), esc(id.system), /^\d+(\.\d+)+$/.test(id.system) ? "ISO" : "URI");
  return comp(
    esc(id?.value),
    esc(n?.family),
    esc(n?.given[0]),
    esc(n?.given.slice(1).join(" ")),
    esc(n?.suffix[0]),
    esc(n?.prefix.join(" ")),
    esc(n?.suffix.slice(1).join(" ")),
    "",
    authority,
    "",
    "",
    "",
    esc(id?.typeCode),
  );
}

// ---- partial dates ----

/** A PartialDate as DT text of its precision: YYYY, YYYYMM or YYYYMMDD. */
export function writePartialDate(d: PartialDate | undefined): string {
  if (d === undefined) return "";
  const y = String(d.year).padStart(4, "0");
  const m = String(d.month).padStart(2, "0");
  const day = String(d.day).padStart(2, "0");
  switch (d.precision) {
    case DatePrecision.YEAR:
      return y;
    case DatePrecision.MONTH:
      return y + m;
    case DatePrecision.DAY:
      return y + m + day;
    default:
      return "";
  }
}
