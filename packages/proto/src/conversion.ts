import type { EnvelopeBody } from "./envelope.js";

/**
 * The shape every codec (packages/hl7v2, fhir, ccda, csv) shares, so the adapter and
 * `hix convert` can drive any of them the same way. A local message or document becomes
 * zero or more envelope bodies — an ADT^A04 a PatientAnnouncement, an ORU^R01 or a FHIR
 * Bundle a RecordTransfer (push), a REF^I12 or a C-CDA Referral Note a ReferralPacket.
 */
export interface Conversion {
  readonly bodies: EnvelopeBody[];
  /** Things accepted but not carried over (an unknown segment, an unmapped code). */
  readonly warnings: ConversionWarning[];
}

export interface ConversionWarning {
  readonly code: string;
  /** Where: `PID-7`, `Bundle.entry[3].resource.birthDate`, `/ClinicalDocument/recordTarget`, `line 12`. */
  readonly location: string;
  readonly message: string;
}

/**
 * Input a codec refuses. `location` says where in the input (segment and field, JSON path,
 * XPath, line); the message says what is wrong, never what the value was (no PHI).
 * Not retryable: the same input fails the same way.
 */
export class ConversionError extends Error {
  override name = "ConversionError";
  readonly retryable = false;
  readonly code: string;
  readonly location: string;

  constructor(code: string, location: string, message: string, options?: { cause?: unknown }) {
    super(`${location}: ${message}`, options);
    this.code = code;
    this.location = location;
  }
}
