// Not a tool: pins the Prometheus Operator module whose CustomResourceDefinitions the tests install
// (ServiceMonitor), read from the Go module cache (moduleDir in test/support/tools.ts).
module hestia/test/tools/prometheus-operator-crds

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.94.0
