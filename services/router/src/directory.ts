/**
 * The facility directory: who takes part in the exchange (hix.v1.Facility), kept in
 * PostgreSQL (table `facilities`) and cached in each router.
 *
 * Freshness: the table's trigger sends NOTIFY on channel `hix_directory` with the facility id
 * on every insert, update or delete; the cache LISTENs and reloads that one facility at once.
 * A full reload every `refreshMs` (default 30 s) is the backstop for notifications missed while
 * the listening connection was down. So a suspension takes effect within milliseconds normally,
 * and within `refreshMs` at worst.
 */
import pg from "pg";
import type { Logger } from "@hix/runtime";
import {
  DisclosureAction,
  DisclosurePolicy,
  Facility,
  FacilityContact,
  FacilityStatus,
  SignatureAlgorithm,
  type PurposeOfUse,
  type SensitivityLabel,
  dataFormatFromJSON,
  dataFormatToJSON,
  signatureAlgorithmFromJSON,
  signatureAlgorithmToJSON,
} from "@hix/proto";

export const DIRECTORY_CHANNEL = "hix_directory";

interface FacilityRow {
  id: string;
  name: string;
  status: string;
  contact: unknown;
  formats: string[];
  signing_public_key: Buffer | null;
  signing_key_id: string;
  signing_algorithm: string;
  disclosure_policy: unknown;
}

const COLUMNS =
  "id, name, status, contact, formats, signing_public_key, signing_key_id, signing_algorithm, disclosure_policy";

function fromRow(row: FacilityRow): Facility {
  return Facility.fromPartial({
    id: row.id,
    name: row.name,
    status: row.status === "active" ? FacilityStatus.ACTIVE : FacilityStatus.SUSPENDED,
    contact: FacilityContact.fromJSON(row.contact),
    formats: row.formats.map((f) => dataFormatFromJSON(f)),
    signingPublicKey: row.signing_public_key ?? Buffer.alloc(0),
    signingKeyId: row.signing_key_id,
    signingAlgorithm: row.signing_algorithm === "" ? 0 : signatureAlgorithmFromJSON(row.signing_algorithm),
    disclosurePolicy: DisclosurePolicy.fromJSON(row.disclosure_policy),
  });
}

type Queryable = Pick<pg.Pool, "query">;

/** Adds a facility, or replaces every field of an existing one (ids are stable). */
export async function saveFacility(db: Queryable, facility: Facility): Promise<void> {
  await db.query(
    `INSERT INTO facilities (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET
       name = EXCLUDED.name, status = EXCLUDED.status, contact = EXCLUDED.contact,
       formats = EXCLUDED.formats, signing_public_key = EXCLUDED.signing_public_key,
       signing_key_id = EXCLUDED.signing_key_id, signing_algorithm = EXCLUDED.signing_algorithm,
       disclosure_policy = EXCLUDED.disclosure_policy, updated_at = now()`,
    [
      facility.id,
      facility.name,
      facility.status === FacilityStatus.ACTIVE ? "active" : "suspended",
      JSON.stringify(FacilityContact.toJSON(facility.contact ?? FacilityContact.create())),
      facility.formats.map((f) => dataFormatToJSON(f)),
      facility.signingPublicKey.byteLength === 0 ? null : facility.signingPublicKey,
      facility.signingKeyId,
      facility.signingAlgorithm === SignatureAlgorithm.UNSPECIFIED
        ? ""
        : signatureAlgorithmToJSON(facility.signingAlgorithm),
      JSON.stringify(DisclosurePolicy.toJSON(facility.disclosurePolicy ?? DisclosurePolicy.create())),
    ],
  );
}

export async function getFacility(db: Queryable, id: string): Promise<Facility | undefined> {
  const { rows } = await db.query<FacilityRow>(`SELECT ${COLUMNS} FROM facilities WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : fromRow(rows[0]);
}

export async function listFacilities(db: Queryable): Promise<Facility[]> {
  const { rows } = await db.query<FacilityRow>(`SELECT ${COLUMNS} FROM facilities ORDER BY id`);
  return rows.map(fromRow);
}

/** Sets a facility active or suspended; false when there is no such facility. */
export async function setFacilityStatus(
  db: Queryable,
  id: string,
  status: "active" | "suspended",
): Promise<boolean> {
  const result = await db.query("UPDATE facilities SET status = $2, updated_at = now() WHERE id = $1", [
    id,
    status,
  ]);
  return result.rowCount === 1;
}

/** What a facility's policy says about a request made for `purpose` with these labels. */
export function disclosureAction(
  facility: Facility,
  purpose: PurposeOfUse,
  sensitivity: readonly SensitivityLabel[] = [],
): DisclosureAction {
  const policy = facility.disclosurePolicy;
  if (policy === undefined) return DisclosureAction.REVIEW;
  // "A purpose listed twice takes the first rule" (directory.proto DisclosurePolicy.rules).
  const rule = policy.rules.find((r) => r.purpose === purpose);
  let action = rule?.action ?? policy.defaultAction;
  // UNSPECIFIED "is treated as REVIEW" (directory.proto DisclosureAction).
  if (action === DisclosureAction.UNSPECIFIED || action === DisclosureAction.UNRECOGNIZED)
    action = DisclosureAction.REVIEW;
  if (
    action === DisclosureAction.AUTO_ANSWER &&
    sensitivity.some((s) => policy.reviewSensitivity.includes(s))
  )
    action = DisclosureAction.REVIEW;
  return action;
}

export const isActive = (facility: Facility | undefined): facility is Facility =>
  facility !== undefined && facility.status === FacilityStatus.ACTIVE;

/** Read access to the directory, as the pipeline needs it. */
export interface DirectoryView {
  get(id: string): Facility | undefined;
}

export interface FacilityDirectory extends DirectoryView {
  /** Facilities cached now. */
  readonly size: number;
  close(): Promise<void>;
}

/**
 * Loads the whole directory, then keeps it current (LISTEN/NOTIFY + periodic full reload).
 * `databaseUrl` is used for the one dedicated LISTEN connection (a pooled client cannot
 * hold a LISTEN across checkouts).
 */
export async function openDirectory(options: {
  pool: pg.Pool;
  databaseUrl: string;
  logger: Logger;
  refreshMs: number;
}): Promise<FacilityDirectory> {
  const log = options.logger.child({ component: "directory" });
  let cache = new Map<string, Facility>();
  let closed = false;

  const reloadAll = async (): Promise<void> => {
    const all = await listFacilities(options.pool);
    cache = new Map(all.map((f) => [f.id, f]));
  };
  const reloadOne = async (id: string): Promise<void> => {
    const facility = await getFacility(options.pool, id);
    if (facility === undefined) cache.delete(id);
    else cache.set(id, facility);
    log.info({ facility: id, status: facility?.status }, "directory entry reloaded");
  };

  await reloadAll();

  let listener: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  const listen = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: options.databaseUrl });
    client.on("notification", (n) => {
      if (n.channel !== DIRECTORY_CHANNEL || n.payload === undefined) return;
      reloadOne(n.payload).catch((err: unknown) =>
        log.warn({ err, facility: n.payload }, "directory entry reload failed"),
      );
    });
    client.on("error", (err) => {
      log.warn({ err }, "directory listener lost; reconnecting");
      listener = undefined;
      client.end().catch(() => undefined);
      scheduleListen();
    });
    await client.connect();
    await client.query(`LISTEN ${DIRECTORY_CHANNEL}`);
    listener = client;
    // Anything changed while we were not listening.
    await reloadAll();
  };
  const scheduleListen = (): void => {
    if (closed || reconnectTimer !== undefined) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      listen().catch((err: unknown) => {
        log.warn({ err }, "directory listener could not connect");
        scheduleListen();
      });
    }, 1000);
  };
  await listen();

  const refresh = setInterval(() => {
    reloadAll().catch((err: unknown) => log.warn({ err }, "directory refresh failed; keeping cache"));
  }, options.refreshMs);
  refresh.unref();

  return {
    get: (id) => cache.get(id),
    get size() {
      return cache.size;
    },
    async close() {
      closed = true;
      clearInterval(refresh);
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      await listener?.end().catch(() => undefined);
    },
  };
}
