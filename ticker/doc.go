// Package ticker streams market ticks for option chains. It holds the market
// model (instruments, ticks, option chains, market hours, Black–Scholes
// pricing) and a realistic mock source that needs no data file and no
// credentials.
package ticker
