// Who the operator is in the test cluster: its own ServiceAccount (made in identity.ts). Kept apart from
// identity.ts so that code without a cluster connection (the audit-log check) can name it.
export const OPERATOR_NAMESPACE = 'hestia-system';
export const OPERATOR_SERVICE_ACCOUNT = 'hestia-operator';
export const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;
