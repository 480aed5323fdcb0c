/**
 * process-event, the bus's HTTP door (src/bus/functions/process-event.ts), with the
 * marketplace's rules: which events a shopper may emit and how (engines/authorize.ts), and
 * the payload schema of each event type (engines/catalog.ts).
 */
import { processEventFunction } from "../../bus/functions/index.ts";
import { authorizeClientEmit, clientEmittable } from "../engines/authorize.ts";
import { eventCatalog } from "../engines/catalog.ts";

export const processEvent = processEventFunction({ payloadSchemas: eventCatalog, clientEmittable, authorizeEmit: authorizeClientEmit });
