package kite

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"
)

// redacted replaces a credential in every text a Source writes.
const redacted = "REDACTED"

// minKeyLen: an API key at least this long is redacted wherever it
// appears; a shorter one (Kite's are 16 characters) only as the value of
// an api_key parameter, so that a test's key "k" does not garble messages.
const minKeyLen = 8

// maxServerMsg bounds the bytes of a server's error message that are
// logged, cut after redaction so that no part of a secret survives.
const maxServerMsg = 200

// redact returns msg with every access token used so far, the API key,
// extra and the values of api_key and access_token parameters replaced.
func (s *Source) redact(msg string, extra ...string) string {
	s.mu.Lock()
	secrets := append(append([]string(nil), s.secrets...), extra...)
	s.mu.Unlock()
	if len(s.cfg.APIKey) >= minKeyLen {
		secrets = append(secrets, s.cfg.APIKey)
	}
	return redactAll(secrets, msg)
}

// redactAll replaces every secret in msg, plain or URL-encoded, and the
// value of every api_key or access_token query parameter.
func redactAll(secrets []string, msg string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, sec, redacted)
		if q := url.QueryEscape(sec); q != sec {
			msg = strings.ReplaceAll(msg, q, redacted)
		}
	}
	return redactParams(msg)
}

// redactParams replaces the values of the api_key and access_token
// parameters in msg, up to the next character that ends a URL in text.
func redactParams(msg string) string {
	for _, p := range [...]string{"api_key=", "access_token="} {
		var b strings.Builder
		rest := msg
		for {
			i := strings.Index(rest, p)
			if i < 0 {
				break
			}
			b.WriteString(rest[:i+len(p)])
			rest = rest[i+len(p):]
			end := strings.IndexAny(rest, "&#\"' \t\r\n<>`")
			if end < 0 {
				end = len(rest)
			}
			if rest[:end] != "" {
				b.WriteString(redacted)
			}
			rest = rest[end:]
		}
		if b.Len() > 0 {
			b.WriteString(rest)
			msg = b.String()
		}
	}
	return msg
}

// cut returns msg cut to at most n bytes, at a character boundary, with
// "…" marking a cut.
func cut(msg string, n int) string {
	if len(msg) <= n {
		return msg
	}
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n] + "…"
}

// String returns the Config's fields with the credentials hidden: the API
// key and access token show as REDACTED when set, the functions as set or
// nil, and BaseURL without a password or credential parameters.
// fmt's %v, %+v and %s use it.
func (c Config) String() string {
	set := func(ok bool) string {
		if ok {
			return "set"
		}
		return "nil"
	}
	hide := func(v string) string {
		if v == "" {
			return `""`
		}
		return redacted
	}
	return fmt.Sprintf("kite.Config{APIKey:%s AccessToken:%s RefreshToken:%s BaseURL:%q Dial:%s Mode:%s "+
		"MaxPerConn:%d MaxConns:%d BatchSize:%d PingTimeout:%v StallTimeout:%v Backoff:%v MaxBackoff:%v "+
		"StableAfter:%v QueueSize:%d OnGap:%s OnOrder:%s OnMessage:%s Name:%q Logger:%s Registerer:%s}",
		hide(c.APIKey), hide(c.AccessToken), set(c.RefreshToken != nil), hideURL(c.BaseURL), set(c.Dial != nil), c.Mode,
		c.MaxPerConn, c.MaxConns, c.BatchSize, c.PingTimeout, c.StallTimeout, c.Backoff, c.MaxBackoff,
		c.StableAfter, c.QueueSize, set(c.OnGap != nil), set(c.OnOrder != nil), set(c.OnMessage != nil), c.Name,
		set(c.Logger != nil), set(c.Registerer != nil))
}

// GoString returns String, so that %#v hides the credentials too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the Config as a group of its
// settings, the credentials hidden as in String.
func (c Config) LogValue() slog.Value {
	hide := func(v string) string {
		if v == "" {
			return ""
		}
		return redacted
	}
	return slog.GroupValue(
		slog.String("api_key", hide(c.APIKey)), slog.String("access_token", hide(c.AccessToken)),
		slog.Bool("refresh_token", c.RefreshToken != nil), slog.String("base_url", hideURL(c.BaseURL)),
		slog.String("mode", c.Mode.String()), slog.Int("max_per_conn", c.MaxPerConn), slog.Int("max_conns", c.MaxConns),
		slog.Int("batch_size", c.BatchSize), slog.Duration("ping_timeout", c.PingTimeout),
		slog.Duration("stall_timeout", c.StallTimeout), slog.Duration("backoff", c.Backoff),
		slog.Duration("max_backoff", c.MaxBackoff), slog.Duration("stable_after", c.StableAfter),
		slog.Int("queue_size", c.QueueSize), slog.String("name", c.Name),
	)
}

// hideURL returns raw without a password and without the values of
// credential parameters; text that is no URL is redacted whole.
func hideURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	return redactParams(u.Redacted())
}
