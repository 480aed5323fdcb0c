/** Text placed inside an email's HTML: the five characters HTML gives meaning to, as character references. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
