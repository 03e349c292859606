import {
  Address,
  AddressUse,
  Code,
  ContactPoint,
  ContactPointSystem,
  ContactPointUse,
  HumanName,
  Identifier,
  NameUse,
  type PartialDate,
  type Period,
  Practitioner,
  Quantity,
} from "@hix/proto";
import type { El } from "./xml.js";
import { parseTs, toInstant, toPartialDate, type HL7Timestamp } from "./timestamp.js";

/**
 * CDA R2 data types (HL7 V3 Data Types R1: II, CD, TS, IVL_TS, PN, AD, TEL, PQ) read into
 * canonical building blocks.
 */

/** Code system OIDs with a FHIR URI (FHIR R4 terminology "Using codes", C-CDA on FHIR). */
export const CODE_SYSTEM_URIS: Readonly<Record<string, string>> = {
  "2.16.840.1.113883.6.1": "http://loinc.org",
  "2.16.840.1.113883.6.96": "http://snomed.info/sct",
  "2.16.840.1.113883.6.88": "http://www.nlm.nih.gov/research/umls/rxnorm",
  "2.16.840.1.113883.6.90": "http://hl7.org/fhir/sid/icd-10-cm",
  "2.16.840.1.113883.6.3": "http://hl7.org/fhir/sid/icd-10",
  "2.16.840.1.113883.6.103": "http://hl7.org/fhir/sid/icd-9-cm",
  "2.16.840.1.113883.6.12": "http://www.ama-assn.org/go/cpt",
  "2.16.840.1.113883.6.285": "urn:oid:2.16.840.1.113883.6.285",
  "2.16.840.1.113883.12.292": "http://hl7.org/fhir/sid/cvx",
  "2.16.840.1.113883.6.69": "http://hl7.org/fhir/sid/ndc",
  "2.16.840.1.113883.4.9": "http://fdasis.nlm.nih.gov",
  "2.16.840.1.113883.6.8": "http://unitsofmeasure.org",
  "2.16.840.1.113883.3.26.1.1": "http://ncimeta.nci.nih.gov",
  "2.16.840.1.113883.6.101": "http://nucc.org/provider-taxonomy",
  "2.16.840.1.113883.6.238": "urn:oid:2.16.840.1.113883.6.238",
  "2.16.840.1.113883.5.1": "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender",
  "2.16.840.1.113883.5.2": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
  "2.16.840.1.113883.5.4": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
  "2.16.840.1.113883.5.6": "http://terminology.hl7.org/CodeSystem/v3-ActClass",
  "2.16.840.1.113883.5.25": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
  "2.16.840.1.113883.5.83": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
  "2.16.840.1.113883.5.111": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
  "2.16.840.1.113883.5.112": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
  "2.16.840.1.113883.5.1063": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
  "2.16.840.1.113883.5.1076": "http://terminology.hl7.org/CodeSystem/v3-ReligiousAffiliation",
  "2.16.840.1.113883.6.259": "urn:oid:2.16.840.1.113883.6.259",
};

/** Identifier namespaces with a well-known URI (FHIR R4 "Identifier systems"). */
export const IDENTIFIER_SYSTEM_URIS: Readonly<Record<string, string>> = {
  "2.16.840.1.113883.4.1": "http://hl7.org/fhir/sid/us-ssn",
  "2.16.840.1.113883.4.6": "http://hl7.org/fhir/sid/us-npi",
};

export const SSN_OID = "2.16.840.1.113883.4.1";

export function codeSystemUri(oid: string | undefined): string {
  if (oid === undefined) return "";
  return CODE_SYSTEM_URIS[oid] ?? `urn:oid:${oid}`;
}

/**
 * A CD/CE/CV element as a Code: (codeSystem OID → URI, code, displayName). When the element
 * itself has no code (nullFlavor, local text only), the first coded translation is used, and
 * failing that the originalText as display with no code. Undefined when nothing is there.
 */
export function readCode(el: El | undefined): Code | undefined {
  if (el === undefined) return undefined;
  const code = el.attr("code");
  const original = el.one("originalText")?.text;
  if (code !== undefined) {
    return Code.fromPartial({
      system: codeSystemUri(el.attr("codeSystem")),
      code,
      display: el.attr("displayName") ?? original ?? "",
      version: el.attr("codeSystemVersion") ?? "",
    });
  }
  for (const t of el.all("translation")) {
    const c = readCode(t);
    if (c !== undefined && c.code !== "") return c;
  }
  if (original !== undefined && original !== "") return Code.fromPartial({ display: original });
  return undefined;
}

/** An II element as an Identifier: root OID → system (a known URI or urn:oid:), extension → value. */
export function readIdentifier(el: El): Identifier | undefined {
  const root = el.attr("root");
  const ext = el.attr("extension");
  if (el.nullFlavor !== undefined || root === undefined) return undefined;
  if (ext === undefined) {
    // An II with only a root is the identifier itself (an OID or UUID instance id).
    return Identifier.fromPartial({ system: "urn:ietf:rfc:3986", value: uuidOrOid(root) });
  }
  return Identifier.fromPartial({
    system: IDENTIFIER_SYSTEM_URIS[root] ?? uuidOrOid(root),
    value: ext,
    assigner: el.attr("assigningAuthorityName") ?? "",
    typeCode: root === SSN_OID ? "SS" : "",
  });
}

function uuidOrOid(root: string): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(root) ? `urn:uuid:${root.toLowerCase()}` : `urn:oid:${root}`;
}

/** A local id string for an entry: `extension` qualified by its root, or the root alone. */
export function readId(el: El | undefined): string {
  if (el === undefined) return "";
  const root = el.attr("root");
  const ext = el.attr("extension");
  if (ext !== undefined) return root === undefined ? ext : `${root}^${ext}`;
  return root ?? "";
}

/** A TS element's value, or undefined when absent or nullFlavor. */
export function readTs(el: El | undefined): HL7Timestamp | undefined {
  const v = el?.attr("value");
  if (el === undefined || v === undefined) return undefined;
  return parseTs(v, el.attrPath("value"));
}

/** A TS or IVL_TS as a start date: @value, else low/@value. */
export function readStartTs(el: El | undefined): HL7Timestamp | undefined {
  if (el === undefined) return undefined;
  return readTs(el) ?? readTs(el.one("low")) ?? readTs(el.one("center"));
}

export function readPartialDate(el: El | undefined): PartialDate | undefined {
  const ts = readTs(el);
  return ts === undefined ? undefined : toPartialDate(ts);
}

export function readInstant(el: El | undefined): Date | undefined {
  const ts = readStartTs(el);
  return ts === undefined ? undefined : toInstant(ts);
}

/** An IVL_TS as a Period; a bare TS value is a period that starts then. */
export function readPeriod(el: El | undefined): Period | undefined {
  if (el === undefined) return undefined;
  const point = readTs(el);
  const low = point ?? readTs(el.one("low"));
  const high = readTs(el.one("high"));
  if (low === undefined && high === undefined) return undefined;
  const p: Period = {};
  if (low !== undefined) p.start = toInstant(low);
  if (high !== undefined) p.end = toInstant(high);
  return p;
}

/** A PQ element as a Quantity; UCUM units (the CDA default) get the UCUM system. */
export function readQuantity(el: El | undefined): Quantity | undefined {
  const v = el?.attr("value");
  if (el === undefined || v === undefined) return undefined;
  const value = Number(v);
  if (!Number.isFinite(value)) return undefined;
  const unit = el.attr("unit") ?? "";
  return Quantity.fromPartial({
    value,
    unit,
    code: unit === "1" ? "" : unit,
    system: unit !== "" && unit !== "1" ? "http://unitsofmeasure.org" : "",
  });
}

/** HL7 V3 EntityNameUse → canonical NameUse (C-CDA on FHIR name-use map). */
const NAME_USES: Record<string, NameUse> = {
  L: NameUse.OFFICIAL,
  OR: NameUse.OFFICIAL,
  C: NameUse.OFFICIAL,
  P: NameUse.NICKNAME,
  A: NameUse.NICKNAME,
  I: NameUse.USUAL,
  ASGN: NameUse.USUAL,
  PHON: NameUse.UNSPECIFIED,
  SRCH: NameUse.UNSPECIFIED,
  ANON: NameUse.ANONYMOUS,
  TEMP: NameUse.TEMP,
  OLD: NameUse.OLD,
};

/** A PN element as a HumanName: given in order, family, prefix, suffix, validTime; bare text kept as text. */
export function readName(el: El): HumanName | undefined {
  if (el.nullFlavor !== undefined) return undefined;
  const given = el
    .all("given")
    .map((g) => g.text)
    .filter((g) => g !== "");
  const families = el.all("family");
  const family = families
    .map((f) => f.text)
    .filter((f) => f !== "")
    .join(" ");
  const name = HumanName.fromPartial({
    family,
    given,
    prefix: el
      .all("prefix")
      .map((p) => p.text)
      .filter((p) => p !== ""),
    suffix: el
      .all("suffix")
      .map((s) => s.text)
      .filter((s) => s !== ""),
  });
  // use may list several codes ("L P"); the first known one wins.
  const uses = (el.attr("use") ?? "").split(/\s+/);
  name.use = uses.map((u) => NAME_USES[u]).find((u) => u !== undefined) ?? NameUse.UNSPECIFIED;
  // A family name qualified BR (birth) with no stated use is the name at birth.
  if (name.use === NameUse.UNSPECIFIED && families.some((f) => f.attr("qualifier") === "BR")) {
    name.use = NameUse.BIRTH;
  }
  if (given.length === 0 && family === "" && el.text !== "") name.text = el.text;
  const period = readPeriod(el.one("validTime"));
  if (period !== undefined) name.period = period;
  if (name.text === "" && given.length === 0 && family === "") return undefined;
  return name;
}

/** HL7 V3 PostalAddressUse → canonical AddressUse. */
const ADDRESS_USES: Record<string, AddressUse> = {
  H: AddressUse.HOME,
  HP: AddressUse.HOME,
  HV: AddressUse.HOME,
  WP: AddressUse.WORK,
  DIR: AddressUse.WORK,
  PUB: AddressUse.WORK,
  TMP: AddressUse.TEMP,
  BAD: AddressUse.OLD,
  OLD: AddressUse.OLD,
  PST: AddressUse.MAILING,
  PHYS: AddressUse.HOME,
};

/** An AD element as an Address. */
export function readAddress(el: El): Address | undefined {
  if (el.nullFlavor !== undefined) return undefined;
  const part = (n: string): string => el.one(n)?.text ?? "";
  const addr = Address.fromPartial({
    lines: el
      .all("streetAddressLine")
      .map((l) => l.text)
      .filter((l) => l !== ""),
    city: part("city"),
    state: part("state"),
    postalCode: part("postalCode"),
    country: part("country"),
    district: part("county"),
  });
  const uses = (el.attr("use") ?? "").split(/\s+/);
  addr.use = uses.map((u) => ADDRESS_USES[u]).find((u) => u !== undefined) ?? AddressUse.UNSPECIFIED;
  const period = readPeriod(el.one("useablePeriod"));
  if (period !== undefined) addr.period = period;
  if (addr.lines.length === 0 && addr.city === "" && addr.state === "" && addr.postalCode === "")
    return undefined;
  return addr;
}

/** HL7 V3 TelecommunicationAddressUse → canonical ContactPointUse. */
const TELECOM_USES: Record<string, ContactPointUse> = {
  H: ContactPointUse.HOME,
  HP: ContactPointUse.HOME,
  HV: ContactPointUse.HOME,
  WP: ContactPointUse.WORK,
  DIR: ContactPointUse.WORK,
  PUB: ContactPointUse.WORK,
  MC: ContactPointUse.MOBILE,
  TMP: ContactPointUse.TEMP,
  BAD: ContactPointUse.OLD,
};

/** A TEL element as a ContactPoint: the URL scheme (tel:, fax:, mailto:, http:) gives the system. */
export function readTelecom(el: El): ContactPoint | undefined {
  const raw = el.attr("value");
  if (el.nullFlavor !== undefined || raw === undefined) return undefined;
  const scheme = /^([a-z]+):/i.exec(raw)?.[1]?.toLowerCase();
  let system = ContactPointSystem.OTHER;
  let value = raw;
  if (scheme === "tel") system = ContactPointSystem.PHONE;
  else if (scheme === "fax") system = ContactPointSystem.FAX;
  else if (scheme === "mailto") system = ContactPointSystem.EMAIL;
  else if (scheme === "http" || scheme === "https") system = ContactPointSystem.URL;
  if (scheme !== undefined && scheme !== "http" && scheme !== "https")
    value = raw.slice(scheme.length + 1).trim();
  const uses = (el.attr("use") ?? "").split(/\s+/);
  let use = uses.map((u) => TELECOM_USES[u]).find((u) => u !== undefined) ?? ContactPointUse.UNSPECIFIED;
  if (uses.includes("PG")) system = ContactPointSystem.PAGER;
  if (uses.includes("MC") && system === ContactPointSystem.PHONE) use = ContactPointUse.MOBILE;
  return ContactPoint.fromPartial({ system, value, use });
}

/**
 * An assignedAuthor / assignedEntity / intendedRecipient as a Practitioner: ids, the
 * person's name (assignedPerson / informationRecipient), role code and telecom.
 */
export function readPractitioner(el: El | undefined): Practitioner | undefined {
  if (el === undefined) return undefined;
  const person = el.one("assignedPerson") ?? el.one("informationRecipient") ?? el.one("associatedPerson");
  const nameEl = person?.one("name");
  const name = nameEl === undefined ? undefined : readName(nameEl);
  const p = Practitioner.fromPartial({
    identifiers: el
      .all("id")
      .map(readIdentifier)
      .filter((i): i is Identifier => i !== undefined),
    telecom: el
      .all("telecom")
      .map(readTelecom)
      .filter((t): t is ContactPoint => t !== undefined),
  });
  if (name !== undefined) p.name = name;
  const role = readCode(el.one("code"));
  if (role !== undefined) p.role = role;
  if (p.identifiers.length === 0 && p.name === undefined) return undefined;
  return p;
}
