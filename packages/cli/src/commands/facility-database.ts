// Shared by the `hix facility | request | audit` commands: where the router's database is.
import { openRouterDatabase } from "@hix/router";
import { UsageError, type CommandIo } from "../command.js";

export const DATABASE_OPTIONS = { "database-url": { type: "string" } } as const;

export const DATABASE_OPTIONS_HELP = `  --database-url URL   the router's PostgreSQL (default: $HIX_DATABASE_URL)`;

/** Opens the router database named by --database-url or HIX_DATABASE_URL (schema migrated). */
export async function openDatabase(
  values: { "database-url"?: string | undefined },
  io: CommandIo,
): ReturnType<typeof openRouterDatabase> {
  const url = values["database-url"] ?? io.env["HIX_DATABASE_URL"];
  if (url === undefined || url === "") throw new UsageError("give --database-url or set HIX_DATABASE_URL");
  return openRouterDatabase(url);
}
