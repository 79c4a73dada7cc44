// argocd-lua: runs an Argo CD health script (resource.customizations.health.<group>_<kind>) in
// gopher-lua, the Lua VM Argo CD embeds, the way Argo CD's application controller runs it:
//
//   - a fresh VM per object, with the standard libraries skipped unless --open-libs is given
//     (Argo CD's resource.customizations.useOpenLibs.<group>_<kind>); the package, base and table
//     libraries are opened either way (Argo CD also opens a reduced `os`, which this tool leaves out:
//     a script that calls os.* fails here);
//   - the object, decoded from JSON, as the global `obj` (objects as tables, arrays as sequences,
//     numbers as Lua numbers, null as nil);
//   - one second to run; the value the script returns must be a table whose `status` is one of
//     Healthy, Progressing, Degraded, Suspended, Missing, Unknown — any other status reads as
//     Unknown with the message "Lua returned an invalid health status".
//
// Usage: argocd-lua [--open-libs] SCRIPT.lua < objects.json
// Input: a JSON array of objects, or an object with "items". Output: a JSON array in input order,
// {"kind","namespace","name","status","message"} or, when the script fails, {"...","error"}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

type health struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status,omitempty"`
	Message   string `json:"message"`
	Error     string `json:"error,omitempty"`
}

var healthStatuses = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

// toLua turns a decoded JSON value into the Lua value Argo CD hands to scripts.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []interface{}:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetH(lua.LString(key), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

func run(script string, object map[string]interface{}, openLibs bool) (status, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	returned, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	field := func(name string) (string, error) {
		switch v := returned.RawGetString(name).(type) {
		case *lua.LNilType:
			return "", nil
		case lua.LString:
			return string(v), nil
		default:
			return "", fmt.Errorf("the returned table's %s is a %s, not a string", name, v.Type())
		}
	}
	if status, err = field("status"); err != nil {
		return "", "", err
	}
	if message, err = field("message"); err != nil {
		return "", "", err
	}
	if !healthStatuses[status] {
		return "Unknown", "Lua returned an invalid health status", nil
	}
	return status, message, nil
}

func objectsFrom(input []byte) ([]map[string]interface{}, error) {
	var list []map[string]interface{}
	if err := json.Unmarshal(input, &list); err == nil {
		return list, nil
	}
	var wrapped struct {
		Items []map[string]interface{} `json:"items"`
	}
	if err := json.Unmarshal(input, &wrapped); err != nil {
		return nil, fmt.Errorf("stdin must be a JSON array of objects or an object with \"items\": %w", err)
	}
	return wrapped.Items, nil
}

func main() {
	args := os.Args[1:]
	openLibs := len(args) > 0 && args[0] == "--open-libs"
	if openLibs {
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: argocd-lua [--open-libs] SCRIPT.lua < objects.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua: reading stdin:", err)
		os.Exit(2)
	}
	objects, err := objectsFrom(input)
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua:", err)
		os.Exit(2)
	}
	results := make([]health, 0, len(objects))
	for _, object := range objects {
		meta, _ := object["metadata"].(map[string]interface{})
		h := health{Kind: fmt.Sprint(object["kind"]), Namespace: fmt.Sprint(meta["namespace"]), Name: fmt.Sprint(meta["name"])}
		if h.Namespace == "<nil>" {
			h.Namespace = ""
		}
		if h.Status, h.Message, err = run(string(script), object, openLibs); err != nil {
			h.Status, h.Error = "", err.Error()
		}
		results = append(results, h)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-lua: writing stdout:", err)
		os.Exit(2)
	}
}
