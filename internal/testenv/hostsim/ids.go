package hostsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
)

// newGUID returns a random (version 4) GUID in the "D" format .NET prints.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newMessageID returns a GUID in the "N" format (32 hex digits), the shape the Service
// Bus SDKs use for generated message IDs.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newTraceparent returns a W3C traceparent header value like the one the host's
// HttpClient sends: version 00, random trace and span IDs, flags 00.
func newTraceparent() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-00"
}

// newKey returns a random function key shaped like the host's (base64url, 40 bytes).
func newKey() string {
	var b [40]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// freePort picks an unused loopback TCP port the way the host does
// (WorkerUtilities.GetUnusedTcpPort): listen on port 0, note the port, close.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("hostsim: picking a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("hostsim: picking a free port: %w", err)
	}
	return port, nil
}
