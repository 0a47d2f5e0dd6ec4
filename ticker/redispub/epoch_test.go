package redispub_test

import (
	"strings"
	"testing"

	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// TestPayloadEpoch: a tick's fencing token is written as "epoch" just
// before "mock", left out when zero, and read back by Decode.
func TestPayloadEpoch(t *testing.T) {
	tk := optionTick()
	if p := string(redispub.AppendPayload(nil, &tk)); strings.Contains(p, "epoch") {
		t.Fatalf("a tick with Epoch 0 has an epoch: %s", p)
	}
	tk.Epoch = 1764564930123
	p := redispub.AppendPayload(nil, &tk)
	if !strings.HasSuffix(string(p), `,"epoch":1764564930123,"mock":true}`) {
		t.Fatalf("payload %s does not end with the epoch and mock", p)
	}
	m, err := redispub.Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Tick.Epoch != tk.Epoch {
		t.Errorf("Decode: Epoch %d, want %d", m.Tick.Epoch, tk.Epoch)
	}
	if _, err := redispub.Decode([]byte(`{"v":1,"token":5,"ltp":2.5,"epoch":-1}`)); err == nil {
		t.Error("Decode took a negative epoch")
	}
}
