/**
 * Numbers that several services must agree on. Import them; never spell them
 * out again (a test in test/unit/common checks the usual suspects).
 */

/** Partitions of the frame and anomaly topics when wsn-watch creates them; the cluster → partition map uses the same count. */
export const FRAME_PARTITIONS = 12;

/** Partitions of the detector's compacted state topic when wsn-watch creates it. */
export const STATE_PARTITIONS = 6;

/** Partitions of the readings topic when wsn-watch creates it. */
export const READINGS_PARTITIONS = 6;

/** Partitions of the dead-letter and alert topics when wsn-watch creates them. */
export const SIDE_TOPIC_PARTITIONS = 3;

/** An hour in milliseconds (ticks, windows and periods are all in ms). */
export const HOUR_MS = 3_600_000;

/** A day in milliseconds. */
export const DAY_MS = 24 * HOUR_MS;
