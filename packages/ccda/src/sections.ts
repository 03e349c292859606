import type { El } from "./xml.js";

/** The sections hix maps, with how C-CDA R2.1 identifies them (section templateId roots, LOINC section code). */
export type SectionKind = "problems" | "medications" | "allergies" | "results" | "reasonForReferral";

interface SectionId {
  /** templateId roots: the entries-optional and entries-required variants (C-CDA R2.1 Vol. 2 §4). */
  roots: string[];
  loinc: string;
}

export const SECTIONS: Readonly<Record<SectionKind, SectionId>> = {
  problems: {
    roots: ["2.16.840.1.113883.10.20.22.2.5", "2.16.840.1.113883.10.20.22.2.5.1"],
    loinc: "11450-4",
  },
  medications: {
    roots: ["2.16.840.1.113883.10.20.22.2.1", "2.16.840.1.113883.10.20.22.2.1.1"],
    loinc: "10160-0",
  },
  allergies: {
    roots: ["2.16.840.1.113883.10.20.22.2.6", "2.16.840.1.113883.10.20.22.2.6.1"],
    loinc: "48765-2",
  },
  results: {
    roots: ["2.16.840.1.113883.10.20.22.2.3", "2.16.840.1.113883.10.20.22.2.3.1"],
    loinc: "30954-2",
  },
  // IHE PCC Reason for Referral Section, used by the C-CDA Referral Note.
  reasonForReferral: { roots: ["1.3.6.1.4.1.19376.1.5.3.1.3.1"], loinc: "42349-1" },
};

const LOINC_OID = "2.16.840.1.113883.6.1";
const KINDS = Object.keys(SECTIONS) as SectionKind[];

/**
 * What kind of section this is: by its LOINC section code first (the code is required on
 * every C-CDA section and names what the section is), then by templateId root.
 */
export function sectionKind(section: El): SectionKind | undefined {
  const code = section.one("code");
  const loinc =
    code?.attr("codeSystem") === LOINC_OID || code?.attr("codeSystem") === undefined
      ? code?.attr("code")
      : undefined;
  const byCode = KINDS.find((k) => SECTIONS[k].loinc === loinc);
  if (byCode !== undefined) return byCode;
  const roots = section.templateRoots();
  return KINDS.find((k) => SECTIONS[k].roots.some((r) => roots.includes(r)));
}

/** Every section of component/structuredBody, nested sections included, in document order. */
export function allSections(doc: El): El[] {
  const out: El[] = [];
  const walk = (parent: El): void => {
    for (const comp of parent.all("component")) {
      const section = comp.one("section");
      if (section === undefined) continue;
      out.push(section);
      walk(section);
    }
  };
  const body = doc.at("component", "structuredBody");
  if (body !== undefined) walk(body);
  return out;
}

/** The clinical statements (act, observation, organizer, substanceAdministration, …) of a section's entries. */
export function entryStatements(section: El, name: string): El[] {
  return section
    .all("entry")
    .map((e) => e.one(name))
    .filter((s): s is El => s !== undefined);
}

/** Observations related to a statement through entryRelationship, optionally with one of these templates. */
export function relatedObservations(statement: El, ...templates: string[]): El[] {
  return statement
    .all("entryRelationship")
    .map((r) => r.one("observation"))
    .filter((o): o is El => o !== undefined && (templates.length === 0 || o.hasTemplate(...templates)));
}
