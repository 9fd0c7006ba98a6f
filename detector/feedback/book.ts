import { FEEDBACK_CODEC, type Feedback } from '../../common/feedback.ts';
import { KeyedBook, type KeyedBookOptions, type KeyedRecordFormat } from '../keyed-book.ts';

/** Feedback records on the feedback topic: key = alert id, listed in the order they were marked. */
export const FEEDBACK_RECORDS: KeyedRecordFormat<Feedback> = {
  name: 'feedback record',
  ...FEEDBACK_CODEC,
  keyOf: (feedback) => feedback.alertId,
  order: (a, b) => a.markedAt - b.markedAt || a.alertId.localeCompare(b.alertId),
};

/** Every operator mark of the feedback topic, followed live (see KeyedBook). */
export class FeedbackBook extends KeyedBook<Feedback> {
  constructor(options: Omit<KeyedBookOptions<Feedback>, 'format'>) {
    super({ ...options, format: FEEDBACK_RECORDS });
  }
}
