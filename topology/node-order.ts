/**
 * The canonical order of node ids: ids that are plain non-negative integers
 * sort numerically and before the others, the rest by UTF-16 code unit.
 * Independent of locale, so every process agrees on it (it feeds version hashes).
 */
const INTEGER = /^(0|[1-9][0-9]*)$/;

export function compareNodeIds(a: string, b: string): number {
  const ai = INTEGER.test(a);
  const bi = INTEGER.test(b);
  if (ai && bi) {
    if (a.length !== b.length) return a.length - b.length;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (ai) return -1;
  if (bi) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortNodeIds(ids: Iterable<string>): string[] {
  return [...ids].sort(compareNodeIds);
}
