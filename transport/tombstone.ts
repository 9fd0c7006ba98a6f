/** Header that marks a tombstone on the in-process transport, whose messages always carry a value. */
export const TOMBSTONE_HEADER = 'wsn-tombstone';
