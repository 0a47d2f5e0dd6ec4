// Package bs implements Black–Scholes–Merton pricing of European options on an
// underlying with a continuous dividend yield, with the Greeks, implied
// volatility inversion, a volatility smile in moneyness and time to expiry,
// and a geometric Brownian motion stepper for simulating the underlying.
//
// It is the pricing model of the mock source (package ticker/mock), and is
// usable on its own:
//
//	p := bs.Params{Spot: 42, Strike: 40, T: 0.5, Rate: 0.10, Vol: 0.20}
//	price := bs.Price(bs.Call, p) // 4.76
//	g := bs.Compute(bs.Put, p)    // g.Price 0.81, g.Delta, g.Gamma, g.Theta, g.Vega
//	iv, err := bs.ImpliedVol(bs.Call, p, 4.76)  // ≈ 0.20, or an error wrapping ErrOutOfBounds, ErrNoSolution or ErrInvalidParams
//
// There is no Config and no default: every input of a price is a field of
// [Params] ([Smile] and [GBM] are plain structs too), every function is pure, and bad input gives NaN (Price, Compute) or an error
// (ImpliedVol, [Params.Validate]), never a panic. A [Kind] marshals to
// "call" or "put".
//
// # Conventions
//
// Rates, yields and volatilities are annualised and continuously compounded,
// as fractions (0.10 = 10%). Time to expiry is in years. The Greeks are in the
// model's natural units: [Greeks.Theta] is the change in value per year of
// calendar time passing (so it is usually negative: divide by 365 for a
// per-day figure), and [Greeks.Vega] is the change in value per 1.0 of
// volatility (divide by 100 for a per-percentage-point figure).
//
// The normal distribution function is computed as ½·erfc(−x/√2), which keeps
// full relative precision in both tails, so that call and put prices and
// N(d)+N(−d)=1 stay accurate for deep in- and out-of-the-money options and
// put–call parity holds to rounding error.
//
// # Pricing a chain
//
// All strikes of one expiry share the spot, time, rate, yield, discount
// factors and forward: [NewTerm] computes them once and [Term.Compute] then
// prices each strike with bit-for-bit the result of [Compute]. Likewise
// [Smile.ATMVol] gives an expiry's at-the-money level once and
// [Smile.VolAround] the volatility of each strike.
//
// # Edge cases and bad input
//
// [Price] and [Compute] never panic. For parameters that [Params.Validate]
// rejects (NaN or infinite values, a spot or strike that is not positive, a
// negative time or volatility) they return NaN, the way the math package does
// for inputs outside a function's domain; call Validate first when the input
// is not trusted. At expiry (T = 0) or with zero volatility the option is
// worth its discounted forward intrinsic value, and the Greeks are those of
// that deterministic payoff (gamma and vega zero).
//
// [ImpliedVol] never returns NaN: it reports a price outside the
// no-arbitrage bounds with [ErrOutOfBounds], a price that would need a
// volatility above [MaxVol] with [ErrNoSolution], and bad parameters with
// [ErrInvalidParams]. It inverts the out-of-the-money side of the strike
// (using put–call parity), where the price is most sensitive to volatility,
// and uses Newton's method safeguarded by a bisection bracket, so it always
// converges.
//
// # Concurrency and allocation
//
// Every function and method here is pure: it touches no shared state, starts
// no goroutine and is safe for concurrent use. [GBM.Step] draws from the
// *rand.Rand it is given, which the caller must not share between goroutines
// without its own locking. Pricing, the Greeks, Term, implied volatility, the
// smile and the stepper do not allocate (except to build an error).
package bs
