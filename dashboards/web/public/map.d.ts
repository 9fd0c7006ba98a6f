// Types of map.js for TypeScript callers (the tests); the browser loads map.js itself.
export declare function probabilityColour(p: number, threshold: number): string;
export declare function probabilityState(p: number, threshold: number): 'ok' | 'warn' | 'anomalous';
export declare function nodeState(
  score: { probability: number; isAnomaly?: boolean },
  threshold: number,
): 'ok' | 'warn' | 'anomalous';
export declare function clusterColours(clusters: string[]): Map<string, string>;
export declare function naturalCompare(a: string, b: string): number;
export declare function svg(tag: string, attrs?: Record<string, string | number>): SVGElement;
export declare function renderMap(
  root: SVGSVGElement,
  overview: unknown,
  selected: string | null,
  onSelect: (node: string) => void,
): void;
