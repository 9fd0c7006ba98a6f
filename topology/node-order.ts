/**
 * The canonical order of node (and cluster) ids: natural order, where runs of
 * digits compare as numbers ("2" < "10", "c-4" < "c-14") and everything else
 * by UTF-16 code unit. Independent of locale, so every process agrees on it
 * (it feeds version hashes); ids equal as numbers but spelled differently
 * ("7" and "07") fall back to plain code-unit order.
 */
function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

export function compareNodeIds(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      let ej = j;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      // Strip leading zeros, then longer means larger, equal length compares as text.
      let si = i;
      let sj = j;
      while (si < ei - 1 && a.charCodeAt(si) === 48) si++;
      while (sj < ej - 1 && b.charCodeAt(sj) === 48) sj++;
      const la = ei - si;
      const lb = ej - sj;
      if (la !== lb) return la - lb;
      const da = a.slice(si, ei);
      const db = b.slice(sj, ej);
      if (da !== db) return da < db ? -1 : 1;
      i = ei;
      j = ej;
    } else {
      if (ca !== cb) return ca - cb;
      i++;
      j++;
    }
  }
  if (a.length - i !== b.length - j) return a.length - i - (b.length - j);
  return a < b ? -1 : 1;
}

export function sortNodeIds(ids: Iterable<string>): string[] {
  return [...ids].sort(compareNodeIds);
}
