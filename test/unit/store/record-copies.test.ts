import type { IPoint } from 'influx';
import { describe, expect, it } from 'vitest';
import type { Feedback } from '../../../common/feedback.ts';
import type { Silence } from '../../../common/silences.ts';
import { feedbackFromRow, feedbackPoint } from '../../../store/feedback.ts';
import { recordCopySink, writeRecordCopy } from '../../../store/record-copy.ts';
import { silenceFromRow, silencePoint } from '../../../store/silences.ts';

/** What `SELECT *` returns for a point: its tags and fields as columns, and its time. */
const rowOf = (point: IPoint): Record<string, unknown> => ({
  ...point.tags,
  ...point.fields,
  time: point.timestamp,
});

const silence: Silence = {
  id: 'sil-0a1b2c3d',
  network: 'lab',
  node: '7',
  modality: 'humidity',
  startsAt: 1_000,
  endsAt: 9_000,
  reason: 'recalibration',
  author: 'ana',
  createdAt: 1_000,
};

const feedback: Feedback = {
  alertId: 'lab/c2/12',
  network: 'lab',
  cluster: 'c2',
  node: '12',
  kind: 'anomaly',
  modality: 'temperature',
  verdict: 'false',
  probability: 0.91,
  alertStartsAt: 5_000,
  alertEndsAt: 8_000,
  note: 'door',
  author: 'ana',
  markedAt: 9_500,
};

describe('silence copies in InfluxDB', () => {
  it('tag the place and the silence id, with the times and reason as fields at its start', () => {
    expect(silencePoint(silence)).toEqual({
      measurement: 'silence',
      tags: { network: 'lab', node: '7', modality: 'humidity', id: 'sil-0a1b2c3d' },
      fields: { starts_at: 1_000, ends_at: 9_000, reason: 'recalibration', author: 'ana', expired: false },
      timestamp: 1_000,
    });
  });

  it('read back as the silence; a node-wide one keeps no modality', () => {
    expect(silenceFromRow(rowOf(silencePoint(silence)))).toEqual(silence);
    const nodeWide: Silence = { ...silence, modality: undefined };
    const point = silencePoint(nodeWide);
    expect(point.tags?.modality).toBe('*');
    expect(silenceFromRow(rowOf(point)).modality).toBeUndefined();
  });
});

describe('feedback copies in InfluxDB', () => {
  it('tag the place and the alert id, with the verdict as a field at the alert start', () => {
    expect(feedbackPoint(feedback)).toEqual({
      measurement: 'feedback',
      tags: { network: 'lab', node: '12', modality: 'temperature', alert: 'lab/c2/12' },
      fields: {
        verdict: 'false',
        cluster: 'c2',
        kind: 'anomaly',
        probability: 0.91,
        ends_at: 8_000,
        marked_at: 9_500,
        note: 'door',
        author: 'ana',
      },
      timestamp: 5_000,
    });
  });

  it('read back as the record; an alert still firing when marked has no end', () => {
    expect(feedbackFromRow(rowOf(feedbackPoint(feedback)))).toEqual(feedback);
    const firing: Feedback = { ...feedback, verdict: 'true', alertEndsAt: undefined };
    const back = feedbackFromRow(rowOf(feedbackPoint(firing)));
    expect(back.verdict).toBe('true');
    expect(back).not.toHaveProperty('alertEndsAt');
  });
});

describe('writing a copy', () => {
  it('turns an unreachable InfluxDB into a warning that names it without credentials', async () => {
    const url = 'http://reader:s3cret-pass@127.0.0.1:9';
    const sink = recordCopySink({ url, database: 'wsn' });
    const failed = await writeRecordCopy(sink, silencePoint(silence), url);
    expect(failed?.error).toBeInstanceOf(Error);
    expect(failed?.warning).toMatch(/^not copied to InfluxDB at http:\/\/.*127\.0\.0\.1:9 \(/);
    expect(failed?.warning).toContain('the detectors will still apply it');
    expect(failed?.warning).not.toContain('s3cret-pass');
  });
});
