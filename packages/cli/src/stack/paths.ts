import { fileURLToPath } from "node:url";

/** The repository checkout `hix up` runs from (services are started from their sources there). */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
