/**
 * Pipeline steps 3–4: authenticate the sender and authorize each destination, against the
 * cached facility directory.
 */
import { DisclosureAction, purposeOfUseToJSON, type Envelope } from "@hix/proto";
import { disclosureAction, isActive, type DirectoryView } from "./directory.js";
import { RouterRejection } from "./errors.js";

/**
 * Step 3. The subject a message arrived on (`hix.in.<facility>.<kind>`) is who sent it: NATS
 * account permissions let each facility's adapter publish only under its own id (deploy/). The
 * envelope must claim the same sender, and that facility must be in the directory and active.
 */
export function authenticateSender(envelope: Envelope, submitter: string, directory: DirectoryView): void {
  if (envelope.fromFacility !== submitter) {
    throw new RouterRejection(
      "router.sender_mismatch",
      `envelope ${envelope.id} claims to come from ${envelope.fromFacility} but was submitted by ${submitter}; a facility may only send as itself`,
    );
  }
  const sender = directory.get(submitter);
  if (sender === undefined) {
    throw new RouterRejection(
      "router.unknown_sender",
      `facility ${submitter} is not in the directory; ask the exchange operator to add it (hix facility add)`,
    );
  }
  if (!isActive(sender)) {
    throw new RouterRejection(
      "router.sender_suspended",
      `facility ${submitter} is suspended and may not send; contact the exchange operator`,
    );
  }
}

/**
 * Step 4 for one destination. It must be in the directory and active; for a record request,
 * its disclosure policy for the purpose of use must not be REFUSE. Returns the policy's action
 * (AUTO_ANSWER or REVIEW) for requests, so the holder's adapter knows whether to hold it.
 */
export function authorizeDestination(
  envelope: Envelope,
  destination: string,
  directory: DirectoryView,
): DisclosureAction | undefined {
  const facility = directory.get(destination);
  if (facility === undefined) {
    throw new RouterRejection(
      "router.unknown_destination",
      `destination ${destination} is not in the directory; check the facility id (hix facility list)`,
      { facilityId: destination },
    );
  }
  if (!isActive(facility)) {
    throw new RouterRejection(
      "router.destination_suspended",
      `destination ${destination} is suspended and receives nothing; contact the exchange operator or ask another facility`,
      { facilityId: destination },
    );
  }
  if (envelope.body?.$case !== "recordRequest") return undefined;
  const action = disclosureAction(facility, envelope.purposeOfUse, envelope.sensitivity);
  if (action === DisclosureAction.REFUSE) {
    throw new RouterRejection(
      "router.policy_refuses_purpose",
      `${destination} does not disclose records for ${purposeOfUseToJSON(envelope.purposeOfUse)}; its policy refuses such requests`,
      { facilityId: destination, outcome: "denied" },
    );
  }
  return action;
}
