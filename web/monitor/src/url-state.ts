/** The monitor's state in its query string (filters, page cursor, open event, language): the pages' shared helper. */
export * from "../../shared/url-state.ts";
