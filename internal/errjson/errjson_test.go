package errjson

import (
	"encoding/json"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMessage(t *testing.T) {
	b, err := json.Marshal(struct {
		A any `json:"a"`
		B any `json:"b"`
	}{Message(errors.New("boom")), Message(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":"boom","b":null}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestPanicEmbedded(t *testing.T) {
	b, err := json.Marshal(struct {
		Task string `json:"task"`
		Panic
	}{"t", PanicOf(errors.New("bad"), []byte("goroutine 1"))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"task":"t","value":"bad","stack":"goroutine 1"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
