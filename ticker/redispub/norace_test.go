//go:build !race

package redispub_test

const raceEnabled = false
