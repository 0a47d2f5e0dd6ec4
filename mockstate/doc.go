// Package mockstate implements a bounded store of per-key immutable
// snapshots, each produced by a mutable builder that only the store's
// writer lock touches.
//
// Draft: the full documentation follows.
package mockstate
