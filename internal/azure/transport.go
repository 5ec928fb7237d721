package azure

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the HTTP client the ARM clients share: azcore's default
// transport settings (proxy from the environment, 30 s dial and keep-alive,
// HTTP/2 when the server offers it with its health-check pings, TLS 1.2 or
// later, the same timeouts), except that it keeps at least maxConns idle
// connections per host. azcore's default keeps 10: a sweep running 64 requests
// at once over HTTP/1.1 would otherwise close 54 connections after every
// round and open them again, a TLS handshake each. It also holds at most that
// many connections per host: a request finding them all busy waits for one
// instead of dialing (Go's transport would otherwise dial while a finished
// request's connection is on its way back to the pool), so the process opens
// no more than maxConns connections to ARM; with HTTP/2 they multiplex.
func NewHTTPClient(maxConns int) *http.Client {
	perHost := max(maxConns, 10)
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, perHost),
		MaxIdleConnsPerHost:   perHost,
		MaxConnsPerHost:       perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		TLSClientConfig: &tls.Config{
			MinVersion:    tls.VersionTLS12,
			Renegotiation: tls.RenegotiateFreelyAsClient,
		},
	}
	// azcore's health check of HTTP/2 connections: a ping after 10 s idle,
	// closed when unanswered for 5 s.
	t.HTTP2 = &http.HTTP2Config{SendPingTimeout: 10 * time.Second, PingTimeout: 5 * time.Second}
	return &http.Client{Transport: t}
}
