// olm-validate checks Hestia's OLM packaging with the Operator Framework's own code, so that what
// a catalog build or an OLM install would refuse is refused by `make test` first:
//
//	olm-validate bundle DIR    bundle format (metadata/annotations.yaml, manifests/) and content:
//	                           what `operator-sdk bundle validate DIR --select-optional suite=operatorframework`
//	                           runs (operator-framework/api's validators, operator-registry's format check)
//	olm-validate catalog DIR   a file-based catalog: what `opm validate DIR` runs (load it, convert it to
//	                           OLM's model, validate the model)
//
// It prints one line per finding ("ERROR ..." or "WARNING ...") and exits 1 if any is an error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	apimanifests "github.com/operator-framework/api/pkg/manifests"
	apivalidation "github.com/operator-framework/api/pkg/validation"
	apierrors "github.com/operator-framework/api/pkg/validation/errors"
	"github.com/operator-framework/operator-registry/alpha/declcfg"
	registrybundle "github.com/operator-framework/operator-registry/pkg/lib/bundle"
	"github.com/sirupsen/logrus"
	k8svalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The Kubernetes version the bundle is checked against (deprecated and removed APIs).
const kubeVersion = "1.36"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: olm-validate bundle|catalog DIR")
		os.Exit(2)
	}
	var findings []finding
	switch os.Args[1] {
	case "bundle":
		findings = validateBundle(os.Args[2])
	case "catalog":
		findings = validateCatalog(os.Args[2])
	default:
		fmt.Fprintf(os.Stderr, "olm-validate: unknown command %q (bundle or catalog)\n", os.Args[1])
		os.Exit(2)
	}
	failed := false
	for _, f := range findings {
		fmt.Println(f.level, f.text)
		failed = failed || f.level == "ERROR"
	}
	if failed {
		os.Exit(1)
	}
}

type finding struct{ level, text string }

func validateBundle(dir string) []finding {
	var out []finding
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	// The directory layout and metadata/annotations.yaml, as OLM reads them from a bundle image.
	if err := registrybundle.NewImageValidator(nil, logrus.NewEntry(logger)).ValidateBundleFormat(dir); err != nil {
		out = append(out, finding{"ERROR", "bundle format: " + err.Error()})
	}
	manifestsDir := filepath.Join(dir, registrybundle.ManifestsDir)
	mediaType, err := registrybundle.GetMediaType(manifestsDir)
	if err != nil {
		return append(out, finding{"ERROR", "manifests: " + err.Error()})
	}
	bundle, err := apimanifests.GetBundleFromDir(manifestsDir)
	if err != nil {
		return append(out, finding{"ERROR", "manifests: " + err.Error()})
	}

	// Objects besides the CSV and the CRDs: a kind a registry+v1 bundle may carry, valid metadata.
	var results []apierrors.ManifestResult
	for _, u := range bundle.Objects {
		kind := u.GetKind()
		if kind == "ClusterServiceVersion" || kind == "CustomResourceDefinition" {
			continue
		}
		if supported, _ := registrybundle.IsSupported(kind); mediaType == registrybundle.RegistryV1Type && !supported {
			out = append(out, finding{"ERROR", fmt.Sprintf("%s %s: kind not supported in a %s bundle", kind, u.GetName(), mediaType)})
		}
		noPrefix := func(string, bool) []string { return nil }
		for _, e := range k8svalidation.ValidateObjectMetaAccessor(u, false, noPrefix, field.NewPath("metadata")) {
			out = append(out, finding{"ERROR", fmt.Sprintf("%s %s: %s", kind, u.GetName(), e.Error())})
		}
	}

	results = append(results, apivalidation.BundleValidator.Validate(bundle)...)
	if bundle.CSV == nil {
		out = append(out, finding{"ERROR", "no ClusterServiceVersion in the bundle"})
	} else {
		results = append(results, apivalidation.ClusterServiceVersionValidator.Validate(bundle.CSV)...)
	}
	var crds []any
	for _, crd := range bundle.V1CRDs {
		crds = append(crds, crd)
	}
	for _, crd := range bundle.V1beta1CRDs {
		crds = append(crds, crd)
	}
	results = append(results, apivalidation.CustomResourceDefinitionValidator.Validate(crds...)...)

	// The optional suite "operatorframework": OperatorHub metadata, capabilities, categories,
	// deprecated APIs, good practices.
	objs := bundle.ObjectsToValidate()
	for _, obj := range bundle.Objects {
		objs = append(objs, obj)
	}
	objs = append(objs, map[string]string{"k8s-version": kubeVersion})
	for _, v := range []interface {
		Validate(...any) []apierrors.ManifestResult
	}{
		apivalidation.OperatorHubV2Validator,
		apivalidation.StandardCapabilitiesValidator,
		apivalidation.StandardCategoriesValidator,
		apivalidation.AlphaDeprecatedAPIsValidator,
		apivalidation.GoodPracticesValidator,
	} {
		results = append(results, v.Validate(objs...)...)
	}

	for _, r := range results {
		for _, e := range r.Errors {
			out = append(out, finding{"ERROR", fmt.Sprintf("%s: %s", r.Name, e.Error())})
		}
		for _, w := range r.Warnings {
			out = append(out, finding{"WARNING", fmt.Sprintf("%s: %s", r.Name, w.Error())})
		}
	}
	return out
}

func validateCatalog(dir string) []finding {
	cfg, err := declcfg.LoadFS(context.Background(), os.DirFS(dir))
	if err != nil {
		return []finding{{"ERROR", "load: " + err.Error()}}
	}
	// ConvertToModel validates the model (packages, channels, upgrade graph, bundles' properties).
	if _, err := declcfg.ConvertToModel(*cfg); err != nil {
		return []finding{{"ERROR", "model: " + err.Error()}}
	}
	return nil
}
