// @hix/ccda: C-CDA R2.1 documents (CCD, Referral Note, Transfer Summary, and other CDA R2
// documents with a US Realm Header) → hix canonical envelope bodies. Field table:
// docs/mappings/ccda.md.

export { ccdaToCanonical, type CcdaOptions } from "./convert.js";
export { DEFAULT_MAX_BYTES } from "./xml.js";
export { CODE_SYSTEM_URIS, IDENTIFIER_SYSTEM_URIS, codeSystemUri } from "./datatypes.js";
export { parseTs, toPartialDate, toInstant, type HL7Timestamp } from "./timestamp.js";
