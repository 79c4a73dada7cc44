// The names on member Leases that the operator writes and `hestia describe` reads.

/** The label that files a member Lease under its ring (the value: the ring's name, HESTIA_LEASE_NAME). */
export const MEMBER_OF_LABEL = 'hestia.stakater.com/member-of';
/** The annotation in which a member publishes the view it acts on (names, sorted, comma-separated). */
export const VIEW_ANNOTATION = 'hestia.stakater.com/view';
