// Package conventions holds a test, and nothing else, that checks the
// module's packages speak with one voice: one label key for an outcome
// ("result"), one spelling of a cancellation ("canceled"), one log key for
// the instance ("name") and one for the package ("component"), panics
// logged with their stack, and every Run returning nil when its context
// ends. See the root package's documentation, section Conventions.
package conventions
