/** Money as people read it: 1250050 XOF minor units -> "12,500.50 XOF" (two decimals unless the currency has none). */
const ZERO_DECIMAL = new Set(["XOF", "XAF", "JPY", "KRW", "GNF", "RWF", "UGX"]);

export function formatMoney(minor: number, currency: string): string {
  const decimals = ZERO_DECIMAL.has(currency) ? 0 : 2;
  const amount = minor / 10 ** decimals;
  return `${amount.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })} ${currency}`;
}
