import { describe, expect, it } from 'vitest';
import { UndoRecorder } from '../../../../detector/alerts/undo-log.ts';

/** A value changed under a recorder, as the stuck and jump statistics change theirs. */
function counter(recorder: UndoRecorder): { value: number; set: (next: number) => void } {
  const state = {
    value: 0,
    set(next: number) {
      const before = state.value;
      recorder.log?.push(() => (state.value = before));
      state.value = next;
    },
  };
  return state;
}

describe('UndoRecorder', () => {
  it('puts back what the batch changed, last change first', () => {
    const recorder = new UndoRecorder();
    const state = counter(recorder);
    state.set(1);
    const rollback = recorder.keep();
    state.set(2);
    state.set(3);
    rollback();
    expect(state.value).toBe(1);
    expect(recorder.log).toBeUndefined();
  });

  it('holds nothing of a dropped batch: its rollback, still referenced, puts nothing back', () => {
    const recorder = new UndoRecorder();
    const state = counter(recorder);
    const rollback = recorder.keep();
    const log = recorder.log!;
    state.set(5);
    recorder.drop();
    expect(log).toHaveLength(0);
    rollback();
    expect(state.value).toBe(5);
  });

  it('ends the last batch when the next one starts', () => {
    const recorder = new UndoRecorder();
    const state = counter(recorder);
    const first = recorder.keep();
    state.set(1);
    const second = recorder.keep();
    state.set(2);
    first();
    expect(state.value).toBe(2);
    second();
    expect(state.value).toBe(1);
  });
});
