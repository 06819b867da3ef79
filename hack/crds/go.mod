// Tool module pinning the modules whose published CustomResourceDefinitions
// the Helm chart's test installs on the test control plane: Istio's
// networking and security APIs, and the Prometheus operator's
// ServiceMonitor and PrometheusRule. Nothing here is compiled;
// hack/crds/build.sh copies the CRD files from the module cache.
module github.com/nephoran/o2ims/hack/crds

go 1.26.0

require (
	github.com/prometheus-operator/prometheus-operator v0.85.0
	istio.io/api v1.32.0
)
