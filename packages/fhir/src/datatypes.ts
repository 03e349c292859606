import type {
  Address as FhirAddress,
  CodeableConcept,
  Coding,
  ContactPoint as FhirContactPoint,
  HumanName as FhirHumanName,
  Identifier as FhirIdentifier,
  Period as FhirPeriod,
  Quantity as FhirQuantity,
} from "@medplum/fhirtypes";
import {
  AddressUse,
  ContactPointSystem,
  ContactPointUse,
  NameUse,
  type Address,
  type Code,
  type ContactPoint,
  type HumanName,
  type Identifier,
  type Period,
  type Quantity,
} from "@hix/proto";
import { fromInstant, toInstant } from "./dates.js";
import { warn, type MapContext } from "./context.js";
import { compact, isObject, list, num, optStr, str, strings } from "./values.js";

// ---------------------------------------------------------------------------------------------
// Code tables. A FHIR code not in a table maps to UNSPECIFIED with a warning; the
// reverse table is the inverse (the first FHIR code listed for a canonical value wins).

export type CodeTable<E extends number> = Readonly<Record<string, E>>;

export function fromTable<E extends number>(
  ctx: MapContext,
  table: CodeTable<E>,
  value: unknown,
  location: string,
  unspecified: E,
): E {
  if (value === undefined || value === null || value === "") return unspecified;
  const hit = typeof value === "string" ? table[value] : undefined;
  if (hit === undefined) {
    warn(ctx, "fhir.unknown_code", location, "code not in the mapped value set; left unspecified");
    return unspecified;
  }
  return hit;
}

export function toTable<E extends number>(table: CodeTable<E>, value: E): string | undefined {
  for (const [code, v] of Object.entries(table)) if (v === value) return code;
  return undefined;
}

/** First code of a CodeableConcept's status-like coding (clinicalStatus, verificationStatus). */
export function conceptCode(concept: unknown): string | undefined {
  if (!isObject(concept)) return undefined;
  for (const c of list(concept["coding"])) if (isObject(c) && optStr(c["code"])) return str(c["code"]);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Coding / CodeableConcept ⇄ Code. The canonical Code holds one coding: the first with a
// code (FHIR lists the preferred coding first in practice); display falls back to
// CodeableConcept.text; a text-only concept becomes a Code with display only.

export function codeFromCoding(coding: unknown): Code | undefined {
  if (!isObject(coding)) return undefined;
  const code: Code = {
    system: str(coding["system"]),
    code: str(coding["code"]),
    display: str(coding["display"]),
    version: str(coding["version"]),
  };
  return code.system || code.code || code.display ? code : undefined;
}

export function codeFromConcept(concept: unknown): Code | undefined {
  if (!isObject(concept)) return undefined;
  const codings = list(concept["coding"]).filter(isObject);
  const chosen = codings.find((c) => optStr(c["code"]) !== undefined) ?? codings[0];
  const code = codeFromCoding(chosen);
  const text = str(concept["text"]);
  if (code === undefined) return text ? { system: "", code: "", display: text, version: "" } : undefined;
  if (!code.display && text) code.display = text;
  return code;
}

export function codesFromConcepts(concepts: unknown): Code[] {
  return list(concepts)
    .map(codeFromConcept)
    .filter((c): c is Code => c !== undefined);
}

export function codingFromCode(code: Code): Coding {
  return compact<Coding>({
    system: code.system,
    version: code.version,
    code: code.code,
    display: code.display,
  });
}

export function conceptFromCode(code: Code | undefined): CodeableConcept | undefined {
  if (code === undefined) return undefined;
  if (!code.system && !code.code) return code.display ? { text: code.display } : undefined;
  return { coding: [codingFromCode(code)] };
}

export function conceptsFromCodes(codes: readonly Code[]): CodeableConcept[] {
  return codes.map(conceptFromCode).filter((c): c is CodeableConcept => c !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Quantity, Period

export function quantityFromFhir(q: unknown): Quantity | undefined {
  if (!isObject(q)) return undefined;
  return {
    value: num(q["value"]) ?? 0,
    unit: str(q["unit"]),
    system: str(q["system"]),
    code: str(q["code"]),
    comparator: str(q["comparator"]),
  };
}

export function quantityToFhir(q: Quantity | undefined): FhirQuantity | undefined {
  if (q === undefined) return undefined;
  return compact<FhirQuantity>({
    value: q.value,
    comparator: (q.comparator || undefined) as FhirQuantity["comparator"],
    unit: q.unit,
    system: q.system,
    code: q.code,
  });
}

export function periodFromFhir(p: unknown, location: string): Period | undefined {
  if (!isObject(p)) return undefined;
  const period: Period = {};
  if (p["start"] !== undefined) period.start = toInstant(p["start"], `${location}.start`);
  if (p["end"] !== undefined) period.end = toInstant(p["end"], `${location}.end`);
  return period.start !== undefined || period.end !== undefined ? period : undefined;
}

export function periodToFhir(p: Period | undefined): FhirPeriod | undefined {
  if (p === undefined || (p.start === undefined && p.end === undefined)) return undefined;
  return compact<FhirPeriod>({ start: fromInstant(p.start), end: fromInstant(p.end) });
}

// ---------------------------------------------------------------------------------------------
// Identifier. type_code is the HL7 v2 table 0203 code (MR, SS, DL, PPN …) taken from
// Identifier.type; the assigner is Identifier.assigner's display, else its identifier value.

const V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203";

export function identifierFromFhir(i: unknown, location: string): Identifier | undefined {
  if (!isObject(i)) return undefined;
  const value = str(i["value"]);
  if (!value) return undefined;
  const type = isObject(i["type"]) ? i["type"] : undefined;
  const codings = list(type?.["coding"]).filter(isObject);
  const typeCoding = codings.find((c) => c["system"] === V2_0203) ?? codings[0];
  const assigner = isObject(i["assigner"]) ? i["assigner"] : undefined;
  const assignerId = isObject(assigner?.["identifier"]) ? assigner["identifier"] : undefined;
  const identifier: Identifier = {
    value,
    system: str(i["system"]),
    assigner: str(assigner?.["display"]) || str(assignerId?.["value"]),
    typeCode: str(typeCoding?.["code"]) || str(type?.["text"]),
  };
  const period = periodFromFhir(i["period"], `${location}.period`);
  if (period !== undefined) identifier.period = period;
  return identifier;
}

export function identifiersFromFhir(items: unknown, location: string): Identifier[] {
  return list(items)
    .map((item, n) => identifierFromFhir(item, `${location}[${n}]`))
    .filter((i): i is Identifier => i !== undefined);
}

export function identifierToFhir(i: Identifier): FhirIdentifier {
  return compact<FhirIdentifier>({
    type: i.typeCode ? { coding: [{ system: V2_0203, code: i.typeCode }] } : undefined,
    system: i.system,
    value: i.value,
    period: periodToFhir(i.period),
    assigner: i.assigner ? { display: i.assigner } : undefined,
  });
}

// ---------------------------------------------------------------------------------------------
// HumanName (https://hl7.org/fhir/R4/valueset-name-use.html)

export const NAME_USE: CodeTable<NameUse> = {
  usual: NameUse.USUAL,
  official: NameUse.OFFICIAL,
  temp: NameUse.TEMP,
  nickname: NameUse.NICKNAME,
  anonymous: NameUse.ANONYMOUS,
  old: NameUse.OLD,
  maiden: NameUse.MAIDEN,
};

export function nameFromFhir(ctx: MapContext, n: unknown, location: string): HumanName | undefined {
  if (!isObject(n)) return undefined;
  const name: HumanName = {
    use: fromTable(ctx, NAME_USE, n["use"], `${location}.use`, NameUse.UNSPECIFIED),
    family: str(n["family"]),
    given: strings(n["given"]),
    prefix: strings(n["prefix"]),
    suffix: strings(n["suffix"]),
    text: str(n["text"]),
  };
  const period = periodFromFhir(n["period"], `${location}.period`);
  if (period !== undefined) name.period = period;
  return name;
}

export function namesFromFhir(ctx: MapContext, items: unknown, location: string): HumanName[] {
  return list(items)
    .map((item, n) => nameFromFhir(ctx, item, `${location}[${n}]`))
    .filter((x): x is HumanName => x !== undefined);
}

export function nameToFhir(n: HumanName): FhirHumanName {
  // NAME_USE_BIRTH has no FHIR name-use code: the name is sent as "official" with its period
  // (canonical → FHIR only; it comes back as OFFICIAL).
  const use = n.use === NameUse.BIRTH ? "official" : toTable(NAME_USE, n.use);
  return compact<FhirHumanName>({
    use: use as FhirHumanName["use"],
    text: n.text,
    family: n.family,
    given: n.given,
    prefix: n.prefix,
    suffix: n.suffix,
    period: periodToFhir(n.period),
  });
}

// ---------------------------------------------------------------------------------------------
// Address (https://hl7.org/fhir/R4/valueset-address-use.html). FHIR has no "mailing" use:
// Address.type "postal" stands for it when no use is given.

export const ADDRESS_USE: CodeTable<AddressUse> = {
  home: AddressUse.HOME,
  work: AddressUse.WORK,
  temp: AddressUse.TEMP,
  old: AddressUse.OLD,
  billing: AddressUse.BILLING,
};

export function addressFromFhir(
  ctx: MapContext,
  a: unknown,
  location: string,
  use?: AddressUse,
): Address | undefined {
  if (!isObject(a)) return undefined;
  let mapped = use ?? fromTable(ctx, ADDRESS_USE, a["use"], `${location}.use`, AddressUse.UNSPECIFIED);
  if (mapped === AddressUse.UNSPECIFIED && a["type"] === "postal") mapped = AddressUse.MAILING;
  const address: Address = {
    use: mapped,
    lines: strings(a["line"]),
    city: str(a["city"]),
    state: str(a["state"]),
    postalCode: str(a["postalCode"]),
    country: str(a["country"]),
    district: str(a["district"]),
  };
  const period = periodFromFhir(a["period"], `${location}.period`);
  if (period !== undefined) address.period = period;
  return address;
}

export function addressToFhir(a: Address): FhirAddress {
  return compact<FhirAddress>({
    use: toTable(ADDRESS_USE, a.use) as FhirAddress["use"],
    type: a.use === AddressUse.MAILING ? "postal" : undefined,
    line: a.lines,
    city: a.city,
    district: a.district,
    state: a.state,
    postalCode: a.postalCode,
    country: a.country,
    period: periodToFhir(a.period),
  });
}

// ---------------------------------------------------------------------------------------------
// ContactPoint (contact-point-system, contact-point-use)

export const CONTACT_SYSTEM: CodeTable<ContactPointSystem> = {
  phone: ContactPointSystem.PHONE,
  fax: ContactPointSystem.FAX,
  email: ContactPointSystem.EMAIL,
  pager: ContactPointSystem.PAGER,
  url: ContactPointSystem.URL,
  sms: ContactPointSystem.SMS,
  other: ContactPointSystem.OTHER,
};

export const CONTACT_USE: CodeTable<ContactPointUse> = {
  home: ContactPointUse.HOME,
  work: ContactPointUse.WORK,
  temp: ContactPointUse.TEMP,
  old: ContactPointUse.OLD,
  mobile: ContactPointUse.MOBILE,
};

export function telecomFromFhir(ctx: MapContext, items: unknown, location: string): ContactPoint[] {
  const out: ContactPoint[] = [];
  list(items).forEach((t, n) => {
    if (!isObject(t)) return;
    const at = `${location}[${n}]`;
    out.push({
      system: fromTable(ctx, CONTACT_SYSTEM, t["system"], `${at}.system`, ContactPointSystem.UNSPECIFIED),
      value: str(t["value"]),
      use: fromTable(ctx, CONTACT_USE, t["use"], `${at}.use`, ContactPointUse.UNSPECIFIED),
      rank: num(t["rank"]) ?? 0,
    });
  });
  return out;
}

export function telecomToFhir(t: ContactPoint): FhirContactPoint {
  return compact<FhirContactPoint>({
    system: toTable(CONTACT_SYSTEM, t.system) as FhirContactPoint["system"],
    value: t.value,
    use: toTable(CONTACT_USE, t.use) as FhirContactPoint["use"],
    rank: t.rank || undefined,
  });
}

/** Annotation[] → plain texts (FHIR Annotation.text; author and time are not carried). */
export function notesFromFhir(notes: unknown): string[] {
  return list(notes)
    .map((n) => (isObject(n) ? str(n["text"]) : ""))
    .filter((t) => t !== "");
}

export function notesToFhir(notes: readonly string[]): { text: string }[] {
  return notes.map((text) => ({ text }));
}
