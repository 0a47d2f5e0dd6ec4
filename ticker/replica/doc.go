// Package replica runs ticker engines as replicas coordinated on Redis.
package replica
