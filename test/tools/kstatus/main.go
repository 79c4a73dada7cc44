// kstatus: the real kstatus library (sigs.k8s.io/cli-utils/pkg/kstatus/status, what Flux's health
// checks and many deploy tools use) as a filter, so that tests can ask it about arbitrary objects.
//
// Input on stdin: a JSON array of Kubernetes objects, or a list object with "items" (what
// `kubectl get -o json` prints). Output on stdout: a JSON array, one entry per input object and in
// the same order:
//
//	{"apiVersion": ..., "kind": ..., "namespace": ..., "name": ...,
//	 "status": "InProgress|Current|Failed|Terminating|Unknown", "message": ...,
//	 "conditions": [{"type","status","reason","message"}],   // the standard conditions kstatus derived
//	 "error": "..."}                                            // only when Compute refused the object
//
// An object that kstatus cannot judge gets "error" and status "Unknown" instead of failing the
// whole batch, so a differential test can compare verdicts over any set of objects.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sjson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

type verdict struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Namespace  string      `json:"namespace,omitempty"`
	Name       string      `json:"name"`
	Status     string      `json:"status"`
	Message    string      `json:"message"`
	Conditions []condition `json:"conditions"`
	Error      string      `json:"error,omitempty"`
}

// Decoded as client-go decodes objects (whole numbers as int64), which is what Compute expects.
func objectsFrom(input []byte) ([]map[string]interface{}, error) {
	var list []map[string]interface{}
	if err := k8sjson.Unmarshal(input, &list); err == nil {
		return list, nil
	}
	var wrapped struct {
		Items []map[string]interface{} `json:"items"`
	}
	if err := k8sjson.Unmarshal(input, &wrapped); err != nil {
		return nil, fmt.Errorf("stdin must be a JSON array of objects or an object with \"items\": %w", err)
	}
	return wrapped.Items, nil
}

func judge(object map[string]interface{}) verdict {
	u := &unstructured.Unstructured{Object: object}
	v := verdict{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Conditions: []condition{}}
	result, err := status.Compute(u)
	if err != nil {
		v.Status, v.Error = string(status.UnknownStatus), err.Error()
		return v
	}
	v.Status, v.Message = string(result.Status), result.Message
	for _, c := range result.Conditions {
		v.Conditions = append(v.Conditions, condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})
	}
	return v
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus: reading stdin:", err)
		os.Exit(2)
	}
	objects, err := objectsFrom(input)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(2)
	}
	verdicts := make([]verdict, 0, len(objects))
	for _, object := range objects {
		verdicts = append(verdicts, judge(object))
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(verdicts); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus: writing stdout:", err)
		os.Exit(2)
	}
}
