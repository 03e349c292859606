// Sample sets with ground truth, mapped onto LinkageRecord. `entity` is the truth label.
import path from "node:path";
import type { LinkageRecord } from "@hix/linkage";
import { readSimpleCsv } from "./csv.js";

export interface LabelledRecord {
  readonly record: LinkageRecord;
  readonly entity: string;
}

const DATA = "/work/shared/data";

/**
 * FEBRL: rec_id `rec-N-org` / `rec-N-dup-k` → entity N. street_number + address_1 form the
 * address line (address_2 is a building/locality name, kept out); suburb → city;
 * soc_sec_id (a 7-digit synthetic identifier) → ssn. `source` sets facilityId for 4a/4b linkage.
 */
export function loadFebrl(file: string, source?: string): LabelledRecord[] {
  return readSimpleCsv(path.join(DATA, "febrl", file)).map((row) => {
    const id = row["rec_id"] ?? "";
    const entity = /^rec-(\d+)-/.exec(id)?.[1];
    if (entity === undefined) throw new Error(`${file}: rec_id without entity number`);
    const opt = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);
    const street = [row["street_number"], row["address_1"]]
      .filter((x) => x !== undefined && x !== "")
      .join(" ");
    const record: LinkageRecord = {
      id: source === undefined ? id : `${source}:${id}`,
      ...(source === undefined ? {} : { facilityId: source }),
      ...optional("given", opt(row["given_name"])),
      ...optional("family", opt(row["surname"])),
      ...optional("addressLine", opt(street)),
      ...optional("city", opt(row["suburb"])),
      ...optional("postalCode", opt(row["postcode"])),
      ...optional("state", opt(row["state"])),
      ...optional("birthDate", opt(row["date_of_birth"])),
      ...optional("ssn", opt(row["soc_sec_id"])),
    };
    return { record, entity };
  });
}

/** Splink fake_1000: truth = `cluster`. */
export function loadFake1000(): LabelledRecord[] {
  return readSimpleCsv(path.join(DATA, "splink-fake1000", "fake_1000.csv")).map((row) => {
    const opt = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);
    const record: LinkageRecord = {
      id: row["unique_id"] ?? "",
      ...optional("given", opt(row["first_name"])),
      ...optional("family", opt(row["surname"])),
      ...optional("birthDate", opt(row["dob"])),
      ...optional("city", opt(row["city"])),
      ...optional("email", opt(row["email"])),
    };
    return { record, entity: row["cluster"] ?? "" };
  });
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
