package chainpage_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/steadfast-go/steadfast/internal/metrictest"
	"github.com/steadfast-go/steadfast/ticker/chainpage"
)

// The metrics say how close the page is to its stream cap, and how many
// viewers it refused, under the constant label name.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := chainpage.New(chainpage.Config{Engine: newFakeEngine(chain()...), MaxStreams: 1,
		Name: "page", Registerer: reg})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, r, closeStream := open(t, srv.URL)
	defer closeStream()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = readEvent(r)
	require.NoError(t, err)
	refused, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, refused.Body)
	_ = refused.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, refused.StatusCode)

	// The handler counts a frame after its flush, which the client may see
	// first. The stream runs over a real socket (not durable for synctest),
	// so this polls with a deadline far above the expected microseconds.
	deadline := time.Now().Add(10 * time.Second)
	for h.Stats().Frames == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	page := metrictest.Labels{"name": "page"}
	for name, want := range map[string]float64{
		"steadfast_chainpage_streams":               1,
		"steadfast_chainpage_max_streams":           1,
		"steadfast_chainpage_streams_opened_total":  1,
		"steadfast_chainpage_streams_refused_total": 1,
		"steadfast_chainpage_snapshots_total":       1,
	} {
		got, err := metrictest.Value(reg, name, page)
		require.NoError(t, err)
		require.Equal(t, want, got, name)
	}
	// Health frames keep coming: these only grow.
	for name, atLeast := range map[string]uint64{
		"steadfast_chainpage_frames_total": 1,
		"steadfast_chainpage_ticks_total":  h.Stats().Ticks,
	} {
		got, err := metrictest.Value(reg, name, page)
		require.NoError(t, err)
		require.GreaterOrEqual(t, got, float64(atLeast), name)
	}

	// A second page with the same name on the same registry is refused
	// with an error naming the package and the name.
	_, err = chainpage.New(chainpage.Config{Engine: newFakeEngine(), Name: "page", Registerer: reg})
	require.ErrorContains(t, err, `chainpage: metrics for name "page" are already registered`)
	// The default name.
	_, err = chainpage.New(chainpage.Config{Engine: newFakeEngine(), Registerer: reg})
	require.NoError(t, err)
	_, err = metrictest.Value(reg, "steadfast_chainpage_max_streams", metrictest.Labels{"name": chainpage.DefaultName})
	require.NoError(t, err)
}
