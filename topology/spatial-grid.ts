/**
 * A uniform grid over x/y for neighbour queries in O(n) build and roughly
 * O(k) per query, so edge construction scales to 100,000 nodes instead of
 * comparing all pairs. Distances are 3-D (z counts when given); the grid only
 * prunes on x/y, which is safe because the x/y distance never exceeds the 3-D one.
 */
export interface Points {
  xs: Float64Array;
  ys: Float64Array;
  zs: Float64Array;
}

export function distance(points: Points, i: number, j: number): number {
  const dx = points.xs[i] - points.xs[j];
  const dy = points.ys[i] - points.ys[j];
  const dz = points.zs[i] - points.zs[j];
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

export class SpatialGrid {
  readonly points: Points;
  private readonly minX: number;
  private readonly minY: number;
  readonly cell: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly cellStart: Int32Array;
  private readonly items: Int32Array;

  constructor(points: Points, targetPerCell = 2) {
    this.points = points;
    const n = points.xs.length;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, points.xs[i]);
      maxX = Math.max(maxX, points.xs[i]);
      minY = Math.min(minY, points.ys[i]);
      maxY = Math.max(maxY, points.ys[i]);
    }
    if (n === 0) minX = minY = maxX = maxY = 0;
    const width = Math.max(maxX - minX, 1e-9);
    const height = Math.max(maxY - minY, 1e-9);
    // Square cells holding about `targetPerCell` points on average; at most ~n cells.
    const cellCount = Math.max(1, n / targetPerCell);
    let cell = Math.sqrt((width * height) / cellCount);
    cell = Math.max(cell, width / 4096, height / 4096, 1e-9);
    this.cell = cell;
    this.minX = minX;
    this.minY = minY;
    this.nx = Math.floor(width / cell) + 1;
    this.ny = Math.floor(height / cell) + 1;
    const counts = new Int32Array(this.nx * this.ny + 1);
    const cellOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.cellIndex(this.cx(points.xs[i]), this.cy(points.ys[i]));
      cellOf[i] = c;
      counts[c + 1]++;
    }
    for (let c = 0; c < this.nx * this.ny; c++) counts[c + 1] += counts[c];
    this.cellStart = counts;
    const fill = counts.slice(0, this.nx * this.ny);
    this.items = new Int32Array(n);
    for (let i = 0; i < n; i++) this.items[fill[cellOf[i]]++] = i;
  }

  private cx(x: number): number {
    return Math.min(this.nx - 1, Math.max(0, Math.floor((x - this.minX) / this.cell)));
  }

  private cy(y: number): number {
    return Math.min(this.ny - 1, Math.max(0, Math.floor((y - this.minY) / this.cell)));
  }

  private cellIndex(cx: number, cy: number): number {
    return cy * this.nx + cx;
  }

  /** Calls `visit` for every point in the cells at Chebyshev ring `r` around (cx, cy). */
  private visitRing(cx: number, cy: number, r: number, visit: (j: number) => void): void {
    const x0 = cx - r;
    const x1 = cx + r;
    const y0 = cy - r;
    const y1 = cy + r;
    for (let y = Math.max(0, y0); y <= Math.min(this.ny - 1, y1); y++) {
      const onEdgeRow = y === y0 || y === y1;
      for (let x = Math.max(0, x0); x <= Math.min(this.nx - 1, x1); x++) {
        if (!onEdgeRow && x !== x0 && x !== x1) continue;
        const c = this.cellIndex(x, y);
        for (let k = this.cellStart[c]; k < this.cellStart[c + 1]; k++) visit(this.items[k]);
      }
    }
  }

  private maxRing(cx: number, cy: number): number {
    return Math.max(cx, this.nx - 1 - cx, cy, this.ny - 1 - cy);
  }

  /**
   * The k nearest points to point i (excluding i) within `maxDistance`,
   * nearest first; ties broken by the smaller index so results are deterministic.
   */
  nearest(
    i: number,
    k: number,
    maxDistance = Infinity,
    accept: ((j: number) => boolean) | null = null,
  ): Array<{ j: number; d: number }> {
    const outJ = new Int32Array(Math.max(k, 0));
    const outD = new Float64Array(Math.max(k, 0));
    const count = this.nearestInto(i, k, maxDistance, accept, outJ, outD);
    return Array.from({ length: count }, (_, n) => ({ j: outJ[n], d: outD[n] }));
  }

  /**
   * Allocation-free form of `nearest` for the hot loop of edge construction:
   * writes indices and distances into `outJ` / `outD` (length ≥ k) and returns
   * how many were found.
   */
  nearestInto(
    i: number,
    k: number,
    maxDistance: number,
    accept: ((j: number) => boolean) | null,
    outJ: Int32Array,
    outD: Float64Array,
  ): number {
    if (k <= 0) return 0;
    const { xs, ys, zs } = this.points;
    const { cellStart, items, nx, ny } = this;
    const px = xs[i];
    const py = ys[i];
    const pz = zs[i];
    const cx = this.cx(px);
    const cy = this.cy(py);
    const last = this.maxRing(cx, cy);
    let count = 0;
    const visitCell = (c: number): void => {
      for (let s = cellStart[c]; s < cellStart[c + 1]; s++) {
        const j = items[s];
        if (j === i || (accept !== null && !accept(j))) continue;
        const dx = xs[j] - px;
        const dy = ys[j] - py;
        const dz = zs[j] - pz;
        const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
        if (d > maxDistance) continue;
        if (count === k) {
          const worst = outD[k - 1];
          if (d > worst || (d === worst && j > outJ[k - 1])) continue;
          count--;
        }
        let pos = count;
        while (pos > 0 && (outD[pos - 1] > d || (outD[pos - 1] === d && outJ[pos - 1] > j))) {
          outD[pos] = outD[pos - 1];
          outJ[pos] = outJ[pos - 1];
          pos--;
        }
        outD[pos] = d;
        outJ[pos] = j;
        count++;
      }
    };
    for (let r = 0; r <= last; r++) {
      // A cell in ring r is separated from the query's cell by r - 1 whole cells.
      const lowerBound = Math.max(0, r - 1) * this.cell;
      if (lowerBound > maxDistance) break;
      if (count === k && outD[k - 1] < lowerBound) break;
      const x0 = cx - r;
      const x1 = cx + r;
      const xFrom = Math.max(0, x0);
      const xTo = Math.min(nx - 1, x1);
      for (let y = Math.max(0, cy - r); y <= Math.min(ny - 1, cy + r); y++) {
        if (y === cy - r || y === cy + r) {
          for (let x = xFrom; x <= xTo; x++) visitCell(y * nx + x);
        } else {
          if (x0 >= 0) visitCell(y * nx + x0);
          if (x1 < nx) visitCell(y * nx + x1);
        }
      }
    }
    return count;
  }

  /** Every point j ≠ i within `radius` of point i. */
  within(i: number, radius: number): Array<{ j: number; d: number }> {
    const out: Array<{ j: number; d: number }> = [];
    const cx = this.cx(this.points.xs[i]);
    const cy = this.cy(this.points.ys[i]);
    const rings = Math.min(this.maxRing(cx, cy), Math.floor(radius / this.cell) + 1);
    for (let r = 0; r <= rings; r++) {
      this.visitRing(cx, cy, r, (j) => {
        if (j === i) return;
        const d = distance(this.points, i, j);
        if (d <= radius) out.push({ j, d });
      });
    }
    return out;
  }
}
