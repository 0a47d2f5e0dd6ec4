package conventions_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/steadfast-go/steadfast/breaker"
	"github.com/steadfast-go/steadfast/mockstate"
	"github.com/steadfast-go/steadfast/reloader"
	"github.com/steadfast-go/steadfast/taskmon"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
	"github.com/steadfast-go/steadfast/ticker/kite"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// TestJSONKeys: the Stats, Health and error values of every package marshal
// with snake_case keys, and no error field marshals as {}.
func TestJSONKeys(t *testing.T) {
	errBoom := errors.New("boom")
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for name, v := range map[string]any{
		"breaker.Counts":        breaker.Counts{},
		"taskmon.Stats":         taskmon.Stats{},
		"taskmon.TaskInfo":      taskmon.TaskInfo{LastErr: errBoom},
		"taskmon.TaskError":     taskmon.TaskError{Err: errBoom},
		"taskmon.PanicError":    &taskmon.PanicError{Value: errBoom},
		"reloader.Stats":        reloader.Stats{LastError: errBoom},
		"reloader.PanicError":   &reloader.PanicError{Value: errBoom},
		"mockstate.PanicError":  &mockstate.PanicError{Value: errBoom},
		"ticker.Health":         ticker.Health{},
		"kite.Health":           kite.Health{Conns: []kite.ConnHealth{{}}},
		"kite.Stats":            kite.Stats{},
		"kite.Gap":              kite.Gap{},
		"kite.ServerStats":      kite.ServerStats{},
		"chainpage.Stats":       chainpage.Stats{},
		"redispub.PublishError": &redispub.PublishError{Err: errBoom},
	} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var tree any
		if err := json.Unmarshal(b, &tree); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walkKeys(tree, func(k string, v any) {
			if !snake.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case: %s", name, k, b)
			}
			if m, ok := v.(map[string]any); ok && len(m) == 0 {
				t.Errorf("%s: %q marshals as {}: %s", name, k, b)
			}
		})
	}
}

// walkKeys calls f with every key of every object in tree and its value.
func walkKeys(tree any, f func(k string, v any)) {
	switch t := tree.(type) {
	case map[string]any:
		for k, v := range t {
			f(k, v)
			walkKeys(v, f)
		}
	case []any:
		for _, v := range t {
			walkKeys(v, f)
		}
	}
}
