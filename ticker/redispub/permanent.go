package redispub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// IsPermanent reports whether err, from Publish or from any call of a
// go-redis client, is one that retrying will not heal, so that a host can
// stop at start and name the cause rather than wait for an outage to end:
//
//   - authentication refused: WRONGPASS, NOAUTH (a password is needed), or
//     AUTH with a password the server does not have;
//   - NOPERM: the ACL user may not run the command;
//   - a database index out of range (redis://host/99 on 16 databases);
//   - a command the server does not know (SPUBLISH before Redis 7);
//   - a host name that does not resolve (DNS "no such host");
//   - TLS that cannot succeed: a certificate for another name, from an
//     unknown authority or otherwise invalid, or a server that does not
//     speak TLS at all.
//
// Anything else, a refused connection, a timeout, OOM, LOADING or a closed
// connection among them, may heal and is not permanent. It looks through
// wrapping, so a *PublishError is judged by its cause. A change of server
// configuration can still fix a "permanent" error; what it means is that
// the same call will fail the same way until someone acts.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if redis.IsAuthError(err) || redis.IsPermissionError(err) {
		return true
	}
	var re redis.Error
	if errors.As(err, &re) {
		return permanentReply(re.Error())
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsNotFound
	}
	var (
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		header  tls.RecordHeaderError
	)
	return errors.As(err, &host) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &header)
}

// permanentReply reports whether a Redis error reply will repeat.
func permanentReply(msg string) bool {
	for _, prefix := range []string{
		"WRONGPASS", "NOAUTH", "NOPERM",
		"ERR DB index is out of range", "ERR invalid DB index",
		"ERR unknown command",
		"ERR AUTH <password> called without any password configured",
		"ERR Client sent AUTH, but no password is set",
		"ERR invalid password",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
