import type { Command } from "../command.js";
import { dlqList, dlqReplay, dlqShow } from "./dlq.js";
import { match } from "./match.js";
import { tail } from "./tail.js";

/**
 * Every `hix` subcommand. Each lives in its own file under commands/ and is listed here
 * once; `hix --help` prints them in this order.
 */
export const commands: readonly Command[] = [tail, dlqList, dlqShow, dlqReplay, match];
