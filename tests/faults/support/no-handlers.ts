/** A dispatcher that runs no handler at all: it only reaps expired leases (fault tests). */
export const handlers = [];
