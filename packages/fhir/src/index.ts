// @hix/fhir: FHIR R4 JSON ⇄ the hix canonical model (hix.v1). Pure functions, no I/O.
// Field tables: docs/mappings/fhir-r4.md.
export { fhirToCanonical, type FhirToCanonicalOptions } from "./to-canonical.js";
export { canonicalToFhir } from "./to-fhir.js";
export { parseFhirJson } from "./json.js";
