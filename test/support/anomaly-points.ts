/**
 * The `anomaly` measurement spelled as the `influx` client's points: the
 * reference the sink's own line writer (store/influx-lines.ts, NodeTickLines,
 * which documents the schema) is held to, through the client's serializer
 * (test/unit/store/influx-lines.test.ts), and the client path
 * bench/influx-lines.ts measures it against. Nothing in the product writes
 * these points.
 */
import type { IPoint } from 'influx';
import { MEASUREMENTS, type ClusterScore, type Frame } from '../../common/types.ts';
import { CLUSTER_PROBABILITY_FIELD, errorField, reconstructionField, valueField } from '../../store/influx-lines.ts';
import { pipelinePoint } from '../../store/influx-sink.ts';
import { shadowPoints } from '../../store/shadow.ts';
import type { ResultBatch } from '../../store/sink.ts';

type NodeScore = ClusterScore['nodes'][number];

/** The verdict fields of one node at one tick. */
function verdictFields(node: NodeScore, clusterProbability: number): Record<string, number | boolean> {
  const fields: Record<string, number | boolean> = {
    probability: node.probability,
    score: node.score,
    is_anomaly: node.isAnomaly,
    [CLUSTER_PROBABILITY_FIELD]: clusterProbability,
  };
  if (node.silenced !== undefined) fields.silenced = node.silenced;
  for (const [modality, error] of Object.entries(node.reconstructionError))
    if (Number.isFinite(error)) fields[errorField(modality)] = error;
  for (const [modality, value] of Object.entries(node.reconstruction ?? {}))
    if (Number.isFinite(value)) fields[reconstructionField(modality)] = value;
  return fields;
}

/** A frame's `anomaly` points: one per node with a reading or a verdict. */
export function nodeTickPoints(frame: Frame, score: ClusterScore | undefined): IPoint[] {
  const verdicts = new Map<string, NodeScore>();
  for (const node of score?.nodes ?? []) verdicts.set(node.node, node);
  const points: IPoint[] = [];
  for (const node of frame.nodes) {
    const verdict = verdicts.get(node.node);
    const fields: Record<string, number | boolean> = verdict ? verdictFields(verdict, score!.probability) : {};
    for (const [modality, value] of Object.entries(node.values))
      if (value !== null && Number.isFinite(value)) fields[valueField(modality)] = value;
    if (Object.keys(fields).length === 0) continue;
    points.push({
      measurement: MEASUREMENTS.anomaly,
      tags: {
        network: frame.network,
        cluster: frame.cluster,
        node: node.node,
        ...(verdict && score?.model ? { model: score.model } : {}),
      },
      fields,
      timestamp: frame.tick,
    });
  }
  return points;
}

/** Every point of a batch, in the order the sink writes its lines (store/influx-sink.ts, batchLines). */
export function batchPoints(batch: ResultBatch): IPoint[] {
  const scores = new Map<string, ClusterScore>();
  for (const score of batch.scores) scores.set(`${score.cluster}@${score.tick}`, score);
  const points = batch.frames.flatMap((frame) => nodeTickPoints(frame, scores.get(`${frame.cluster}@${frame.tick}`)));
  if (batch.pipeline) points.push(pipelinePoint(batch.pipeline));
  if (batch.shadow) points.push(...shadowPoints(batch.shadow));
  return points;
}
