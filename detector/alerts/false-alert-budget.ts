/**
 * The alert threshold that keeps a false-alert budget on the stream itself.
 *
 * Training stores a threshold calibrated on the clean validation scores for
 * a budget of false alerts per node-day (model/train/false-alert-threshold.ts:
 * excursions of healthy nodes' scores above a level u, their peaks with an
 * exponential tail in logits). A deployment's days are not its validation
 * days: a busier building, a season, a weekday after a quiet weekend shift
 * the scores of healthy nodes up, and the stored threshold then gives many
 * times the budget. This keeps the same estimate running on the stream
 * (as SPOT does: Siffer et al., KDD 2017), so the threshold follows the
 * network the model actually watches:
 *
 *  - every judged tick of a node without a firing alert counts as exposure;
 *    an excursion of its probability above u ends when it has stayed below
 *    u for `rearmTicks`, and its peak (logit) is one observation of the tail;
 *  - an excursion that reached the threshold in force counts at the
 *    threshold (censored there): a real fault's hours at p ≈ 1 say nothing
 *    about healthy nodes;
 *  - the excesses' mean and variance give a generalised Pareto tail (method
 *    of moments, shape held in [0, MAX_SHAPE]); the threshold is where the
 *    tail, at the observed rate of excursions, meets the budget;
 *  - per node, the same tail at the node's own rate, shrunk towards the
 *    cluster's (nodeThreshold);
 *  - old observations fade with a half-life, and the validation's own
 *    counts are the prior, so a new stream starts at the stored threshold;
 *  - the threshold is never below the stored one (adaptation only makes the
 *    detector quieter than calibrated, never more sensitive) nor above the
 *    ceiling (a strong fault always alerts).
 *
 * It also keeps each modality's usual reconstruction error on the stream,
 * against which the tracker weighs blame (relativeErrors) and names an
 * alert's modality (blameErrors).
 */

/** The validation's calibration stored with the model (the prior and the budget). */
export interface BudgetPrior {
  /** The level u above which excursions are counted (probability). */
  level: number;
  /** Excursions above u per node-tick on the clean validation. */
  ratePerNodeTick: number;
  /** Mean excess of their peaks over u, logits. */
  scale: number;
  /** Excursions the validation held (the prior's weight). */
  excursions: number;
  /** The budget, alerts per node-tick. */
  budgetPerNodeTick: number;
}

export interface BudgetOptions {
  /** The stored threshold: the floor. */
  threshold: number;
  prior: BudgetPrior;
  /** Half-life of an observation, in node-ticks per node (ticks). Default: one day of 31 s ticks. */
  halfLifeTicks?: number;
  /** Ticks below u that end an excursion (the tracker's re-arm time). Default 10. */
  rearmTicks?: number;
  /** Upper bound of the threshold, so a strong fault always alerts. Default 0.99. */
  ceiling?: number;
}

/** Per node: the excursion in progress. */
interface Excursion {
  peak: number;
  below: number;
  /** It reached the threshold in force: only "at least this high" is known of it (logit). */
  censoredAt: number | null;
}

/** Plain JSON, checkpointed with the cluster's alert state. Weights fade with the half-life. */
export interface BudgetStateJson {
  /** Node-ticks observed. */
  exposure: number;
  /** Excursions closed. */
  excursions: number;
  /** Sum and sum of squares of their excesses over u (logits; a censored one at its censoring point). */
  excess: number;
  excessSquares: number;
  open: Record<string, Excursion>;
  /** Per node: its own node-ticks and excursions (absent in states written before it existed). */
  nodes?: Record<string, { exposure: number; excursions: number }>;
  /**
   * Healthy node-ticks' reconstruction error per modality, summed (with the
   * same fading), and their weight: each modality's usual error on this
   * stream (absent in states written before it existed).
   */
  errors?: { weight: number; sums: Record<string, number> };
}

/**
 * Node-ticks of usual errors before blame is weighed by them: an hour of a
 * 50-node cluster at 31 s ticks.
 */
const USUAL_ERROR_WEIGHT = 5_000;
/**
 * Ticks of the cluster's healthy nodes whose usual errors name an alert's
 * modality (blameErrors): five minutes at 31 s. The modalities' usual errors
 * differ by orders of magnitude (IBRL's and the simulator's voltage against
 * temperature: about 300×) and vary little from node to node, so a few
 * ticks of every node rank them; a small or young cluster would otherwise
 * name its alerts by raw errors, i.e. voltage, for an hour or more.
 */
const BLAME_TICKS = 10;

const EPS = 1e-7;
const logit = (p: number): number => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** 31 s ticks in a day. */
const DAY_TICKS = 2787;
/** Excursions at the cluster's rate a node's own rate is shrunk with (a gamma prior's weight). */
const NODE_PRIOR_EXCURSIONS = 5;
/** The tail shape is kept in [0, MAX_SHAPE]: a few large peaks must not run the threshold to the ceiling. */
const MAX_SHAPE = 0.5;

/**
 * The level above a peaks-over-threshold tail's level u exceeded at `ratio`
 * times the budget: for a generalised Pareto tail of shape ξ and scale σ,
 * (σ / ξ)((rate / budget)^ξ − 1); σ ln(rate / budget) as ξ → 0.
 */
export function tailQuantile(shape: number, scale: number, ratio: number): number {
  if (!(ratio > 1)) return 0;
  return shape < 1e-6 ? scale * Math.log(ratio) : (scale / shape) * (Math.pow(ratio, shape) - 1);
}

/**
 * The shape and scale of a generalised Pareto tail from the mean and variance
 * of its excesses (method of moments: Hosking & Wallis 1987), the shape held
 * in [0, MAX_SHAPE].
 */
export function tailFromMoments(mean: number, variance: number): { shape: number; scale: number } {
  if (!(mean > 0)) return { shape: 0, scale: 0 };
  if (!(variance > 0)) return { shape: 0, scale: mean };
  const ratio = (mean * mean) / variance;
  const shape = Math.min(MAX_SHAPE, Math.max(0, 0.5 * (1 - ratio)));
  return { shape, scale: mean * (1 - shape) };
}

export class FalseAlertBudget {
  private state: BudgetStateJson;
  private readonly decay: number;
  private readonly u: number;
  private current: number;

  constructor(
    private readonly options: BudgetOptions,
    state?: BudgetStateJson,
  ) {
    const { prior } = options;
    this.u = logit(prior.level);
    this.decay = Math.pow(0.5, 1 / (options.halfLifeTicks ?? DAY_TICKS));
    // The validation stored only the mean excess: an exponential tail (variance = mean²).
    const weight = Math.max(1, prior.excursions);
    this.state = state
      ? structuredClone(state)
      : {
          exposure: prior.ratePerNodeTick > 0 ? weight / prior.ratePerNodeTick : 0,
          excursions: weight,
          excess: weight * prior.scale,
          excessSquares: weight * 2 * prior.scale * prior.scale,
          open: {},
        };
    this.current = this.estimate();
  }

  /** The threshold in force now at the cluster's rate of excursions (a node's own: nodeThreshold). */
  get threshold(): number {
    return this.current;
  }

  toJSON(): BudgetStateJson {
    return structuredClone(this.state);
  }

  /** The live state, without a copy: for a constructor that copies it at once (ClusterAlerts.copy). */
  stateView(): Readonly<BudgetStateJson> {
    return this.state;
  }

  /**
   * One tick of the cluster's judged nodes whose alert is not firing (a
   * firing node's scores are not a healthy node's; an unscored node says
   * nothing). Returns the threshold for the next tick.
   */
  observe(
    probabilities: ReadonlyMap<string, number>,
    errors?: ReadonlyMap<string, Readonly<Record<string, number>>>,
  ): number {
    const s = this.state;
    if (errors) this.addErrors(errors);
    s.exposure *= this.decay;
    s.excursions *= this.decay;
    s.excess *= this.decay;
    s.excessSquares *= this.decay;
    const nodes = (s.nodes ??= {});
    for (const counts of Object.values(nodes)) {
      counts.exposure *= this.decay;
      counts.excursions *= this.decay;
    }
    const rearm = this.options.rearmTicks ?? 10;
    for (const [node, p] of probabilities) {
      s.exposure += 1;
      (nodes[node] ??= { exposure: 0, excursions: 0 }).exposure += 1;
      const y = logit(p);
      const open = s.open[node];
      if (y >= this.u) {
        const excursion = open ?? (s.open[node] = { peak: y, below: 0, censoredAt: null });
        excursion.peak = Math.max(excursion.peak, y);
        excursion.below = 0;
        if (p > this.current && excursion.censoredAt === null) excursion.censoredAt = logit(this.current);
      } else if (open && ++open.below >= rearm) {
        this.close(open, node);
        delete s.open[node];
      }
    }
    // A node that left the judged set (alerting, silent, gone) ends its excursion where it stands.
    for (const node of Object.keys(s.open)) {
      if (!probabilities.has(node)) {
        this.close(s.open[node], node);
        delete s.open[node];
      }
    }
    this.current = this.estimate();
    return this.current;
  }

  /**
   * Errors in units of each modality's usual error on this stream, so that
   * blame goes to the modality furthest from its own normal, not the one
   * whose errors run largest everywhere (a coarsely quantized reading, say):
   * what localization and the per-modality thresholds weigh. Unchanged until
   * USUAL_ERROR_WEIGHT healthy node-ticks were seen.
   */
  relativeErrors(errors: Readonly<Record<string, number>>): Record<string, number> {
    return this.againstUsual(errors, USUAL_ERROR_WEIGHT);
  }

  /**
   * The same, for naming an alert's modality only: in use once the cluster's
   * nodes have shown BLAME_TICKS healthy ticks each (the nodes the budget
   * has seen), at most USUAL_ERROR_WEIGHT node-ticks.
   */
  blameErrors(errors: Readonly<Record<string, number>>): Record<string, number> {
    const nodes = Math.max(1, Object.keys(this.state.nodes ?? {}).length);
    return this.againstUsual(errors, Math.min(USUAL_ERROR_WEIGHT, BLAME_TICKS * nodes));
  }

  /** Errors in units of their modality's usual error, once `weight` node-ticks of it were seen (else unchanged). */
  private againstUsual(errors: Readonly<Record<string, number>>, weight: number): Record<string, number> {
    const usual = this.state.errors;
    if (!usual || usual.weight < weight) return { ...errors };
    const out: Record<string, number> = {};
    for (const [modality, error] of Object.entries(errors)) {
      const mean = (usual.sums[modality] ?? 0) / usual.weight;
      out[modality] = mean > 0 ? error / mean : error;
    }
    return out;
  }

  private addErrors(errors: ReadonlyMap<string, Readonly<Record<string, number>>>): void {
    const usual = (this.state.errors ??= { weight: 0, sums: {} });
    usual.weight *= this.decay;
    for (const modality of Object.keys(usual.sums)) usual.sums[modality] *= this.decay;
    for (const nodeErrors of errors.values()) {
      usual.weight += 1;
      for (const [modality, error] of Object.entries(nodeErrors))
        if (Number.isFinite(error) && error >= 0) usual.sums[modality] = (usual.sums[modality] ?? 0) + error;
    }
  }

  private close(excursion: Excursion, node: string): void {
    const s = this.state;
    const counts = s.nodes?.[node];
    if (counts) counts.excursions += 1;
    const excess = Math.max(0, (excursion.censoredAt ?? excursion.peak) - this.u);
    s.excursions += 1;
    s.excess += excess;
    s.excessSquares += excess * excess;
  }

  private estimate(rate?: number): number {
    const s = this.state;
    const { threshold, prior } = this.options;
    if (!(s.exposure > 0) || !(s.excursions > 0)) return threshold;
    const mean = s.excess / s.excursions;
    const variance = Math.max(0, s.excessSquares / s.excursions - mean * mean);
    const { shape, scale } = tailFromMoments(mean, variance);
    const ratio = (rate ?? s.excursions / s.exposure) / prior.budgetPerNodeTick;
    const z = this.u + tailQuantile(shape, scale, ratio);
    return Math.min(this.options.ceiling ?? 0.99, Math.max(threshold, sigmoid(z)));
  }

  /**
   * A node's own threshold: the cluster's tail at the node's own excursion
   * rate, shrunk towards the cluster's rate by NODE_PRIOR_EXCURSIONS (a node
   * must show several excursions of its own before it departs from it).
   */
  nodeThreshold(node: string): number {
    const s = this.state;
    const counts = s.nodes?.[node];
    if (!counts || !(s.exposure > 0) || !(s.excursions > 0)) return this.current;
    const clusterRate = s.excursions / s.exposure;
    const rate = (counts.excursions + NODE_PRIOR_EXCURSIONS) / (counts.exposure + NODE_PRIOR_EXCURSIONS / clusterRate);
    return this.estimate(rate);
  }
}

/** What a model stores of its false-alert calibration (model metadata training.validation.falseAlerts). */
interface StoredCalibration {
  level: number;
  excursions: number;
  ratePerNodeTick: number;
  scale: number;
  budgetPerNodeTick: number;
  tickMs: number;
}

/**
 * The budget's prior from a model's metadata, with the tick it was
 * calibrated at; undefined for a model trained before the calibration was
 * stored (its threshold then stays as stored).
 */
export function budgetPriorOf(model: {
  metadata?: { training?: { validation?: { falseAlerts?: StoredCalibration } } };
}): { prior: BudgetPrior; tickMs: number } | undefined {
  const stored = model.metadata?.training?.validation?.falseAlerts;
  if (!stored) return undefined;
  const { level, excursions, ratePerNodeTick, scale, budgetPerNodeTick, tickMs } = stored;
  const usable = [level, excursions, ratePerNodeTick, scale, budgetPerNodeTick, tickMs].every(
    (x) => Number.isFinite(x) && x >= 0,
  );
  if (!usable || !(level > 0 && level < 1) || !(budgetPerNodeTick > 0)) return undefined;
  return { prior: { level, excursions, ratePerNodeTick, scale, budgetPerNodeTick }, tickMs };
}
