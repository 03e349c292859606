import type { Command } from "../command.js";
import { dlqList, dlqReplay, dlqShow } from "./dlq.js";
import { match } from "./match.js";
import { reviewDecide, reviewList, reviewShadow, reviewShow } from "./review.js";
import { tail } from "./tail.js";
import { up } from "./up.js";
import { demo } from "./demo.js";
import { send } from "./send.js";
import { facilityAdd } from "./facility-add.js";
import { facilityList } from "./facility-list.js";
import { facilityShow } from "./facility-show.js";
import { facilityActivate, facilitySuspend } from "./facility-status.js";
import { requestStatusCommand } from "./request-status.js";
import { auditVerify } from "./audit-verify.js";
import { auditSearch } from "./audit-search.js";
import { convert } from "./convert.js";
import { adapterNew, adapterTest } from "./adapter.js";

/**
 * Every `hix` subcommand. Each lives in its own file under commands/ and is listed here
 * once; `hix --help` prints them in this order.
 */
export const commands: readonly Command[] = [
  up,
  demo,
  send,
  tail,
  dlqList,
  dlqShow,
  dlqReplay,
  match,
  reviewList,
  reviewShow,
  reviewDecide,
  reviewShadow,
  facilityAdd,
  facilityList,
  facilityShow,
  facilitySuspend,
  facilityActivate,
  requestStatusCommand,
  auditVerify,
  auditSearch,
  convert,
  adapterNew,
  adapterTest,
];
