import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { serveModel } from '../../../../detector/service/model.ts';

describe('serveModel', () => {
  it('sets the clusters per native model call from detector.modelClustersPerCall, and leaves the model its own when unset', () => {
    const model = { maxClustersPerCall: 32 };
    serveModel(model, loadConfig({ env: {} }).detector);
    expect(model.maxClustersPerCall).toBe(32);
    serveModel(model, loadConfig({ env: { WSN_MODEL_CLUSTERS_PER_CALL: '8' } }).detector);
    expect(model.maxClustersPerCall).toBe(8);
    expect(() => loadConfig({ env: { WSN_MODEL_CLUSTERS_PER_CALL: '0' } })).toThrow(/modelClustersPerCall/);
  });
});
