package taskmon

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steadfast-go/steadfast/internal/logs"
	"github.com/steadfast-go/steadfast/internal/promreg"
)

// runDurationBuckets spans a millisecond to a day: background tasks range
// from one-shot jobs to loops that live as long as the process.
func runDurationBuckets() []float64 {
	return []float64{0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600, 86400}
}

// metrics holds the monitor's collectors. Without Config.TaskLabel the
// children are resolved once in newMetrics, so recording costs no label
// lookup.
type metrics struct {
	taskLabel bool

	running        *prometheus.GaugeVec
	exits          *prometheus.CounterVec
	restarts       *prometheus.CounterVec
	giveUps        *prometheus.CounterVec
	rejected       prometheus.Counter
	callbackPanics prometheus.Counter
	duration       *prometheus.HistogramVec

	// Pre-resolved children, used when taskLabel is false.
	runningAll  prometheus.Gauge
	exitsAll    [OutcomeExited + 1]prometheus.Counter
	restartsAll prometheus.Counter
	giveUpsAll  prometheus.Counter
	durationAll [OutcomeExited + 1]prometheus.Observer
}

func newMetrics(m *Monitor, reg prometheus.Registerer, taskLabel bool) *metrics {
	const ns, sub = "steadfast", "taskmon"
	cl := prometheus.Labels{"name": m.name}
	var task []string
	if taskLabel {
		task = []string{"task"}
	}
	with := func(ls ...string) []string { return append(ls, task...) }

	mt := &metrics{taskLabel: taskLabel}
	mt.running = register(m, reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: ns, Subsystem: sub, Name: "tasks_running", ConstLabels: cl,
		Help: "Tasks started and not yet done, supervised tasks waiting to restart included.",
	}, with()))
	mt.exits = register(m, reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "task_exits_total", ConstLabels: cl,
		Help: "Runs of tasks that ended, by result (success, canceled, failure, panic, exited).",
	}, with(logs.Result)))
	mt.restarts = register(m, reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "restarts_total", ConstLabels: cl,
		Help: "Restarts of supervised tasks.",
	}, with()))
	mt.giveUps = register(m, reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "give_ups_total", ConstLabels: cl,
		Help: "Supervised tasks given up after exceeding their restart intensity.",
	}, with()))
	mt.rejected = register(m, reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "rejected_total", ConstLabels: cl,
		Help: "Tasks refused without running: started after Shutdown, or with a nil context or function.",
	}))
	mt.callbackPanics = register(m, reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Subsystem: sub, Name: "callback_panics_total", ConstLabels: cl,
		Help: "Panics (and runtime.Goexit calls) recovered from OnError callbacks.",
	}))
	mt.duration = register(m, reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Subsystem: sub, Name: "task_run_duration_seconds", ConstLabels: cl,
		Help:    "Duration of task runs, by result.",
		Buckets: runDurationBuckets(),
	}, with(logs.Result)))

	if !taskLabel {
		mt.runningAll = mt.running.WithLabelValues()
		mt.restartsAll = mt.restarts.WithLabelValues()
		mt.giveUpsAll = mt.giveUps.WithLabelValues()
		for o := OutcomeSuccess; o <= OutcomeExited; o++ {
			mt.exitsAll[o] = mt.exits.WithLabelValues(o.String())
			mt.durationAll[o] = mt.duration.WithLabelValues(o.String())
		}
	}
	return mt
}

// register registers c, or returns the equal collector already registered
// (two monitors with the same Name share their series). Any other
// registration error is logged, in promreg.Register's words, and c is used
// unregistered: metrics never stop the monitor from working.
func register[C prometheus.Collector](m *Monitor, reg prometheus.Registerer, c C) C {
	err := promreg.Register(reg, "taskmon", m.name, c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	m.sink().Log(slog.LevelError, "metric not exported", logs.Err(err))
	return c
}

func (mt *metrics) start(task string) {
	if mt.taskLabel {
		mt.running.WithLabelValues(task).Inc()
		return
	}
	mt.runningAll.Inc()
}

func (mt *metrics) stop(task string) {
	if mt.taskLabel {
		mt.running.WithLabelValues(task).Dec()
		return
	}
	mt.runningAll.Dec()
}

func (mt *metrics) exit(task string, o Outcome, d time.Duration) {
	if mt.taskLabel {
		mt.exits.WithLabelValues(o.String(), task).Inc()
		mt.duration.WithLabelValues(o.String(), task).Observe(d.Seconds())
		return
	}
	mt.exitsAll[o].Inc()
	mt.durationAll[o].Observe(d.Seconds())
}

func (mt *metrics) restart(task string) {
	if mt.taskLabel {
		mt.restarts.WithLabelValues(task).Inc()
		return
	}
	mt.restartsAll.Inc()
}

func (mt *metrics) giveUp(task string) {
	if mt.taskLabel {
		mt.giveUps.WithLabelValues(task).Inc()
		return
	}
	mt.giveUpsAll.Inc()
}
