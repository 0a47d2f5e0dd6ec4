// Package redisclient holds what the packages that take a go-redis client
// check about it.
package redisclient

import "github.com/redis/go-redis/v9"

// ContextTimeoutEnabled reports whether a go-redis client honours context
// deadlines; a client of another make is trusted to.
func ContextTimeoutEnabled(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.RingOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}
