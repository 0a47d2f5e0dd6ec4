package redispub_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/steadfast-go/steadfast/internal/redistest"
	"github.com/steadfast-go/steadfast/ticker"
	"github.com/steadfast-go/steadfast/ticker/redispub"
)

// ping returns the error of a PING by a client made from url, with the
// fail-fast settings the package documentation recommends.
func pingURL(t *testing.T, url string, mod ...func(*redis.Options)) error {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries = true, -1, 1
	for _, f := range mod {
		f(o)
	}
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return c.Ping(ctx).Err()
}

// Errors that retrying will not heal, each made by a real server or
// handshake, are permanent; those of an outage are not.
func TestIsPermanent(t *testing.T) {
	secret := redistest.Start(t, "--requirepass", "secret")
	shared := redistest.Addr(t)
	closed := closedPort(t)

	permanent := map[string]func(t *testing.T) error{
		"WRONGPASS": func(t *testing.T) error { return pingURL(t, "redis://:wrong@"+secret.Addr()) },
		"NOAUTH": func(t *testing.T) error { // from Publish: judged by its cause
			p := newPublisher(t, newClient(t, secret.Addr(), failFast), redispub.Config{})
			return publish(p, []ticker.Tick{tickOf(chain("NIFTY", 100)[0], 1)})
		},
		"NOPERM": func(t *testing.T) error {
			admin := newClient(t, secret.Addr(), func(o *redis.Options) { o.Password = "secret" })
			ctx := context.Background()
			if err := admin.Do(ctx, "ACL", "SETUSER", "nopublish", "on", ">pw", "~*", "&*", "+@all", "-publish").Err(); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, secret.Addr(), failFast, func(o *redis.Options) { o.Username, o.Password = "nopublish", "pw" })
			p := newPublisher(t, c, redispub.Config{})
			return publish(p, []ticker.Tick{tickOf(chain("NIFTY", 100)[0], 1)})
		},
		"AUTH without a password set": func(t *testing.T) error {
			c := newClient(t, shared)
			return c.Do(context.Background(), "AUTH", "wrong").Err()
		},
		"DB index out of range": func(t *testing.T) error { return pingURL(t, "redis://"+shared+"/99") },
		"unknown command": func(t *testing.T) error {
			return newClient(t, shared).Do(context.Background(), "NOSUCHCOMMAND").Err()
		},
		"unknown host": func(t *testing.T) error { return pingURL(t, "redis://notahost.invalid:1") },
		"TLS name mismatch": func(t *testing.T) error {
			addr, roots := tlsServer(t, "other.example")
			return pingURL(t, "rediss://"+addr, func(o *redis.Options) {
				o.TLSConfig = &tls.Config{ServerName: "redis.example", RootCAs: roots, MinVersion: tls.VersionTLS12}
			})
		},
		"TLS unknown authority": func(t *testing.T) error {
			addr, _ := tlsServer(t, "redis.example")
			return pingURL(t, "rediss://"+addr, func(o *redis.Options) {
				o.TLSConfig = &tls.Config{ServerName: "redis.example", MinVersion: tls.VersionTLS12}
			})
		},
		"TLS to a server that answers in plain text": func(t *testing.T) error {
			return pingURL(t, "rediss://"+plainServer(t, "-ERR unknown command\r\n"))
		},
	}
	transient := map[string]func(t *testing.T) error{
		"nil": func(*testing.T) error { return nil },
		"connection refused": func(t *testing.T) error {
			err := pingURL(t, "redis://"+closed)
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("PING of a closed port = %v, want connection refused", err)
			}
			return err
		},
		"deadline": func(*testing.T) error {
			return &redispub.PublishError{Ticks: 1, Commands: 1, Failed: 1, Err: context.DeadlineExceeded}
		},
		"OOM": func(t *testing.T) error {
			s := redistest.Start(t, "--maxmemory", "1", "--maxmemory-policy", "noeviction")
			return newClient(t, s.Addr()).Set(context.Background(), "k", "v", 0).Err()
		},
		"closed client": func(t *testing.T) error {
			c := newClient(t, shared)
			c.Close()
			return c.Ping(context.Background()).Err()
		},
		"other": func(*testing.T) error { return errors.New("something") },
	}
	for want, cases := range map[bool]map[string]func(t *testing.T) error{true: permanent, false: transient} {
		for name, make := range cases {
			t.Run(fmt.Sprintf("%s/%v", name, want), func(t *testing.T) {
				err := make(t)
				if want && err == nil {
					t.Fatal("no error")
				}
				if got := redispub.IsPermanent(err); got != want {
					t.Errorf("IsPermanent(%T %v) = %v, want %v", err, err, got, want)
				}
			})
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// tlsServer listens on loopback with a fresh self-signed certificate for
// name, completes TLS handshakes and closes each connection; it returns the
// address and a pool that trusts the certificate. It stops with the test.
func tlsServer(t *testing.T, name string) (string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(wait))
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String(), roots
}

// plainServer listens on loopback and writes answer to each connection
// without TLS, then closes it. It stops with the test.
func plainServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(wait))
			_, _ = c.Write([]byte(answer))
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}
