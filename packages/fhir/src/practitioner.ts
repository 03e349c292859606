import type { Resource } from "@medplum/fhirtypes";
import { NameUse, type Code, type HumanName, type Practitioner } from "@hix/proto";
import { resolve, type MapContext } from "./context.js";
import { codeFromConcept, identifiersFromFhir, namesFromFhir, telecomFromFhir } from "./datatypes.js";
import { isObject, list, str } from "./values.js";

/**
 * A reference to who did something (performer, asserter, author, participant.individual)
 * as a canonical Practitioner. A Practitioner in the input gives identifiers, name and
 * telecom; a PractitionerRole is followed to its practitioner and gives the role
 * (PractitionerRole.code, else specialty); an unresolved reference keeps its
 * identifier and display. References to organizations, patients, devices … give none.
 */
export function practitionerFromReference(
  ctx: MapContext,
  reference: unknown,
  location: string,
  role?: unknown,
): Practitioner | undefined {
  const target = resolve(ctx, reference);
  if (target === undefined) return undefined;
  const roleCode = codeFromConcept(list(role)[0]);
  if (target.kind === "unresolved") {
    if (target.type !== undefined && target.type !== "Practitioner" && target.type !== "PractitionerRole") {
      return undefined;
    }
    const display = isObject(reference) ? str(reference["display"]) : "";
    const p: Practitioner = {
      identifiers: target.identifier
        ? [
            {
              value: target.identifier.value,
              system: target.identifier.system ?? "",
              assigner: "",
              typeCode: "",
            },
          ]
        : [],
      telecom: [],
      facilityId: "",
    };
    if (display) p.name = textName(display);
    if (roleCode !== undefined) p.role = roleCode;
    return p.identifiers.length > 0 || p.name !== undefined ? p : undefined;
  }
  if (target.kind === "entry")
    return practitionerFromResource(ctx, target.entry.resource, target.entry.path, roleCode);
  return practitionerFromResource(ctx, target.resource, location, roleCode);
}

function practitionerFromResource(
  ctx: MapContext,
  resource: Resource,
  location: string,
  roleCode: Code | undefined,
): Practitioner | undefined {
  if (resource.resourceType === "PractitionerRole") {
    const role = codeFromConcept(list(resource.code)[0]) ?? codeFromConcept(list(resource.specialty)[0]);
    const inner = practitionerFromReference(ctx, resource.practitioner, location) ?? {
      identifiers: identifiersFromFhir(resource.identifier, `${location}.identifier`),
      telecom: [],
      facilityId: "",
    };
    const chosen = role ?? roleCode;
    if (chosen !== undefined) inner.role = chosen;
    return inner;
  }
  if (resource.resourceType !== "Practitioner") return undefined;
  const names = namesFromFhir(ctx, resource.name, `${location}.name`);
  const p: Practitioner = {
    identifiers: identifiersFromFhir(resource.identifier, `${location}.identifier`),
    telecom: telecomFromFhir(ctx, resource.telecom, `${location}.telecom`),
    facilityId: "",
  };
  const name = names.find((n) => n.use === NameUse.OFFICIAL) ?? names[0];
  if (name !== undefined) p.name = name;
  if (roleCode !== undefined) p.role = roleCode;
  return p;
}

function textName(text: string): HumanName {
  return { use: NameUse.UNSPECIFIED, family: "", given: [], prefix: [], suffix: [], text };
}

export function practitionersFromReferences(
  ctx: MapContext,
  items: unknown,
  location: string,
  pick: (item: Record<string, unknown>) => { actor: unknown; role?: unknown },
): Practitioner[] {
  const out: Practitioner[] = [];
  list(items).forEach((item, n) => {
    if (!isObject(item)) return;
    const { actor, role } = pick(item);
    const p = practitionerFromReference(ctx, actor, `${location}[${n}]`, role);
    if (p !== undefined) out.push(p);
  });
  return out;
}
