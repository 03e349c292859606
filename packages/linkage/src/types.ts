// Input and normalized record shapes. The input is a plain interface of our own: the MPI
// service maps FHIR Patient / HL7 PID onto it; this package never sees those formats.

/** A birth date whose precision may be year, year-month or full date. */
export interface PartialDate {
  readonly year: number;
  readonly month?: number;
  readonly day?: number;
}

/** One person record as supplied by a facility. Every field but `id` is optional. */
export interface LinkageRecord {
  /** Caller's unique id for the record (not compared, returned in results). */
  readonly id: string;
  /** Facility that assigned `mrn`; MRNs are only compared within one facility. */
  readonly facilityId?: string | undefined;
  readonly mrn?: string | undefined;
  readonly given?: string | undefined;
  readonly middle?: string | undefined;
  readonly family?: string | undefined;
  /** Name suffix (Jr, Sr, II, III …) when kept apart; also detected at the end of `family`/`given`. */
  readonly suffix?: string | undefined;
  /** `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYYMMDD`, or already parsed. */
  readonly birthDate?: string | PartialDate | undefined;
  readonly sex?: string | undefined;
  /** Birth order for twins/triplets (FHIR Patient.multipleBirthInteger, PID-25). */
  readonly multipleBirthOrder?: number | undefined;
  readonly addressLine?: string | undefined;
  readonly city?: string | undefined;
  readonly state?: string | undefined;
  readonly postalCode?: string | undefined;
  readonly phone?: string | undefined;
  readonly ssn?: string | undefined;
  readonly email?: string | undefined;
}

/** What normalization keeps of a record: comparable values, computed once per record. */
export interface NormalizedRecord {
  readonly id: string;
  readonly facilityId: string | undefined;
  readonly mrn: string | undefined;
  /** First given-name token, upper case ASCII letters only. */
  readonly given: string | undefined;
  /** Nickname root(s) of `given` (itself when it has none). */
  readonly givenRoots: readonly string[];
  readonly givenCode: string | undefined;
  readonly middle: string | undefined;
  /** Whole family name, parts joined by a single space. */
  readonly family: string | undefined;
  /** Family name parts (hyphenated or double-barrelled names split). */
  readonly familyParts: readonly string[];
  readonly familyCode: string | undefined;
  readonly suffix: string | undefined;
  readonly birth: PartialDate | undefined;
  readonly sex: "M" | "F" | undefined;
  readonly multipleBirthOrder: number | undefined;
  readonly address: string | undefined;
  /** Leading house number of the address, when there is one. */
  readonly houseNumber: string | undefined;
  readonly city: string | undefined;
  readonly state: string | undefined;
  readonly postalCode: string | undefined;
  /** Digits only, country code 1 removed. */
  readonly phone: string | undefined;
  /** Digits only. */
  readonly ssn: string | undefined;
  readonly email: string | undefined;
}
